import type Stripe from "stripe";

import type { WebhookEvent } from "@/generated/prisma/client";
import type { TActor } from "@/lib/audit/record-audit";
import type { TServiceContext } from "@/lib/context";
import type { TApplyOutcome, TWebhookDeps } from "@/lib/webhooks/types";

import type { TRelevantStripeEvent } from "./relevant-events";

/** Who Stripe's deliveries act as in the audit log. */
export const STRIPE_WEBHOOK_ACTOR: TActor = { type: "webhook", id: "stripe", label: "Stripe" };

/** What a handler gets: the verified event, its stored delivery and a service context acting as Stripe. */
export type TStripeHandlerInput<T extends TRelevantStripeEvent> = {
  deps: TWebhookDeps;
  /** Acts as Stripe; sourceEventId is the delivery's id (the Inngest event id of what it causes). */
  ctx: TServiceContext;
  event: Extract<Stripe.Event, { type: T }>;
  delivery: WebhookEvent;
};

export type TStripeHandler<T extends TRelevantStripeEvent> = (input: TStripeHandlerInput<T>) => Promise<TApplyOutcome>;
