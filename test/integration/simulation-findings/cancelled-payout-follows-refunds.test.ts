// Seed 20065 (I1): a pending Stripe refund of the whole charge took all of a payout, which was
// cancelled as "fully refunded" once the tip window closed; then the booking was cancelled, then
// the refund failed. Nothing was written: the payout said "fully refunded" with nothing refunded.
// The wider rule found behind it (order seeds with cancellations, and the oracle's check that a
// cancelled payout says what the rules owe): a cancelled payout follows its booking's refunds and
// tips whatever closed it (the booking, refunds, an admin) and in whichever order the facts arrive.
// Only one closed by refunds is ever reopened, and never once its booking is cancelled.
import { randomUUID } from "node:crypto";

import { expect, it } from "vitest";

import { db } from "@/lib/db";
import { cancelPayout } from "@/lib/payouts/cancel-payout";
import { sweepPayouts } from "@/lib/payouts/sweep-payouts";
import { addTip } from "@/lib/tips/add-tip";

import { afterTransferWorld } from "../../support/after-transfer";
import { cancelBookingByWebhook } from "../../support/booking-webhook";
import { ADMIN_ACTOR, HOUR, payoutOf, transferEvent } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { appEngineHarness, sendProcessed } from "../../support/stripe-webhook";

const MINUTE = 60_000;

const h = appEngineHarness();

const cancelBooking = (bookingId: string, cancelledAt = h.clock.now()) => cancelBookingByWebhook(bookingId, cancelledAt);

async function bookingPaidBy(amount: number) {
  const charge = h.fake.createCharge({ amount, currency: "usd" });
  const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: amount, stripeChargeId: charge.id });
  return { bookingId, chargeId: charge.id };
}

const { refundCharge: refund, refundFails } = afterTransferWorld(h);

async function closedAsFullyRefunded(bookingId: string) {
  // Due and past the tip window: the sweep closes it.
  h.clock.advance(49 * HOUR);
  await sweepPayouts(h.ctx(), h.stripe);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "cancelled", cancelReason: "fully refunded", amount: 0 });
}

const auditActions = async (payoutId: string) =>
  (await db.auditLog.findMany({ where: { entityId: payoutId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] })).map((a) => a.action);

async function neverSent(payoutId: string) {
  h.clock.advance(24 * HOUR);
  await sweepPayouts(h.ctx(), h.stripe);
  await h.run("transfer", transferEvent(payoutId));
  expect(h.transfersFor(payoutId)).toHaveLength(0);
}

it("seed 20065: a refund that fails after the booking was cancelled is given back; the payout stays cancelled, for the booking", async () => {
  const { bookingId, chargeId } = await bookingPaidBy(3_899);
  const pending = await refund(chargeId, 3_899, "pending");
  await closedAsFullyRefunded(bookingId);

  await cancelBooking(bookingId);
  // The booking's cancellation is why it stays closed now, whatever refunds do next.
  const cancelled = await payoutOf(bookingId);
  expect(cancelled).toMatchObject({ status: "cancelled", cancelReason: "booking cancelled", refundedAmount: 3_899, amount: 0 });
  const changed = await db.auditLog.findFirstOrThrow({ where: { entityId: cancelled.id, action: "payout.cancel_reason_changed" } });
  expect(changed).toMatchObject({ reason: "customer cancelled" });
  expect(changed.after).toMatchObject({ status: "cancelled", previousCancelReason: "fully refunded", cancelReason: "booking cancelled" });

  await refundFails(pending.id);
  const payout = await payoutOf(bookingId);
  expect(payout).toMatchObject({ status: "cancelled", cancelReason: "booking cancelled", refundedAmount: 0, amount: 3_899 });
  expect(await auditActions(payout.id)).not.toContain("payout.reopened");
  expect((await auditActions(payout.id)).at(-1)).toBe("payout.amount_adjusted");
  await neverSent(payout.id);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "cancelled", cancelReason: "booking cancelled", amount: 3_899 });
});

it("two refunds failing one after the other after the cancellation are both given back", async () => {
  const { bookingId, chargeId } = await bookingPaidBy(5_000);
  const first = await refund(chargeId, 3_000, "pending");
  const second = await refund(chargeId, 2_000, "pending");
  await closedAsFullyRefunded(bookingId);
  await cancelBooking(bookingId);
  const adjustedBefore = (await auditActions((await payoutOf(bookingId)).id)).filter((a) => a === "payout.amount_adjusted").length;

  await refundFails(first.id);
  expect(await payoutOf(bookingId)).toMatchObject({
    status: "cancelled",
    cancelReason: "booking cancelled",
    refundedAmount: 2_000,
    amount: 3_000,
  });
  await refundFails(second.id);
  const payout = await payoutOf(bookingId);
  expect(payout).toMatchObject({ status: "cancelled", cancelReason: "booking cancelled", refundedAmount: 0, amount: 5_000 });
  expect((await auditActions(payout.id)).filter((a) => a === "payout.amount_adjusted")).toHaveLength(adjustedBefore + 2);
  await neverSent(payout.id);
});

it("the booking cancelled before or after a refund: the payout ends the same", async () => {
  const refundFirst = await bookingPaidBy(3_899);
  await refund(refundFirst.chargeId, 1_000);
  await cancelBooking(refundFirst.bookingId);

  const cancelFirst = await bookingPaidBy(3_899);
  await cancelBooking(cancelFirst.bookingId);
  expect(await payoutOf(cancelFirst.bookingId)).toMatchObject({ status: "cancelled", refundedAmount: 0, amount: 3_899 });
  await refund(cancelFirst.chargeId, 1_000);

  const end = { status: "cancelled", cancelReason: "booking cancelled", refundedAmount: 1_000, amount: 2_899 };
  expect(await payoutOf(refundFirst.bookingId)).toMatchObject(end);
  expect(await payoutOf(cancelFirst.bookingId)).toMatchObject(end);
  // The refund is applied once: a second delivery of the same charge changes nothing.
  await sendProcessed(stripeEvent({ type: "charge.refunded", object: h.fake.charge(cancelFirst.chargeId) }));
  expect(await payoutOf(cancelFirst.bookingId)).toMatchObject(end);
});

it("a payout an admin cancelled follows a later refund, keeps the admin's reason and is never reopened", async () => {
  const { bookingId, chargeId } = await bookingPaidBy(4_000);
  const admin = await db.adminUser.create({
    data: { email: `ada-${randomUUID()}@payouts.test`, name: "Ada Admin", role: "admin", passwordHash: "x" },
  });
  await cancelPayout(h.ctx(ADMIN_ACTOR(admin.id)), { payoutId: (await payoutOf(bookingId)).id, reason: "Booking was fraudulent" });
  const pending = await refund(chargeId, 4_000, "pending");
  expect(await payoutOf(bookingId)).toMatchObject({
    status: "cancelled",
    cancelReason: "Booking was fraudulent",
    refundedAmount: 4_000,
    amount: 0,
  });
  await refundFails(pending.id);
  const payout = await payoutOf(bookingId);
  expect(payout).toMatchObject({ status: "cancelled", cancelReason: "Booking was fraudulent", refundedAmount: 0, amount: 4_000 });
  expect(await auditActions(payout.id)).not.toContain("payout.reopened");
  await neverSent(payout.id);
});

it("a refund that fails while the booking stands reopens the payout closed by refunds, as before", async () => {
  const { bookingId, chargeId } = await bookingPaidBy(3_899);
  const pending = await refund(chargeId, 3_899, "pending");
  await closedAsFullyRefunded(bookingId);
  await refundFails(pending.id);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", cancelReason: null, refundedAmount: 0, amount: 3_899 });
});

async function tipWithItsOwnCharge(bookingId: string, amount: number, tippedAt: Date) {
  const charge = h.fake.createCharge({ amount, currency: "usd" });
  const { tip } = await addTip(h.ctx(), {
    tipExternalId: `tip_${randomUUID()}`,
    bookingId,
    amount,
    currency: "USD",
    tippedAt,
    stripeChargeId: charge.id,
  });
  return { tip, chargeId: charge.id };
}

it("a tip tipped after the cancellation counts in neither order, nor does the refund of its charge", async () => {
  const cancelledAt = new Date(h.clock.now().getTime() + 30 * MINUTE);
  const tippedAt = new Date(h.clock.now().getTime() + 40 * MINUTE);
  h.clock.advance(HOUR);

  // The tip and the refund of its charge arrive first: accepted and counted, then taken back.
  const tipFirst = await bookingPaidBy(5_000);
  const early = await tipWithItsOwnCharge(tipFirst.bookingId, 400, tippedAt);
  expect(early.tip).toMatchObject({ status: "accepted" });
  await refund(early.chargeId, 400);
  expect(await payoutOf(tipFirst.bookingId)).toMatchObject({ tipAmount: 400, refundedAmount: 400, amount: 5_000 });
  await cancelBooking(tipFirst.bookingId, cancelledAt);
  expect(await db.tip.findUniqueOrThrow({ where: { id: early.tip.id } })).toMatchObject({
    status: "rejected",
    rejectionReason: "the booking was cancelled",
    payoutId: null,
  });
  const rejected = await db.auditLog.findFirstOrThrow({ where: { entityId: early.tip.id, action: "tip.rejected" } });
  expect(rejected).toMatchObject({ reason: "the booking was cancelled" });

  // The cancellation first: the tip is rejected when it arrives, its charge's refund takes nothing.
  const cancelFirst = await bookingPaidBy(5_000);
  await cancelBooking(cancelFirst.bookingId, cancelledAt);
  const late = await tipWithItsOwnCharge(cancelFirst.bookingId, 400, tippedAt);
  expect(late.tip).toMatchObject({ status: "rejected", rejectionReason: "the booking was cancelled" });
  await refund(late.chargeId, 400);

  const end = { status: "cancelled", cancelReason: "booking cancelled", tipAmount: 0, refundedAmount: 0, amount: 5_000 };
  expect(await payoutOf(tipFirst.bookingId)).toMatchObject(end);
  expect(await payoutOf(cancelFirst.bookingId)).toMatchObject(end);
});

it("a tip tipped before the cancellation counts in either order (nothing is paid for a cancelled booking)", async () => {
  const tippedAt = new Date(h.clock.now().getTime() + 10 * MINUTE);
  const cancelledAt = new Date(h.clock.now().getTime() + 20 * MINUTE);
  h.clock.advance(HOUR);

  const tipFirst = await bookingPaidBy(5_000);
  await tipWithItsOwnCharge(tipFirst.bookingId, 700, tippedAt);
  await cancelBooking(tipFirst.bookingId, cancelledAt);

  const cancelFirst = await bookingPaidBy(5_000);
  await cancelBooking(cancelFirst.bookingId, cancelledAt);
  const { tip } = await tipWithItsOwnCharge(cancelFirst.bookingId, 700, tippedAt);
  expect(tip).toMatchObject({ status: "accepted" });

  const end = { status: "cancelled", cancelReason: "booking cancelled", tipAmount: 700, refundedAmount: 0, amount: 5_700 };
  expect(await payoutOf(tipFirst.bookingId)).toMatchObject(end);
  expect(await payoutOf(cancelFirst.bookingId)).toMatchObject(end);
  await neverSent((await payoutOf(cancelFirst.bookingId)).id);
});
