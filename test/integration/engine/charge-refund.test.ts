// Stripe refunds on a booking's charge: the provider's proportional part of the cumulative
// refunded total, taken from the payout before the transfer and reversed after it, applied
// once whatever the order and number of reports.
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { openDispute } from "@/lib/disputes/open-dispute";
import { resolveDispute } from "@/lib/disputes/resolve-dispute";
import { PayoutBusyError } from "@/lib/payouts/sync-payout-with-booking";
import { claimTransfer } from "@/lib/payouts/transfer-claim";
import { applyChargeRefund, type TApplyChargeRefundInput } from "@/lib/refunds/apply-charge-refund";
import { addTip } from "@/lib/tips/add-tip";

import { HOUR, payoutOf, engineHarness } from "../../support/engine";

const h = engineHarness();

const chargeId = () => `ch_${randomUUID().replaceAll("-", "").slice(0, 24)}`;

function refund(stripeChargeId: string, refundedTotal: number, overrides: Partial<TApplyChargeRefundInput> = {}) {
  return applyChargeRefund(h.ctx(), {
    stripeChargeId,
    currency: "usd",
    chargeAmount: 10_000,
    refundedTotal,
    refundedAt: h.clock.now(),
    ...overrides,
  });
}

async function transferred(bookingId: string) {
  h.clock.advance(48 * HOUR + 1);
  const payout = await payoutOf(bookingId);
  const run = await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "test" } });
  expect(run.result).toMatchObject({ kind: "transferred" });
  return payoutOf(bookingId);
}

describe("before the transfer", () => {
  it("takes the provider's proportional part (rounded down) of each increase of the cumulative refunded total", async () => {
    const charge = chargeId();
    // The customer paid 100.00; 80.00 was the provider's share.
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge });

    const first = await refund(charge, 3_000);
    expect(first).toMatchObject({
      kind: "recorded",
      refund: { customerRefundedTotal: 3_000, providerRefundedTotal: 2_400, amount: 2_400 },
    });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", refundedAmount: 2_400, amount: 5_600, amountVersion: 2 });

    // 1/3 of a cent more: floor(3_001 × 0.8) = 2_400 → nothing more falls on the provider yet.
    expect(await refund(charge, 3_001)).toMatchObject({ kind: "recorded", refund: { providerRefundedTotal: 2_400, amount: 0 } });
    // The cumulative total rounds once: 3_002 × 0.8 = 2_401.6 → 2_401, one unit more.
    expect(await refund(charge, 3_002)).toMatchObject({ kind: "recorded", refund: { providerRefundedTotal: 2_401, amount: 1 } });
    expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 2_401, amount: 5_599 });

    const actions = (await db.auditLog.findMany({ where: { entityId: bookingId }, orderBy: { createdAt: "asc" } })).map((a) => a.action);
    expect(actions.filter((a) => a === "booking.charge_refunded")).toHaveLength(3);
    const adjusted = await db.auditLog.findFirstOrThrow({
      where: { entityId: (await payoutOf(bookingId)).id, action: "payout.amount_adjusted" },
    });
    expect(adjusted).toMatchObject({ actorType: "webhook", reason: expect.stringContaining(`charge ${charge}`) });
  });

  it("a repeated or older report changes nothing; a later total applies only its increase", async () => {
    const charge = chargeId();
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge });
    await refund(charge, 5_000);
    const after = await payoutOf(bookingId);

    expect(await refund(charge, 5_000)).toEqual({ kind: "already_recorded", recordedTotal: 5_000 });
    // An older event (the first of two partial refunds) arriving late.
    expect(await refund(charge, 2_000, { refundedAt: new Date(h.clock.now().getTime() - 60_000) })).toEqual({
      kind: "already_recorded",
      recordedTotal: 5_000,
    });
    expect(await payoutOf(bookingId)).toEqual(after);
    expect(await db.alert.count({ where: { kind: "charge_refund_decreased", payoutId: after.id } })).toBe(0);

    await refund(charge, 7_500);
    expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 6_000, amount: 2_000 });
    expect(await db.chargeRefund.findMany({ where: { stripeChargeId: charge }, orderBy: { customerRefundedTotal: "asc" } })).toMatchObject([
      { customerRefundedTotal: 5_000, providerRefundedTotal: 4_000, amount: 4_000 },
      { customerRefundedTotal: 7_500, providerRefundedTotal: 6_000, amount: 2_000 },
    ]);
  });

  it("a newer report of a lower total (a refund failed at Stripe) gives the provider's part back; an older one changes nothing", async () => {
    const charge = chargeId();
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge });
    await refund(charge, 5_000);
    expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 4_000, amount: 4_000 });
    const lower = await refund(charge, 2_000, { refundedAt: new Date(h.clock.now().getTime() + 60_000) });
    expect(lower).toMatchObject({ kind: "recorded", refund: { amount: -2_400, cause: "refund_failed", customerRefundedTotal: 2_000 } });
    const payout = await payoutOf(bookingId);
    expect(payout).toMatchObject({ refundedAmount: 1_600, amount: 6_400 });
    // The higher total's event arriving late is older: nothing changes.
    expect(await refund(charge, 5_000, { refundedAt: h.clock.now() })).toMatchObject({ kind: "already_recorded" });
    expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 1_600, amount: 6_400 });
    expect(await db.alert.count({ where: { payoutId: payout.id } })).toBe(0);
  });

  it("a full refund cancels the payout as fully refunded; nothing is transferred", async () => {
    const charge = chargeId();
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 7_777, stripeChargeId: charge });
    await refund(charge, 9_999, { chargeAmount: 9_999 });
    // Nothing to pay; it is cancelled once no tip can join it any more (when it is due).
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", refundedAmount: 7_777, amount: 0 });
    await h.run("schedule", { name: "booking/completed", data: { bookingId } });
    const payout = await payoutOf(bookingId);
    expect(payout).toMatchObject({ status: "cancelled", cancelReason: "fully refunded", refundedAmount: 7_777, amount: 0 });
    h.clock.advance(49 * HOUR);
    expect(
      (await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "test" } })).result,
    ).toMatchObject({ kind: "skipped" });
    expect(h.fake.transfers().filter((t) => t.metadata?.payoutId === payout.id)).toHaveLength(0);
  });

  it("counts the accepted tips paid with the same charge as the provider's; a tip's own charge falls wholly on the provider", async () => {
    const bookingCharge = chargeId();
    const tipCharge = chargeId();
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: bookingCharge });
    // A tip of 20.00 paid with the booking's charge (120.00 in all), another of 15.00 with its own.
    await addTip(h.ctx(), {
      tipExternalId: `tip_${randomUUID()}`,
      bookingId,
      amount: 2_000,
      currency: "USD",
      tippedAt: h.clock.now(),
      stripeChargeId: bookingCharge,
    });
    await addTip(h.ctx(), {
      tipExternalId: `tip_${randomUUID()}`,
      bookingId,
      amount: 1_500,
      currency: "USD",
      tippedAt: h.clock.now(),
      stripeChargeId: tipCharge,
    });
    expect(await payoutOf(bookingId)).toMatchObject({ tipAmount: 3_500, amount: 11_500 });

    // Half of the booking's charge: half of share + same-charge tip = 5_000.
    expect(await refund(bookingCharge, 6_000, { chargeAmount: 12_000 })).toMatchObject({
      refund: { providerPortion: 10_000, amount: 5_000 },
    });
    // 7.00 of the 15.00 tip charge.
    expect(await refund(tipCharge, 700, { chargeAmount: 1_500 })).toMatchObject({ refund: { providerPortion: 1_500, amount: 700 } });
    expect(await payoutOf(bookingId)).toMatchObject({ tipAmount: 3_500, refundedAmount: 5_700, amount: 5_800 });
  });

  it("an unknown charge is reported as such and writes nothing; another currency holds the payout for review", async () => {
    const before = await db.chargeRefund.count();
    expect(await refund(chargeId(), 1_000)).toEqual({ kind: "unknown_charge" });
    expect(await db.chargeRefund.count()).toBe(before);

    const charge = chargeId();
    const { bookingId } = await h.completeBooking({ providerReady: true, stripeChargeId: charge });
    // Matched, but not applicable as is: nothing deducted, the payout held for review, an admin alerted.
    expect(await refund(charge, 1_000, { currency: "eur" })).toMatchObject({
      kind: "needs_review",
      reason: expect.stringMatching(/in EUR, its booking .* in USD/),
    });
    expect(await db.chargeRefund.count({ where: { stripeChargeId: charge } })).toBe(0);
    const held = await payoutOf(bookingId);
    expect(held).toMatchObject({ status: "on_hold", holdReason: "review_required", refundedAmount: 0 });
    expect(await db.alert.findMany({ where: { payoutId: held.id } })).toMatchObject([
      { kind: "stripe_refund_unapplied", severity: "critical" },
    ]);
  });

  it("concurrent reports of several totals converge: the provider's part of the highest total, taken once", async () => {
    const charge = chargeId();
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge });
    const totals = [1_000, 2_500, 2_500, 4_000, 6_000, 6_000, 3_000];
    await Promise.all(totals.map((t) => refund(charge, t)));
    const steps = await db.chargeRefund.findMany({ where: { stripeChargeId: charge } });
    expect(steps.reduce((sum, s) => sum + s.amount, 0)).toBe(4_800);
    expect(Math.max(...steps.map((s) => s.customerRefundedTotal))).toBe(6_000);
    expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 4_800, amount: 3_200 });
  });

  it("waits while the transfer is in flight: the change is refused as busy and nothing is recorded", async () => {
    const charge = chargeId();
    const { bookingId } = await h.completeBooking({ providerReady: true, stripeChargeId: charge });
    h.clock.advance(48 * HOUR + 1);
    const claimed = await claimTransfer({ ...h.ctx(), runId: "run_busy" }, { payoutId: (await payoutOf(bookingId)).id });
    expect(claimed.kind).toBe("claimed");
    await expect(refund(charge, 1_000)).rejects.toBeInstanceOf(PayoutBusyError);
    expect(await db.chargeRefund.count({ where: { stripeChargeId: charge } })).toBe(0);
  });

  it("a refund reported by both the platform's dispute and Stripe is taken twice, and an admin is told", async () => {
    const charge = chargeId();
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge });
    const opened = await openDispute(h.ctx(), { bookingId, externalId: `dsp_${randomUUID()}`, openedAt: h.clock.now() });
    await resolveDispute(h.ctx(), { disputeId: opened.dispute.id, outcome: "partial", refundedAmount: 2_000, resolvedAt: h.clock.now() });
    expect(await db.alert.count({ where: { kind: "refund_reported_twice" } })).toBe(0);
    await refund(charge, 2_500);
    const payout = await payoutOf(bookingId);
    expect(payout).toMatchObject({ refundedAmount: 4_000, amount: 4_000 });
    expect(await db.alert.findMany({ where: { payoutId: payout.id } })).toMatchObject([
      { kind: "refund_reported_twice", severity: "warning" },
    ]);
  });
});

describe("after the transfer", () => {
  it("each refund step becomes one reversal of the provider's part, never two", async () => {
    const charge = chargeId();
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge });
    const payout = await transferred(bookingId);
    const transferId = payout.stripeTransferId!;

    const first = await refund(charge, 2_500);
    if (first.kind !== "recorded") throw new Error("expected a recorded refund");
    expect(first.reversalIds).toHaveLength(1);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", amount: 8_000, refundedAmount: 0 });
    const reversal = await db.transferReversal.findUniqueOrThrow({ where: { id: first.reversalIds[0]! } });
    expect(reversal).toMatchObject({
      chargeRefundId: first.refund.id,
      disputeId: null,
      amount: 2_000,
      status: "pending",
      initiatedBy: "platform",
    });
    expect(await db.outboxEvent.findUnique({ where: { eventId: `reversal:${reversal.id}` } })).toMatchObject({
      name: "payout/reversal.requested",
    });

    // The same report again, and the reversal run twice: one reversal at Stripe.
    expect(await refund(charge, 2_500)).toMatchObject({ kind: "already_recorded" });
    const event = { name: "payout/reversal.requested", data: { reversalId: reversal.id, payoutId: payout.id } };
    await Promise.all([h.run("reverse", event), h.run("reverse", event)]);
    expect(h.fake.reversals().filter((r) => r.transfer === transferId)).toMatchObject([{ amount: 2_000 }]);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "partially_reversed", reversedAmount: 2_000 });

    // A later, larger total: one more reversal for the increase.
    const second = await refund(charge, 10_000);
    if (second.kind !== "recorded") throw new Error("expected a recorded refund");
    expect(second.refund.amount).toBe(6_000);
    await h.run("reverse", { name: "payout/reversal.requested", data: { reversalId: second.reversalIds[0]!, payoutId: payout.id } });
    expect(
      h.fake
        .reversals()
        .filter((r) => r.transfer === transferId)
        .map((r) => r.amount),
    ).toEqual([2_000, 6_000]);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "reversed", reversedAmount: 8_000 });
    expect(await db.transferReversal.count({ where: { payoutId: payout.id } })).toBe(2);
  });
});
