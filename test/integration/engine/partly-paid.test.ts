// Review: a payout part of which Stripe already transferred (one of its transfers went through,
// the next was refused for lack of funds) must never be cancelled by the facts while Stripe holds
// that transfer: a person recovers the money, and is told.
import { beforeEach, describe, expect, it } from "vitest";

import { cancelBooking } from "@/lib/bookings/cancel-booking";
import { db } from "@/lib/db";
import { openDispute } from "@/lib/disputes/open-dispute";
import { resolveDispute } from "@/lib/disputes/resolve-dispute";

import { HOUR, payoutOf, transferEvent, engineHarness } from "../../support/engine";

const DAY = 24 * HOUR;

const h = engineHarness();

beforeEach(() => {
  h.fake.setBalance("usd", 0);
});

const secondsFromNow = (ms: number) => new Date(Math.floor((h.clock.now().getTime() + ms) / 1000) * 1000);

/** 5000 of 8000 transferred from the booking's charge; the 3000 from the balance waits for funds. */
async function partlyPaidWaitingForFunds() {
  const charge = h.fake.createCharge({ amount: 5_000, currency: "usd", availableOn: secondsFromNow(4 * DAY) });
  const { bookingId } = await h.completeBooking({ providerReady: true, stripeChargeId: charge.id, providerShare: 8_000 });
  h.clock.advance(48 * HOUR + 1000);
  const payout = await payoutOf(bookingId);
  const run = await h.run("transfer", transferEvent(payout.id));
  expect(run.result).toMatchObject({ kind: "waiting_for_funds" });
  expect(h.transfersFor(payout.id)).toMatchObject([{ amount: 5_000 }]);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "awaiting_funds" });
  return { payout, bookingId, charge };
}

describe("a partly transferred payout waiting for funds", () => {
  it("is not cancelled when its booking is cancelled: Stripe holds 5000 of it, a person is alerted", async () => {
    const { payout, bookingId } = await partlyPaidWaitingForFunds();

    await cancelBooking(h.ctx(), { bookingId, cancelledAt: h.clock.now(), reason: "customer cancelled late" });

    const after = await payoutOf(bookingId);
    // Stripe holds a 5000 transfer of this payout: "cancelled" would say nothing was paid.
    expect(h.transfersFor(payout.id).reduce((sum, t) => sum + t.amount, 0)).toBe(5_000);
    expect(after.status).not.toBe("cancelled");
    const alerts = await db.alert.findMany({ where: { payoutId: payout.id, kind: "partly_paid_payout_not_cancelled" } });
    expect(alerts).toHaveLength(1);
  });

  it("is not cancelled as fully refunded when a refund takes all of it: the 5000 at Stripe is alerted instead", async () => {
    const { payout, bookingId } = await partlyPaidWaitingForFunds();

    const opened = await openDispute(h.ctx(), { bookingId, externalId: `dsp_${bookingId}`, openedAt: h.clock.now() });
    await resolveDispute(h.ctx(), {
      disputeId: opened.dispute.id,
      outcome: "customer_won",
      refundedAmount: 8_000,
      resolvedAt: h.clock.now(),
    });
    // The tip window is long over: a payout at zero would be closed as "fully refunded".
    h.clock.advance(2 * DAY);
    await h.run("reconcile", null);

    const after = await payoutOf(bookingId);
    expect(after.amount).toBe(0);
    expect(h.transfersFor(payout.id).reduce((sum, t) => sum + t.amount, 0)).toBe(5_000);
    expect(after.status).not.toBe("cancelled");
    expect(await db.alert.count({ where: { payoutId: payout.id, kind: "partly_paid_payout_not_cancelled" } })).toBe(1);
    // Nothing more is sent for it.
    expect(h.transfersFor(payout.id)).toHaveLength(1);
  });
});
