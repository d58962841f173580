import "server-only";

import Stripe from "stripe";

import type { Prisma, WebhookEvent } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import { ConflictError } from "@/lib/errors";
import { storeDelivery } from "@/lib/webhooks/store-delivery";
import type { TWebhookDeps } from "@/lib/webhooks/types";

import { bookingExternalIdOf } from "./booking-reference";

/** The API version the `stripe` SDK is pinned to: the shape the handlers expect. Configure the endpoints with it. */
export const PINNED_STRIPE_API_VERSION: string = Stripe.API_VERSION;

type TStorableEvent = Pick<Stripe.Event, "id" | "type" | "created" | "api_version" | "data"> & { account?: string | null };

/**
 * Stores a verified Stripe event (from the webhook, or recovered from Stripe's events API) with
 * what it says of itself: its api_version, its connected account, when Stripe created it, and
 * the booking it concerns when that can be told. A known event id is a duplicate and changes
 * nothing. An event rendered in another API version than the SDK's raises one warning alert per
 * version: its objects may not have the shape the handlers read.
 */
export async function storeStripeEvent(deps: TWebhookDeps, event: TStorableEvent): Promise<{ delivery: WebhookEvent; duplicate: boolean }> {
  const stored = await storeDelivery(deps.db, {
    source: "stripe",
    externalId: event.id,
    type: event.type,
    payload: event as unknown as Prisma.InputJsonValue,
    bookingExternalId: await bookingReferenceOf(deps, event),
    apiVersion: event.api_version ?? null,
    account: event.account ?? null,
    eventCreatedAt: Number.isFinite(event.created) ? new Date(event.created * 1000) : null,
    ...(deps.clock ? { receivedAt: deps.clock.now() } : {}),
  });
  if (!stored.duplicate && event.api_version && event.api_version !== PINNED_STRIPE_API_VERSION) {
    await deps.db.$transaction((tx) =>
      raiseAlert(tx, {
        kind: "stripe_api_version",
        severity: "warning",
        title: "Stripe sends events in another API version",
        message:
          `Stripe event ${event.id} (${event.type}) is rendered in API version ${event.api_version}; Payouts reads the shape of ${PINNED_STRIPE_API_VERSION}. ` +
          `Set the webhook endpoint's API version to ${PINNED_STRIPE_API_VERSION} in the Stripe dashboard (docs/webhooks.md); events whose objects differ are kept as failed deliveries until then.`,
        dedupeKey: `stripe_api_version:${event.api_version}`,
      }),
    );
  }
  return stored;
}

/**
 * The booking the event concerns, stored with it so that the delivery is woken when that
 * booking arrives and is listed with it. Only a hint: when it cannot be told (a charge named by
 * tips of two bookings is a ConflictError), the event is stored without one rather than
 * refused. Applying it then meets the same problem and keeps it on the delivery (failed, with
 * the error), where the sweep and an operator's re-drive see it.
 */
async function bookingReferenceOf(deps: TWebhookDeps, event: TStorableEvent): Promise<string | null> {
  try {
    return await bookingExternalIdOf(deps.db, event);
  } catch (error) {
    if (!(error instanceof ConflictError))
      console.error(`stripe webhook: event ${event.id}: could not tell its booking; stored without one`, error);
    return null;
  }
}
