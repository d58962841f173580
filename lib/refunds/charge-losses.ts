import "server-only";

import type { Tx } from "@/lib/db";

import { providerPartOfRefunds, providerPartOfRefundStep } from "./provider-part";

/** What refunds and lost chargebacks on one Stripe charge have taken from the provider so far. */
export type TChargeLosses = {
  /** The sum of the charge's refund steps (ChargeRefund.amount). */
  refunds: number;
  /** The sum of the provider's parts of the lost Stripe disputes on the charge. */
  chargebacks: number;
};

/**
 * Reads what the provider already bears for a charge (lib/refunds/provider-part.ts). Pass a
 * transaction with the charge's booking locked for a stable answer; `exceptDisputeId` leaves
 * out the dispute being resolved.
 */
export async function chargeLosses(tx: Tx, stripeChargeId: string, options: { exceptDisputeId?: string } = {}): Promise<TChargeLosses> {
  const refunds = await tx.chargeRefund.aggregate({ where: { stripeChargeId }, _sum: { amount: true } });
  const chargebacks = await tx.dispute.aggregate({
    where: {
      stripeChargeId,
      stripeDisputeId: { not: null },
      status: "resolved",
      ...(options.exceptDisputeId ? { id: { not: options.exceptDisputeId } } : {}),
    },
    _sum: { refundedAmount: true },
  });
  return { refunds: refunds._sum.amount ?? 0, chargebacks: chargebacks._sum.refundedAmount ?? 0 };
}

export type TPricedRefundStep = {
  /** The provider's part of all refunds on the charge at this refunded total and portion. */
  providerRefundedTotal: number;
  /** What this step takes from the provider (lib/refunds/provider-part.ts, providerPartOfRefundStep). */
  amount: number;
  /** What lost chargebacks on the charge had already taken. */
  chargebacksBorne: number;
};

/**
 * Prices a new refund step on a charge: the provider's part of all refunds at `refundedTotal`,
 * and what the step takes after what refunds and lost chargebacks on the charge already took,
 * so that together they never exceed the provider's portion, whatever their order. Call it
 * with the charge's booking locked.
 */
export async function priceRefundStep(
  tx: Tx,
  input: { stripeChargeId: string; chargeAmount: number; providerPortion: number; refundedTotal: number },
): Promise<TPricedRefundStep> {
  const providerRefundedTotal = providerPartOfRefunds({
    chargeAmount: input.chargeAmount,
    providerPortion: input.providerPortion,
    refundedTotal: input.refundedTotal,
  });
  const borne = await chargeLosses(tx, input.stripeChargeId);
  const amount = providerPartOfRefundStep({
    providerRefundedTotal,
    providerPortion: input.providerPortion,
    refundsBorne: borne.refunds,
    chargebacksBorne: borne.chargebacks,
  });
  return { providerRefundedTotal, amount, chargebacksBorne: borne.chargebacks };
}
