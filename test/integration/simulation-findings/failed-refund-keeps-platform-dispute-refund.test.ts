// Found by the simulation (seed 1279; invariant I1): the booking platform resolved a dispute with a
// partial refund of 78.49 on a 160.00 share, so 81.51 was transferred. Then a Stripe refund of the
// whole charge came (pending): it takes the provider's whole portion, but only the 81.51 that was
// transferred was left to reverse ("reversal capped"). The refund then failed, and its step down
// of 160.00 gave back 160.00: the unsent reversal of 81.51 was cancelled and the other 78.49, never
// taken by that refund, was repaid. The platform's refund was undone, and the provider held 160.00
// where the rules owe 81.51. A failed refund now gives back only what the losses together stop
// taking: min(share + tips, losses before) − min(share + tips, losses after).
import { expect, it } from "vitest";

import { db } from "@/lib/db";
import { addTip } from "@/lib/tips/add-tip";

import { sendBookingEvent } from "../../support/booking-webhook";
import { HOUR, payoutOf, transferEvent } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { appEngineHarness, sendProcessed } from "../../support/stripe-webhook";

const h = appEngineHarness();

/** The booking platform opens and resolves a dispute on the booking with a partial refund, through its webhook. */
async function platformDisputeRefunds(bookingId: string, refundedAmount: number): Promise<void> {
  const booking = await db.booking.findUniqueOrThrow({ where: { id: bookingId } });
  const disputeId = `dsp_${bookingId.slice(0, 8)}`;
  const at = h.clock.now().toISOString();
  const opened = {
    id: `evt_${disputeId}_opened`,
    type: "dispute.opened",
    createdAt: at,
    data: { disputeId, bookingId: booking.externalId, reason: "service not as described", openedAt: at, scope: "both" },
  };
  expect(await sendBookingEvent(opened)).toEqual({ status: 200, body: { received: true } });
  const resolved = {
    id: `evt_${disputeId}_resolved`,
    type: "dispute.resolved",
    createdAt: at,
    data: { disputeId, bookingId: booking.externalId, resolvedAt: at, outcome: "partial", refundedAmount },
  };
  expect(await sendBookingEvent(resolved)).toEqual({ status: 200, body: { received: true } });
}

/** What the fake Stripe holds for the payout: transferred (payouts and repayments) less reversed. */
function netAtStripe(payoutId: string): number {
  const transfers = h.transfersFor(payoutId);
  const reversed = h.fake.reversals().filter((r) => transfers.some((t) => t.id === r.transfer));
  return transfers.reduce((sum, t) => sum + t.amount, 0) - reversed.reduce((sum, r) => sum + r.amount, 0);
}

it("a full Stripe refund that fails after the platform's partial dispute refund gives back only what it took (reversal not sent yet)", async () => {
  const charge = h.fake.createCharge({ amount: 16_000, currency: "usd" });
  const { bookingId } = await h.completeBooking({ providerShare: 16_000, stripeChargeId: charge.id });
  await platformDisputeRefunds(bookingId, 7_849);
  h.clock.advance(48 * HOUR + 1);
  const payout = await payoutOf(bookingId);
  expect(payout).toMatchObject({ refundedAmount: 7_849, amount: 8_151 });
  expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });

  // The whole charge is refunded (pending): only the 81.51 transferred is left to reverse.
  const refund = h.fake.refundCharge(charge.id, { amount: 16_000, status: "pending" });
  await sendProcessed(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
  expect(await db.transferReversal.findMany({ where: { payoutId: payout.id } })).toMatchObject([
    { amount: 8_151, status: "pending", sentAt: null },
  ]);

  // It fails before the reversal is sent: cancelling that reversal gives back all the refund took.
  await sendProcessed(
    stripeEvent({ type: "refund.failed", object: h.fake.setRefundStatus(refund.id, "failed", "expired_or_canceled_card") }),
  );

  expect(await db.transferReversal.findMany({ where: { payoutId: payout.id } })).toMatchObject([{ amount: 8_151, status: "canceled" }]);
  expect(await db.payoutTransfer.count({ where: { payoutId: payout.id, kind: "repayment" } })).toBe(0);
  expect(await payoutOf(bookingId)).toMatchObject({
    status: "transferred",
    refundedAmount: 7_849,
    amount: 8_151,
    reversedAmount: 0,
    repaidAmount: 0,
  });
  expect(netAtStripe(payout.id)).toBe(16_000 - 7_849);
  // The part of the step down the refund never took is said, in the same transaction.
  expect(
    await db.auditLog.findMany({ where: { entityId: payout.id, action: "payout.give_back_capped" }, select: { after: true } }),
  ).toEqual([{ after: { chargeRefundId: expect.any(String), stepDown: 16_000, givenBack: 8_151, notGivenBack: 7_849 } }]);
});

it("a refund that fails after its capped reversal was made repays only what the reversal took, not the platform's refund nor an earlier refund that stands", async () => {
  // The seed's whole history: 160.00 share, a 17.00 tip with no charge, a Stripe refund of 54.27
  // that succeeds and the platform's 78.49 before the transfer (44.24 transferred); then a refund
  // of the rest of the charge (105.73), reversed (44.24, all that is left), fails.
  const charge = h.fake.createCharge({ amount: 16_000, currency: "usd" });
  const { bookingId } = await h.completeBooking({ providerShare: 16_000, stripeChargeId: charge.id });
  await addTip(h.ctx(), {
    tipExternalId: `tip_${bookingId.slice(0, 8)}`,
    bookingId,
    amount: 1_700,
    currency: "USD",
    tippedAt: h.clock.now(),
  });
  h.fake.refundCharge(charge.id, { amount: 5_427 });
  await sendProcessed(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
  await platformDisputeRefunds(bookingId, 7_849);
  h.clock.advance(48 * HOUR + 1);
  const payout = await payoutOf(bookingId);
  expect(payout).toMatchObject({ tipAmount: 1_700, refundedAmount: 5_427 + 7_849, amount: 4_424 });
  expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });

  const refund = h.fake.refundCharge(charge.id, { amount: 10_573, status: "pending" });
  await sendProcessed(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
  const reversal = await db.transferReversal.findFirstOrThrow({ where: { payoutId: payout.id } });
  expect(reversal.amount).toBe(4_424);
  await h.run("reverse", { name: "payout/reversal.requested", data: { reversalId: reversal.id, payoutId: payout.id } });
  expect(await payoutOf(bookingId)).toMatchObject({ status: "reversed", reversedAmount: 4_424 });

  await sendProcessed(
    stripeEvent({ type: "refund.failed", object: h.fake.setRefundStatus(refund.id, "failed", "expired_or_canceled_card") }),
  );
  const repayment = await db.payoutTransfer.findFirstOrThrow({ where: { payoutId: payout.id, kind: "repayment" } });
  expect(repayment.payoutAmount).toBe(4_424);
  expect(
    (await h.run("repay", { name: "payout/repayment.requested", data: { repaymentId: repayment.id, payoutId: payout.id } })).result,
  ).toMatchObject({ kind: "repaid", amount: 4_424 });

  // Owed: 160.00 + 17.00 − 54.27 (the refund that stands) − 78.49 (the platform's) = 44.24.
  expect(netAtStripe(payout.id)).toBe(4_424);
  expect(await payoutOf(bookingId)).toMatchObject({
    status: "transferred",
    refundedAmount: 5_427 + 7_849,
    amount: 4_424,
    reversedAmount: 4_424,
    repaidAmount: 4_424,
  });
});
