import "server-only";

import type { WebhookEvent } from "@/generated/prisma/client";
import { applyStripeDelivery } from "@/lib/stripe-webhooks/apply-stripe-delivery";
import { applyBookingDelivery } from "@/lib/webhooks/apply-booking-delivery";
import type { TApplyOutcome, TWebhookDeps } from "@/lib/webhooks/types";

/**
 * Applies one stored delivery, whatever its source, through the engine's services. Does
 * not record the outcome: processDelivery (lib/webhooks/process-delivery.ts) does that,
 * re-applies the deliveries this one unblocks and publishes the events.
 */
export async function applyDelivery(deps: TWebhookDeps, delivery: WebhookEvent): Promise<TApplyOutcome> {
  switch (delivery.source) {
    case "booking_platform":
      return applyBookingDelivery(deps, delivery);
    case "stripe":
      return applyStripeDelivery(deps, delivery);
  }
}
