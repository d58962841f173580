import "server-only";

import { z } from "zod";

import { applyChargeRefund } from "@/lib/refunds/apply-charge-refund";

import { parseStripeObject, ZStripeId } from "./parse-stripe-object";
import type { TStripeHandler } from "./types";

const ZMinor = z.number().int().nonnegative();

const ZRefundedCharge = z.looseObject({
  id: ZStripeId,
  amount: ZMinor,
  amount_captured: ZMinor,
  amount_refunded: ZMinor,
  currency: z.string().regex(/^[A-Za-z]{3}$/),
});

/**
 * charge.refunded: Stripe's `amount_refunded` is the charge's cumulative refunded total.
 * The provider's proportional part of its increase is taken from the payout, or reversed
 * after the transfer (lib/refunds/apply-charge-refund.ts). A charge we do not know yet is
 * deferred until its booking (or tip) arrives.
 */
export const handleChargeRefunded: TStripeHandler<"charge.refunded"> = async ({ ctx, event }) => {
  const charge = parseStripeObject(ZRefundedCharge, event.data.object, "charge");
  if (charge.amount_refunded === 0) return { status: "processed", note: `nothing refunded on charge ${charge.id}` };
  // The customer paid what was captured (the whole amount when it was never captured: then nothing was paid).
  const chargeAmount = charge.amount_captured > 0 ? charge.amount_captured : charge.amount;
  const result = await applyChargeRefund(ctx, {
    stripeChargeId: charge.id,
    currency: charge.currency,
    chargeAmount,
    refundedTotal: charge.amount_refunded,
    refundedAt: new Date(event.created * 1000),
  });
  switch (result.kind) {
    case "unknown_charge":
      return { status: "deferred", reason: `waiting for the booking or tip paid with charge ${charge.id}` };
    case "already_recorded":
      return { status: "processed", note: `refunded total ${result.recordedTotal} already recorded for charge ${charge.id}; nothing changed` };
    case "recorded": {
      const r = result.refund;
      return {
        status: "processed",
        note: `charge ${charge.id}: ${r.customerRefundedTotal} of ${r.chargeAmount} ${r.currency} refunded, provider's part ${r.providerRefundedTotal} (${r.amount} now)`,
      };
    }
  }
};
