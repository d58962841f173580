// Seed 20065 (I1): a Stripe refund of the whole charge (pending) took all of a payout, which was
// cancelled as "fully refunded" once the tip window closed. Then the booking was cancelled, and
// then the refund failed. A payout closed by refunds follows them (a failed refund gives back what
// it took, and with something to pay again it is reopened), but only while its booking stands: with
// the booking cancelled, nothing was written, and the payout said "fully refunded" with nothing
// refunded. It now stays cancelled, for the booking, with what the refunds take given back
// (audited), and is never reopened.
import { randomUUID } from "node:crypto";

import { expect, it } from "vitest";

import { db } from "@/lib/db";
import { sweepPayouts } from "@/lib/payouts/sweep-payouts";

import { sendBookingEvent } from "../../support/booking-webhook";
import { HOUR, payoutOf, transferEvent } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { appEngineHarness, sendProcessed } from "../../support/stripe-webhook";

const h = appEngineHarness();

async function cancelBooking(bookingId: string) {
  const booking = await db.booking.findUniqueOrThrow({ where: { id: bookingId } });
  const at = h.clock.now().toISOString();
  const event = {
    id: `evt_${randomUUID()}`,
    type: "booking.cancelled",
    createdAt: at,
    data: { bookingId: booking.externalId, cancelledAt: at, reason: "customer cancelled" },
  };
  expect((await sendBookingEvent(event)).status).toBe(200);
  expect(await db.webhookEvent.findFirstOrThrow({ where: { externalId: event.id } })).toMatchObject({ status: "processed" });
}

async function fullyRefundedByAPendingRefund() {
  const charge = h.fake.createCharge({ amount: 3_899, currency: "usd" });
  const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 3_899, stripeChargeId: charge.id });
  const refund = h.fake.refundCharge(charge.id, { amount: 3_899, status: "pending" });
  await sendProcessed(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
  expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 3_899, amount: 0 });
  // Due and past the tip window: the sweep closes it.
  h.clock.advance(49 * HOUR);
  await sweepPayouts(h.ctx(), h.stripe);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "cancelled", cancelReason: "fully refunded", amount: 0 });
  return { bookingId, refund };
}

const refundFails = (refundId: string) =>
  sendProcessed(stripeEvent({ type: "refund.failed", object: h.fake.setRefundStatus(refundId, "failed", "expired_or_canceled_card") }));

it("a refund that fails after the booking was cancelled leaves the payout cancelled for the booking, with nothing refunded", async () => {
  const { bookingId, refund } = await fullyRefundedByAPendingRefund();
  await cancelBooking(bookingId);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "cancelled", cancelReason: "fully refunded" });

  await refundFails(refund.id);
  const payout = await payoutOf(bookingId);
  expect(payout).toMatchObject({ status: "cancelled", cancelReason: "booking cancelled", refundedAmount: 0, amount: 3_899 });
  const adjusted = await db.auditLog.findFirstOrThrow({
    where: { entityId: payout.id, action: "payout.amount_adjusted" },
    orderBy: { createdAt: "desc" },
  });
  expect(adjusted.reason).toMatch(/it stays cancelled: the booking was cancelled/);
  expect(await db.auditLog.count({ where: { entityId: payout.id, action: "payout.reopened" } })).toBe(0);

  // Nothing is ever sent for it.
  h.clock.advance(24 * HOUR);
  await sweepPayouts(h.ctx(), h.stripe);
  await h.run("transfer", transferEvent(payout.id));
  expect(h.transfersFor(payout.id)).toHaveLength(0);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "cancelled", cancelReason: "booking cancelled" });
});

it("a refund that fails while the booking stands reopens the payout, as before", async () => {
  const { bookingId, refund } = await fullyRefundedByAPendingRefund();
  await refundFails(refund.id);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", cancelReason: null, refundedAmount: 0, amount: 3_899 });
});
