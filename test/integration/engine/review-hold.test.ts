// Review: a Stripe money event that matched a booking but could not be applied holds its payout
// for review, but only a `scheduled` one. A payout already on hold (waiting for funds, or for a
// dispute) kept its old reason, and the sweep released it when that reason went away: it was
// transferred in full while the refund a person had to review was never taken.
import { beforeEach, describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { applyChargeRefund } from "@/lib/refunds/apply-charge-refund";

import { HOUR, payoutOf, transferEvent, engineHarness } from "../../support/engine";

const DAY = 24 * HOUR;

const h = engineHarness();

beforeEach(() => {
  h.fake.setBalance("usd", 0);
});

describe("a refund needing review on a payout waiting for funds", () => {
  it("keeps the payout held for review: the funds coming in do not release it and nothing more is transferred", async () => {
    const availableOn = new Date(Math.floor((h.clock.now().getTime() + 4 * DAY) / 1000) * 1000);
    const charge = h.fake.createCharge({ amount: 5_000, currency: "usd", availableOn });
    const { bookingId } = await h.completeBooking({ providerReady: true, stripeChargeId: charge.id, providerShare: 8_000 });
    h.clock.advance(48 * HOUR + 1000);
    const payout = await payoutOf(bookingId);
    const run = await h.run("transfer", transferEvent(payout.id));
    expect(run.result).toMatchObject({ kind: "waiting_for_funds" });
    expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([5_000]);

    // Stripe reports a refund on the booking's charge that cannot be applied as it is (another currency).
    const refund = await applyChargeRefund(h.ctx(), {
      stripeChargeId: charge.id,
      currency: "eur",
      chargeAmount: 5_000,
      refundedTotal: 4_000,
      refundedAt: h.clock.now(),
    });
    expect(refund).toMatchObject({ kind: "needs_review" });
    expect(await db.alert.count({ where: { payoutId: payout.id, kind: "stripe_refund_unapplied" } })).toBe(1);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "review_required" });

    // The funds come: the payout stays held for the review, and nothing more leaves.
    h.clock.set(new Date(availableOn.getTime() + 60_000));
    h.fake.setBalance("usd", 50_000);
    await h.run("reconcile", null);
    await h.run("transfer", transferEvent(payout.id));
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "review_required" });
    expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([5_000]);
  });
});
