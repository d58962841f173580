import "server-only";

import type { TServiceContext } from "@/lib/context";
import { formatMoney } from "@/lib/money/format-money";
import { applyChargeRefund, type TApplyChargeRefundInput } from "@/lib/refunds/apply-charge-refund";
import type { TApplyOutcome } from "@/lib/webhooks/types";

/** The error prefix of a Stripe money event that matched a booking but was held for review instead of applied. */
export const NEEDS_REVIEW_ERROR_CODE = "needs_review";

/**
 * The error prefix of a Stripe money event that could not be applied, or matched to a booking,
 * without asking Stripe, which could not be asked: the sweep re-applies it once Stripe answers
 * (lib/webhooks/reapply-stale-deliveries.ts), deferred or failed.
 */
export const STRIPE_UNREACHABLE_ERROR_CODE = "stripe_unreachable";

/** Applies a charge's refund state and says what it came to, as a delivery outcome. */
export async function applyRefundOutcome(ctx: TServiceContext, input: TApplyChargeRefundInput): Promise<TApplyOutcome> {
  const result = await applyChargeRefund(ctx, input);
  const charge = input.stripeChargeId;
  switch (result.kind) {
    case "unknown_charge":
      return { status: "deferred", reason: `waiting for the booking or tip paid with charge ${charge}` };
    case "already_recorded":
      return { status: "processed", note: `refunded total ${result.recordedTotal} already recorded for charge ${charge}; nothing changed` };
    case "needs_review":
      return {
        status: "failed",
        error: `${NEEDS_REVIEW_ERROR_CODE}: ${result.reason}; booking ${result.bookingExternalId}'s payout held for review`,
      };
    case "recorded": {
      const r = result.refund;
      return {
        status: "processed",
        note: `charge ${charge}: ${formatMoney(r.customerRefundedTotal, r.currency)} of ${formatMoney(r.chargeAmount, r.currency)} refunded, provider's part ${formatMoney(r.providerRefundedTotal, r.currency)} (${r.amount >= 0 ? "" : "given back "}${formatMoney(Math.abs(r.amount), r.currency)} now)`,
      };
    }
  }
}
