import "server-only";

import type { Tx } from "@/lib/db";

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
