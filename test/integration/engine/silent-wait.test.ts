// Review: a payout that can never be transferred must not wait forever without anyone being told.
// Stripe refusing to describe the booking's charge (a restricted live key without read access to
// charges answers 403 every time) is not a passing outage: the payout is never paid.
import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";

import { HOUR, payoutOf, transferEvent, engineHarness } from "../../support/engine";

const h = engineHarness();

describe("a charge Stripe refuses to describe", () => {
  it("keeps the payout from being paid, and an admin is alerted (once) instead of it being retried in silence", async () => {
    const charge = h.fake.createCharge({
      amount: 10_000,
      currency: "usd",
      availableOn: new Date(Math.floor(h.clock.now().getTime() / 1000) * 1000),
    });
    const { bookingId } = await h.completeBooking({ providerReady: true, stripeChargeId: charge.id, providerShare: 8_000 });
    h.clock.advance(48 * HOUR + 1000);
    const payout = await payoutOf(bookingId);

    // Every read of the charge is refused: the key may not read charges.
    h.fake.failNext(
      { method: "GET", path: `/v1/charges/${charge.id}` },
      {
        kind: "error",
        status: 403,
        type: "invalid_request_error",
        message: "The provided key 'rk_live_…' does not have the required permissions for this endpoint.",
      },
      1_000,
    );
    // A day of runs and sweeps: every one is refused the same way.
    for (let i = 0; i < 8; i++) {
      await h.run("transfer", transferEvent(payout.id));
      h.clock.advance(3 * HOUR);
      await h.run("reconcile", null);
    }

    expect(h.transfersFor(payout.id)).toHaveLength(0);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", stripeTransferId: null });
    // The payout is not paid and will not be: someone must be told.
    const alerts = await db.alert.findMany({ where: { payoutId: payout.id } });
    expect(alerts.map((a) => a.kind)).toEqual(["charge_lookup_refused"]);
    expect(alerts[0]!.message).toContain(charge.id);
  });
});

describe("a transfer Stripe keeps turning away", () => {
  it("is retried without spending attempts, but not in silence for ever: an admin is alerted once", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000 });
    h.clock.advance(48 * HOUR + 1000);
    const payout = await payoutOf(bookingId);

    // Every transfer is answered 503 with Stripe-Should-Retry: true, which does not count.
    h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "status", status: 503, shouldRetry: true }, 10_000);
    // Six cycles: a run and its 10 Inngest retries, then the sweep settles it an hour later and requests it again.
    for (let cycle = 0; cycle < 6; cycle++) {
      const runId = `run_turned_away_${cycle}`;
      for (let retry = 0; retry <= 10; retry++) {
        const run = await h.run("transfer", transferEvent(payout.id), { runId });
        expect(run.error).toMatchObject({ name: "RetryAfterError" });
      }
      h.clock.advance(HOUR + 60_000);
      await h.run("reconcile", null);
      expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", attempts: 0 });
    }

    expect(h.transfersFor(payout.id)).toHaveLength(0);
    expect(await db.transferAttempt.count({ where: { payoutId: payout.id, counted: false } })).toBe(66);
    // Stripe may keep doing this for ever: the payout is not paid, someone must know.
    const alerts = await db.alert.findMany({ where: { payoutId: payout.id } });
    expect(alerts.map((a) => a.kind)).toEqual(["transfer_turned_away"]);
  });
});
