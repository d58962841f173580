// Found while analysing a simulation failure: a look-up at Stripe for one of a payout's transfers
// matched by payout and leg number only, so a transfer made for another amount of the payout under
// the same leg number was taken for the leg (recorded with the wrong amount), and a transfer of the
// payout that matched no leg was passed over while the plan was sent in full beside it.
//
// Now a look-up matches the transfer's amount and amount version (its metadata) as well as the
// payout and leg, and a transfer of the payout that none of its transfers explains is never
// passed over: one made for a replaced leg is recorded on it, and a person is alerted and the
// payout held (until they acknowledge the alert) before anything more is sent.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { acknowledgeAlert } from "@/lib/alerts/acknowledge-alert";
import { db } from "@/lib/db";
import { releasePayout } from "@/lib/payouts/release-payout";

import { ADMIN_ACTOR, payoutOf, startEngineHarness, transferEvent, type TEngineHarness } from "../../support/engine";
import { legsOf, putBackAfterUnknownOutcome } from "../../support/unknown-outcome";

let h: TEngineHarness;
let admin: { id: string; email: string; name: string };

beforeAll(async () => {
  h = await startEngineHarness();
  admin = await db.adminUser.create({ data: { email: "legs-admin@payouts.test", name: "Ada Admin", role: "admin", passwordHash: "x" } });
});

afterAll(async () => {
  await h.fake.stop();
});

beforeEach(() => {
  h.clock.set(new Date());
  h.fake.clearFaults();
});

describe("a transfer at Stripe for a payout that matches none of its legs", () => {
  it("is never passed over: nothing more is sent, a person is alerted and the payout held", async () => {
    const ctx = await putBackAfterUnknownOutcome(h);
    // A transfer of this payout that no leg of ours planned (another amount, another leg).
    const stray = await h.stripe.transfers.create({
      amount: 1_234,
      currency: "usd",
      destination: ctx.booking.provider.stripeAccountId!,
      transfer_group: `booking_${ctx.booking.externalId}`,
      metadata: { payoutId: ctx.payout.id, amountVersion: "1", leg: "2" },
    });

    await h.run("transfer", transferEvent(ctx.payout.id));

    expect(h.transfersFor(ctx.payout.id).map((t) => t.id)).toEqual([stray.id]);
    expect(await payoutOf(ctx.payout.bookingId)).toMatchObject({ status: "on_hold", holdReason: "review_required" });
    const alerts = await db.alert.findMany({ where: { payoutId: ctx.payout.id, kind: "unexpected_transfer" } });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.message).toContain(stray.id);

    // Released without looking at the alert: held again, still nothing sent.
    await releasePayout(h.ctx(ADMIN_ACTOR(admin.id)), { payoutId: ctx.payout.id, reason: "looks fine" });
    await h.run("transfer", transferEvent(ctx.payout.id));
    expect(await payoutOf(ctx.payout.bookingId)).toMatchObject({ status: "on_hold", holdReason: "review_required" });
    expect(h.transfersFor(ctx.payout.id)).toHaveLength(1);

    // A person acknowledges the alert (they dealt with that transfer in Stripe) and releases it: the plan is paid.
    await acknowledgeAlert(db, { alertId: alerts[0]!.id }, { id: admin.id, email: admin.email, name: admin.name });
    await releasePayout(h.ctx(ADMIN_ACTOR(admin.id)), { payoutId: ctx.payout.id, reason: "stray transfer recovered in Stripe" });
    await h.run("transfer", transferEvent(ctx.payout.id));
    const paid = h.transfersFor(ctx.payout.id).find((t) => t.id !== stray.id);
    expect(paid).toMatchObject({ amount: 8_000, metadata: { amountVersion: "1", leg: "1" } });
    expect(await payoutOf(ctx.payout.bookingId)).toMatchObject({ status: "transferred", stripeTransferId: paid!.id });
  });

  it("a transfer for the leg's number but another amount version and amount is not taken for the leg", async () => {
    const ctx = await putBackAfterUnknownOutcome(h);
    // Leg 1's number, but made for another amount (version 7): not version 1's 8000.
    const other = await h.stripe.transfers.create({
      amount: 5_000,
      currency: "usd",
      destination: ctx.booking.provider.stripeAccountId!,
      transfer_group: `booking_${ctx.booking.externalId}`,
      metadata: { payoutId: ctx.payout.id, amountVersion: "7", leg: "1" },
    });

    await h.run("transfer", transferEvent(ctx.payout.id));

    expect(h.transfersFor(ctx.payout.id).map((t) => t.id)).toEqual([other.id]);
    expect(await legsOf(ctx.payout.id)).toMatchObject([
      { leg: 1, amountVersion: 1, amount: 8_000, status: "pending", stripeTransferId: null },
    ]);
    expect(await payoutOf(ctx.payout.bookingId)).toMatchObject({ status: "on_hold", holdReason: "review_required" });
    expect(await db.alert.count({ where: { payoutId: ctx.payout.id, kind: "unexpected_transfer" } })).toBe(1);
  });
});
