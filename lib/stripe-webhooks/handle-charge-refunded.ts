import "server-only";

import { z } from "zod";

import { bookingExternalIdFromHints } from "@/lib/refunds/find-charge-owner";
import { fetchRefundState, refundsGoneSince } from "@/lib/refunds/refund-state";

import { parseStripeObject, ZStripeId } from "./parse-stripe-object";
import { applyRefundOutcome, STRIPE_UNREACHABLE_ERROR_CODE } from "./refund-outcome";
import type { TStripeHandler } from "./types";

const ZMinor = z.number().int().nonnegative();

const ZRefundedCharge = z.looseObject({
  id: ZStripeId,
  amount: ZMinor,
  amount_captured: ZMinor,
  amount_refunded: ZMinor,
  currency: z.string().regex(/^[A-Za-z]{3}$/),
  payment_intent: z.union([ZStripeId, z.looseObject({ id: ZStripeId })]).nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  transfer_group: z.string().nullish(),
});

/**
 * charge.refunded: what is refunded on the charge now is asked of Stripe afresh (its refunds,
 * those that failed or were cancelled left out); when Stripe cannot be asked, the event's own
 * cumulative `amount_refunded` is used, unless an event newer than this one was applied already
 * or a refund of the charge was reported failed or cancelled since (the figures may still count
 * it: the delivery fails and the sweep re-applies it once Stripe answers).
 * The provider's part moves with it (lib/refunds/apply-charge-refund.ts). The charge is matched
 * by its id, its PaymentIntent, or the booking its metadata or transfer group names; a charge we
 * do not know yet is deferred until its booking (or tip) arrives.
 */
export const handleChargeRefunded: TStripeHandler<"charge.refunded"> = async ({ deps, ctx, event }) => {
  const charge = parseStripeObject(ZRefundedCharge, event.data.object, "charge");
  // The customer paid what was captured (the whole amount when it was never captured: then nothing was paid).
  const chargeAmount = charge.amount_captured > 0 ? charge.amount_captured : charge.amount;
  const now = ctx.clock?.now() ?? new Date();
  const fresh = await fetchRefundState(deps.db, deps.stripe(), charge.id, now);
  const reportedAt = new Date(event.created * 1000);
  if (!fresh) {
    // The event's figures may count a refund reported failed or cancelled since: they cannot be
    // used; the sweep re-applies the delivery once Stripe can be asked.
    const gone = await refundsGoneSince(deps.db, charge.id, reportedAt);
    if (gone.length > 0) {
      return {
        status: "failed",
        error: `${STRIPE_UNREACHABLE_ERROR_CODE}: Stripe could not be asked about charge ${charge.id}, and the event's refunded total may count refund(s) ${gone.join(", ")} that failed or were cancelled since; re-applied once Stripe answers`,
      };
    }
  }
  return applyRefundOutcome(ctx, {
    stripeChargeId: charge.id,
    paymentIntentId: typeof charge.payment_intent === "string" ? charge.payment_intent : (charge.payment_intent?.id ?? null),
    bookingExternalId: bookingExternalIdFromHints({ metadataBookingId: charge.metadata?.bookingId, transferGroup: charge.transfer_group }),
    currency: charge.currency,
    chargeAmount: fresh?.charge.amount ?? chargeAmount,
    refundedTotal: fresh ? fresh.refundedTotal : charge.amount_refunded,
    refundedAt: fresh ? now : reportedAt,
    current: fresh !== null,
    refundsRecorded: fresh !== null,
  });
};
