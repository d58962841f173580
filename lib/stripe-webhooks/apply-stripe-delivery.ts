import "server-only";

import type Stripe from "stripe";
import { z } from "zod";

import type { PrismaClient, WebhookEvent } from "@/generated/prisma/client";
import type { TServiceContext } from "@/lib/context";
import type { TClock } from "@/lib/payouts/timing";
import { outcomeOfError } from "@/lib/webhooks/apply-booking-delivery";
import type { TApplyOutcome } from "@/lib/webhooks/types";

import { handleStripeEvent } from "./handlers";
import { isConnectStripeEvent, isRelevantStripeEvent } from "./relevant-events";
import { STRIPE_WEBHOOK_ACTOR } from "./types";

// The envelope every stored Stripe event has; each handler checks the object it uses.
const ZStoredStripeEvent = z.looseObject({
  id: z.string().min(1),
  type: z.string().min(1),
  created: z.number().int().nonnegative(),
  account: z.string().nullish(),
  data: z.looseObject({ object: z.looseObject({}) }),
});

/**
 * Applies one stored Stripe delivery (its payload is the verified event) through the
 * engine's services, by the handler for its type. Called by the webhook route right after
 * storing it, and by lib/webhooks for re-drive and for deferred deliveries once their
 * booking arrives: every handler is idempotent, so applying a delivery again changes
 * nothing twice. The delivery's id is the Inngest event id of what it causes. Never
 * throws: an error becomes a `failed` (or `deferred`) outcome, kept for the sweep.
 */
export async function applyStripeDelivery(
  deps: { db: PrismaClient; stripe: () => Stripe; clock?: TClock },
  delivery: WebhookEvent,
): Promise<TApplyOutcome> {
  const parsed = ZStoredStripeEvent.safeParse(delivery.payload);
  if (!parsed.success) return { status: "failed", error: "the stored payload is not a Stripe event" };
  const stored = parsed.data;
  if (!isRelevantStripeEvent(stored.type))
    return { status: "ignored", reason: `Stripe event type ${stored.type} is not one Payouts acts on` };
  if (stored.account && !isConnectStripeEvent(stored.type)) {
    // Connect events about objects in a provider's own account: our charges and transfers live on the platform.
    return { status: "ignored", reason: `${stored.type} happened in connected account ${stored.account}, not on the platform` };
  }

  const ctx: TServiceContext = {
    db: deps.db,
    actor: STRIPE_WEBHOOK_ACTOR,
    ...(deps.clock ? { clock: deps.clock } : {}),
    // As for the booking platform's deliveries: audit entries lead back to the delivery (which keeps Stripe's event id).
    requestId: `webhook:${delivery.id}`,
    sourceEventId: delivery.id,
  };
  const type = stored.type;
  // The envelope was checked above and the handler checks its object; the rest is Stripe's signed payload.
  const event = stored as unknown as Extract<Stripe.Event, { type: typeof type }>;
  try {
    return await handleStripeEvent(type, { deps, ctx, event, delivery });
  } catch (error) {
    return outcomeOfError(error);
  }
}
