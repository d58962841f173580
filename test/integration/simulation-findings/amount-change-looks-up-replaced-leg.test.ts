// Found while analysing a simulation failure: a payout's transfer (leg 1 of amount version 1) gets
// a 500 from Stripe, which may or may not have made it; neither the look-up at once nor the sweep's
// an hour later shows it, so the payout is put back. Then its amount changes (a tip joins, a refund
// lowers it) and the plan was made anew at the claim: the old leg was superseded without asking
// Stripe again, and the new plan reused leg number 1, so the transfer Stripe had made for version 1
// was recorded as version 2's leg: a payout "transferred" for $40.00 with $80.00 at Stripe, or for
// $87.00 with $80.00 at Stripe.
//
// Now a stale leg is looked up at Stripe before the plan changes (and the plan waits while Stripe
// cannot be asked); one Stripe made is recorded as what it was (its version, its amount) and only
// the difference is planned, under new leg numbers and keys: a top-up, or, when more was paid than
// is owed, the hold for review of an overpaid plan. (How a look-up matches a leg, and what happens
// to a transfer no leg explains: transfer-lookup-matches-amount-version-never-ignores-strays.test.ts.)
import { beforeEach, describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { replaceStaleLegs } from "@/lib/payouts/replace-stale-legs";
import { applyChargeRefund } from "@/lib/refunds/apply-charge-refund";

import { payoutOf, transferEvent, engineHarness } from "../../support/engine";
import { legsOf, putBackAfterUnknownOutcome, putBackThenTipped, stripeMadeVersion1, transferPosts } from "../../support/unknown-outcome";

const h = engineHarness();

beforeEach(() => {
  h.fake.clearFaults();
});

describe("an amount change after a transfer whose outcome was unknown", () => {
  it("a refund: the version-1 transfer Stripe made is recorded as such, nothing more is sent, and the overpaid payout is held for a person", async () => {
    const ctx = await putBackAfterUnknownOutcome(h);
    await applyChargeRefund(h.ctx(), {
      stripeChargeId: ctx.charge.id,
      currency: "usd",
      chargeAmount: 10_000,
      refundedTotal: 5_000,
      refundedAt: h.clock.now(),
    });
    expect(await payoutOf(ctx.payout.bookingId)).toMatchObject({ status: "scheduled", amount: 4_000, amountVersion: 2 });
    const made = await stripeMadeVersion1(h, ctx);

    await h.run("transfer", transferEvent(ctx.payout.id));

    expect(h.transfersFor(ctx.payout.id).map((t) => t.id)).toEqual([made.id]);
    expect(await legsOf(ctx.payout.id)).toEqual([
      {
        leg: 1,
        amountVersion: 1,
        amount: 8_000,
        status: "succeeded",
        stripeTransferId: made.id,
        idempotencyKey: `payout:${ctx.payout.id}:v1`,
      },
    ]);
    // $80.00 moved for a payout that now owes $40.00: not "transferred", held for a person.
    expect(await payoutOf(ctx.payout.bookingId)).toMatchObject({
      status: "on_hold",
      holdReason: "review_required",
      stripeTransferId: null,
    });
    expect(await db.alert.count({ where: { payoutId: ctx.payout.id, kind: "payout_transfer_review" } })).toBe(1);
  });

  it("a tip: the version-1 transfer is recorded as such and only the tip is sent, as a new leg under a new key", async () => {
    const ctx = await putBackThenTipped(h, 700);
    const made = await stripeMadeVersion1(h, ctx);

    await h.run("transfer", transferEvent(ctx.payout.id));

    const transfers = h.transfersFor(ctx.payout.id);
    expect(transfers.map((t) => [t.amount, t.metadata.amountVersion, t.metadata.leg]).sort()).toEqual([
      [700, "2", "2"],
      [8_000, "1", "1"],
    ]);
    const topUp = transfers.find((t) => t.id !== made.id)!;
    expect(await legsOf(ctx.payout.id)).toEqual([
      {
        leg: 1,
        amountVersion: 1,
        amount: 8_000,
        status: "succeeded",
        stripeTransferId: made.id,
        idempotencyKey: `payout:${ctx.payout.id}:v1`,
      },
      {
        leg: 2,
        amountVersion: 2,
        amount: 700,
        status: "succeeded",
        stripeTransferId: topUp.id,
        idempotencyKey: `payout:${ctx.payout.id}:v2:l2`,
      },
    ]);
    expect(await payoutOf(ctx.payout.bookingId)).toMatchObject({ status: "transferred", amount: 8_700, stripeTransferId: made.id });
    expect(await db.alert.count({ where: { payoutId: ctx.payout.id, severity: "critical" } })).toBe(0);
  });

  it("while Stripe cannot be asked about the old leg, the plan is not changed and nothing is sent; once it can, the old leg is replaced", async () => {
    const ctx = await putBackThenTipped(h, 700);
    h.fake.failNext({ method: "GET", path: "/v1/transfers" }, { kind: "status", status: 500 }, 3);
    const blocked = await h.run("transfer", transferEvent(ctx.payout.id), { runId: "run_lookup_down" });
    expect(blocked.error).toBeDefined();
    expect(transferPosts(h, ctx.payout.id)).toHaveLength(0);
    expect(await payoutOf(ctx.payout.bookingId)).toMatchObject({ status: "scheduled", amountVersion: 2, attempts: 1 });
    expect(await legsOf(ctx.payout.id)).toMatchObject([{ leg: 1, amountVersion: 1, status: "pending" }]);

    // Stripe answers again, and has no transfer for version 1: it is replaced by version 2's plan.
    h.fake.clearFaults();
    await h.run("transfer", transferEvent(ctx.payout.id));
    const transfers = h.transfersFor(ctx.payout.id);
    expect(transfers.map((t) => [t.amount, t.metadata.amountVersion, t.metadata.leg])).toEqual([[8_700, "2", "2"]]);
    expect(await legsOf(ctx.payout.id)).toMatchObject([
      { leg: 1, amountVersion: 1, status: "superseded", stripeTransferId: null },
      { leg: 2, amountVersion: 2, amount: 8_700, status: "succeeded", stripeTransferId: transfers[0]!.id },
    ]);
    expect(await payoutOf(ctx.payout.bookingId)).toMatchObject({ status: "transferred", stripeTransferId: transfers[0]!.id });
    expect(await db.auditLog.count({ where: { entityId: ctx.payout.id, action: "payout.transfers_replaced" } })).toBe(1);
  });

  it("one Stripe made for a leg after the look-up replaced it is recorded on that leg, and the payout held before more is sent", async () => {
    const ctx = await putBackThenTipped(h, 700);
    // The look-up before re-planning finds nothing: version 1's leg is replaced.
    expect(await replaceStaleLegs(h.ctx(), h.stripe, { payoutId: ctx.payout.id })).toBeNull();
    expect(await legsOf(ctx.payout.id)).toMatchObject([{ leg: 1, amountVersion: 1, status: "superseded" }]);
    // Only then does Stripe show the transfer attempt 1 asked for.
    const late = await stripeMadeVersion1(h, ctx);

    await h.run("transfer", transferEvent(ctx.payout.id));

    expect(h.transfersFor(ctx.payout.id).map((t) => t.id)).toEqual([late.id]);
    expect(await legsOf(ctx.payout.id)).toMatchObject([
      { leg: 1, amountVersion: 1, amount: 8_000, status: "succeeded", stripeTransferId: late.id },
      { leg: 2, amountVersion: 2, amount: 8_700, status: "pending", stripeTransferId: null },
    ]);
    expect(await payoutOf(ctx.payout.bookingId)).toMatchObject({ status: "on_hold", holdReason: "review_required" });
    const alerts = await db.alert.findMany({ where: { payoutId: ctx.payout.id, kind: "unexpected_transfer" } });
    expect(alerts.map((a) => a.message)).toEqual([expect.stringContaining(late.id)]);
  });
});
