// A claim: a change in what the provider bears (a resolved dispute's refund, a step of what
// refunds and chargebacks take on a charge) that the payout has not absorbed yet. The sync
// (sync-payout-with-booking.ts) counts claims in the payout's amount before the transfer, and
// settles them with reversals or give-backs after it (claims-after-transfer.ts). Pure: no I/O.
import type { ChargeRefund, Dispute } from "@/generated/prisma/client";
import type { TActor } from "@/lib/audit/record-audit";

/** A change in what the provider bears that the payout has not absorbed yet (see syncPayoutWithBooking). */
export type TRefundClaim = {
  /** > 0 takes from the provider; < 0 (a refund that failed) gives back. */
  amount: number;
  /** The reversal's link to its cause: a dispute, or a charge step. */
  link: { disputeId: string } | { chargeRefundId: string };
  /** The charge the money was refunded or disputed on; null for the booking platform's disputes. */
  stripeChargeId: string | null;
  /** Why, for the audit log. */
  afterTransferReason: string;
};

/** Who settles claims, for the audit log. */
export type TClaimAudit = { actor: TActor; runId: string | null; requestId: string | null };

/**
 * The claims of a booking's facts not absorbed yet: each resolved dispute's refund (linked to its
 * charge only when Stripe reported the dispute), then each charge step in the order given.
 */
export function refundClaimsOf(
  disputes: readonly Pick<Dispute, "id" | "refundedAmount" | "externalId" | "stripeDisputeId" | "stripeChargeId">[],
  chargeSteps: readonly Pick<ChargeRefund, "id" | "amount" | "stripeChargeId">[],
): TRefundClaim[] {
  return [
    ...disputes.map((d) => ({
      amount: d.refundedAmount,
      link: { disputeId: d.id },
      stripeChargeId: d.stripeDisputeId ? d.stripeChargeId : null,
      afterTransferReason: `dispute ${d.externalId ?? d.stripeDisputeId ?? d.id} lost after transfer`,
    })),
    ...chargeSteps.map((r) => ({
      amount: r.amount,
      link: { chargeRefundId: r.id },
      stripeChargeId: r.stripeChargeId,
      afterTransferReason:
        r.amount > 0
          ? `Stripe refund on charge ${r.stripeChargeId} after transfer`
          : `Stripe refund on charge ${r.stripeChargeId} failed or was cancelled after transfer`,
    })),
  ];
}
