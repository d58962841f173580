import "server-only";

import { z } from "zod";

import { bookingExternalIdFromHints } from "@/lib/refunds/find-charge-owner";
import { fetchRefundState } from "@/lib/refunds/refund-state";

import { applyRefundOutcome } from "./refund-outcome";
import { parseStripeObject, ZStripeId } from "./parse-stripe-object";
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
 * cumulative `amount_refunded` is used, unless an event newer than this one was applied already.
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
  return applyRefundOutcome(ctx, {
    stripeChargeId: charge.id,
    paymentIntentId: typeof charge.payment_intent === "string" ? charge.payment_intent : (charge.payment_intent?.id ?? null),
    bookingExternalId: bookingExternalIdFromHints({ metadataBookingId: charge.metadata?.bookingId, transferGroup: charge.transfer_group }),
    currency: charge.currency,
    chargeAmount: fresh?.charge.amount ?? chargeAmount,
    refundedTotal: fresh ? fresh.refundedTotal : charge.amount_refunded,
    refundedAt: fresh ? now : new Date(event.created * 1000),
    current: fresh !== null,
  });
};
