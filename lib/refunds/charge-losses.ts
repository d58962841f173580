import "server-only";

import type { ChargeRefund } from "@/generated/prisma/client";
import type { ChargeStepCause } from "@/generated/prisma/enums";
import { recordAudit } from "@/lib/audit/record-audit";
import type { TResolvedContext } from "@/lib/context";
import type { Tx } from "@/lib/db";

import { providerLossOnCharge, providerPartOfRefunds } from "./provider-part";

/** What refunds and lost chargebacks on one Stripe charge have taken from the provider so far. */
export type TChargeLosses = {
  /** The sum of the charge's steps (ChargeRefund.amount). */
  refunds: number;
  /** The sum of the provider's parts of the lost Stripe disputes on the charge. */
  chargebacks: number;
  /** The sum of what the bank took back on those disputes (Stripe's dispute.amount). */
  disputed: number;
};

/**
 * Reads what the provider already bears for a charge (lib/refunds/provider-part.ts). Pass a
 * transaction with the charge's booking locked for a stable answer; `exceptDisputeId` leaves
 * out the dispute being resolved.
 */
export async function chargeLosses(tx: Tx, stripeChargeId: string, options: { exceptDisputeId?: string } = {}): Promise<TChargeLosses> {
  const refunds = await tx.chargeRefund.aggregate({ where: { stripeChargeId }, _sum: { amount: true } });
  const lost = await tx.dispute.findMany({
    where: {
      stripeChargeId,
      stripeDisputeId: { not: null },
      status: "resolved",
      outcome: "customer_won",
      ...(options.exceptDisputeId ? { id: { not: options.exceptDisputeId } } : {}),
    },
    select: { refundedAmount: true, disputedAmount: true },
  });
  return {
    refunds: refunds._sum.amount ?? 0,
    chargebacks: lost.reduce((sum, d) => sum + d.refundedAmount, 0),
    // A dispute recorded before its disputed amount was kept counts what it took.
    disputed: lost.reduce((sum, d) => sum + (d.disputedAmount ?? d.refundedAmount), 0),
  };
}

export type TChargeState = {
  bookingId: string;
  stripeChargeId: string;
  currency: string;
  providerPortion: number;
  /** What the customer paid on the charge; null: the last one recorded (needed only once something is refunded). */
  chargeAmount: number | null;
  /** What Stripe reports refunded now; null: the last total recorded (a portion or chargeback changed). */
  refundedTotal: number | null;
  refundedAt: Date;
  cause: ChargeStepCause;
  reason: string;
};

/**
 * Brings what the provider bears on a charge to what the facts say (providerLossOnCharge) with
 * one new step holding the difference, which may be negative (a refund failed). Nothing when
 * nothing changed. Call with the charge's booking locked; the payout then follows the step
 * (syncPayoutWithBooking).
 */
export async function rebalanceChargeLoss(tx: Tx, ctx: TResolvedContext, state: TChargeState): Promise<ChargeRefund | null> {
  const latest = await tx.chargeRefund.findFirst({ where: { stripeChargeId: state.stripeChargeId }, orderBy: { sequence: "desc" } });
  const refundedTotal = state.refundedTotal ?? latest?.customerRefundedTotal ?? 0;
  const known = await tx.stripeCharge.findUnique({ where: { id: state.stripeChargeId }, select: { amount: true } });
  const borne = await chargeLosses(tx, state.stripeChargeId);
  // Needed only when something is refunded; with nothing refunded any amount at least what was
  // already taken on the charge keeps the row valid (a step never gives back more than the charge),
  // also when the portion shrank below it (a tip rejected at its booking's cancellation).
  const chargeAmount =
    state.chargeAmount ??
    latest?.chargeAmount ??
    known?.amount ??
    Math.max(1, state.providerPortion, refundedTotal, borne.disputed, borne.refunds + borne.chargebacks);
  const target = providerLossOnCharge({ chargeAmount, providerPortion: state.providerPortion, refundedTotal, disputed: borne.disputed });
  const amount = target - borne.refunds - borne.chargebacks;
  const unchanged = latest
    ? latest.customerRefundedTotal === refundedTotal && latest.providerPortion === state.providerPortion
    : refundedTotal === 0;
  if (amount === 0 && unchanged) return null;
  const providerRefundedTotal =
    refundedTotal === 0 ? 0 : providerPartOfRefunds({ chargeAmount, providerPortion: state.providerPortion, refundedTotal });
  const step = await tx.chargeRefund.create({
    data: {
      bookingId: state.bookingId,
      stripeChargeId: state.stripeChargeId,
      sequence: (latest?.sequence ?? 0) + 1,
      currency: state.currency,
      chargeAmount,
      providerPortion: state.providerPortion,
      customerRefundedTotal: refundedTotal,
      providerRefundedTotal,
      amount,
      cause: state.cause,
      // A re-pricing keeps the time of the total it re-prices (an older charge.refunded stays older).
      refundedAt: state.refundedTotal === null ? (latest?.refundedAt ?? state.refundedAt) : state.refundedAt,
    },
  });
  await recordAudit(tx, {
    actor: ctx.actor,
    action:
      state.cause === "reprice"
        ? "booking.charge_refund_repriced"
        : state.cause === "refund_failed"
          ? "booking.charge_refund_failed"
          : "booking.charge_refunded",
    entityType: "booking",
    entityId: state.bookingId,
    reason: state.reason,
    before: {
      customerRefundedTotal: latest?.customerRefundedTotal ?? 0,
      providerPortion: latest?.providerPortion ?? null,
      providerLoss: borne.refunds + borne.chargebacks,
    },
    after: {
      chargeRefundId: step.id,
      stripeChargeId: state.stripeChargeId,
      currency: state.currency,
      chargeAmount,
      providerPortion: state.providerPortion,
      customerRefundedTotal: refundedTotal,
      providerRefundedTotal,
      providerAmount: amount,
      providerLoss: target,
      ...(borne.chargebacks > 0 ? { chargebacksBorne: borne.chargebacks } : {}),
    },
    runId: ctx.runId,
    requestId: ctx.requestId,
  });
  return step;
}
