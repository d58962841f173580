import "server-only";

import type { ChargeRefund } from "@/generated/prisma/client";
import { recordAudit } from "@/lib/audit/record-audit";
import type { Tx } from "@/lib/db";
import type { TResolvedContext } from "@/lib/payouts/context";

import { priceRefundStep } from "./charge-losses";
import { findChargeOwner } from "./find-charge-owner";

/**
 * A tip paid with `stripeChargeId` was accepted: the provider's portion of that charge grew,
 * so their part of the refunds already recorded on it grows too. Records the difference as a
 * new ChargeRefund step at the same refunded total, priced with the new portion (and still
 * within what lost chargebacks on the charge left), so the provider's part of a refund does
 * not depend on whether the tip arrived before or after it. The payout then takes the step
 * like any other (syncPayoutWithBooking). Nothing when the charge has no refund yet or the
 * portion did not change. Call it with the booking locked, after the tip is stored.
 */
export async function repriceChargeRefunds(
  tx: Tx,
  ctx: TResolvedContext,
  input: { bookingId: string; stripeChargeId: string; reason: string },
): Promise<ChargeRefund | null> {
  const latest = await tx.chargeRefund.findFirst({
    where: { stripeChargeId: input.stripeChargeId },
    orderBy: [{ customerRefundedTotal: "desc" }, { providerPortion: "desc" }],
  });
  if (!latest || latest.bookingId !== input.bookingId) return null;
  const owner = await findChargeOwner(tx, input.stripeChargeId);
  if (!owner || owner.bookingId !== input.bookingId || owner.providerPortion <= latest.providerPortion) return null;

  const { providerRefundedTotal, amount } = await priceRefundStep(tx, {
    stripeChargeId: input.stripeChargeId,
    chargeAmount: latest.chargeAmount,
    providerPortion: owner.providerPortion,
    refundedTotal: latest.customerRefundedTotal,
  });
  const step = await tx.chargeRefund.create({
    data: {
      bookingId: latest.bookingId,
      stripeChargeId: latest.stripeChargeId,
      currency: latest.currency,
      chargeAmount: latest.chargeAmount,
      providerPortion: owner.providerPortion,
      customerRefundedTotal: latest.customerRefundedTotal,
      providerRefundedTotal,
      amount,
      refundedAt: latest.refundedAt,
    },
  });
  await recordAudit(tx, {
    actor: ctx.actor,
    action: "booking.charge_refund_repriced",
    entityType: "booking",
    entityId: latest.bookingId,
    reason: input.reason,
    before: { providerPortion: latest.providerPortion, providerRefundedTotal: latest.providerRefundedTotal },
    after: {
      chargeRefundId: step.id,
      stripeChargeId: step.stripeChargeId,
      currency: step.currency,
      chargeAmount: step.chargeAmount,
      customerRefundedTotal: step.customerRefundedTotal,
      providerPortion: step.providerPortion,
      providerRefundedTotal,
      providerAmount: amount,
    },
    runId: ctx.runId,
    requestId: ctx.requestId,
  });
  return step;
}
