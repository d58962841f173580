import "server-only";

import Stripe from "stripe";

import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { readRawBody } from "@/lib/http/read-body";
import { storeStripeEvent } from "@/lib/stripe-webhooks/store-stripe-event";
import { defaultWebhookDeps } from "@/lib/webhooks/deps";
import { toStorableJson } from "@/lib/webhooks/storable-text";
import type { TWebhookDeps } from "@/lib/webhooks/types";

import { applyReceivedDelivery, type TReceived } from "./apply-received";

/** Stripe's events are small; a body above this is not one (413, before any hashing). */
export const MAX_STRIPE_WEBHOOK_BYTES = 512 * 1024;

export const STRIPE_SIGNATURE_HEADER = "stripe-signature";

/** Missing, malformed, wrong or stale (over 5 minutes) Stripe signature; or a signed body that is not an event. Nothing is stored. */
export class StripeSignatureError extends AppError {
  override name = "StripeSignatureError";
  constructor(message: string) {
    super("invalid_signature", message, 400);
  }
}

export type TStripeWebhookAnswer = { received: true; duplicate?: true };

export type TReceiveStripeWebhookOptions = {
  deps?: TWebhookDeps;
  /** The signing secrets to accept (default: STRIPE_WEBHOOK_SECRET, comma-separated). */
  secrets?: readonly string[];
};

/**
 * POST /api/webhooks/stripe, in order: size (413) → signature over the raw bytes with
 * `stripe.webhooks.constructEvent` (400, nothing written) → store the event (persist
 * first: source "stripe", Stripe's event id unique; a known id is a duplicate, answered
 * 200 and left alone) → 200. Returns the answer and the apply to run once it is sent (the
 * route runs it with Next's `after()`): apply the event through the engine's services
 * (lib/stripe-webhooks/apply-stripe-delivery.ts) in its booking's lane, record the outcome,
 * re-apply deliveries of the same booking it unblocks, publish the Inngest events it caused.
 *
 * What Stripe gets back, and why:
 * - 400 for a bad signature or a body that is not an event; 413 for an oversized body.
 * - 200 once the event is stored, whatever applying it came to (processed, deferred,
 *   ignored, failed). A stored delivery is never lost: a failure is kept with its error
 *   and re-applied by the reconciliation sweep and re-drive, so Stripe retrying it would
 *   only be answered as a duplicate. Inngest being down never fails the request either:
 *   the events wait in the outbox and the sweep sends them.
 * - 500 only when the event could not be stored (the database is unreachable): nothing
 *   is held then, so Stripe's retries (for up to three days) are exactly what we want.
 *   Text PostgreSQL cannot store (a NUL character, an unpaired surrogate) is replaced by
 *   U+FFFD in the stored copy rather than refused: the event is Stripe's, signed, and a
 *   refusal would only be retried until Stripe gives up on it.
 */
export async function receiveStripeWebhook(
  request: Request,
  options: TReceiveStripeWebhookOptions = {},
): Promise<TReceived<TStripeWebhookAnswer>> {
  const deps = options.deps ?? defaultWebhookDeps;
  const rawBody = await readRawBody(request, MAX_STRIPE_WEBHOOK_BYTES);
  const event = storableEvent(
    verifyStripeEvent(rawBody, request.headers.get(STRIPE_SIGNATURE_HEADER), options.secrets ?? getEnv().STRIPE_WEBHOOK_SECRET),
  );

  const { delivery, duplicate } = await storeStripeEvent(deps, event);
  if (duplicate) return { answer: { received: true, duplicate: true }, apply: null };
  return { answer: { received: true }, apply: () => applyReceivedDelivery(deps, delivery) };
}

function verifyStripeEvent(rawBody: Uint8Array, header: string | null, secrets: readonly string[]): Stripe.Event {
  if (!header) throw new StripeSignatureError("The Stripe-Signature header is missing.");
  let event: Stripe.Event | undefined;
  let failure: unknown;
  // Any configured secret may have signed it (the account and the Connect endpoint, or a rotation).
  for (const secret of secrets) {
    try {
      event = Stripe.webhooks.constructEvent(rawBody, header, secret);
      break;
    } catch (error) {
      failure = error;
      if (!(error instanceof Stripe.errors.StripeSignatureVerificationError)) break;
    }
  }
  if (!event) {
    if (failure instanceof Stripe.errors.StripeSignatureVerificationError) {
      throw new StripeSignatureError(`The Stripe signature is not valid: ${failure.message.split("\n")[0]}`);
    }
    throw new StripeSignatureError("The signed body is not a Stripe event (invalid JSON).");
  }
  const { id, type } = (event ?? {}) as { id?: unknown; type?: unknown };
  if (typeof id !== "string" || id === "" || typeof type !== "string" || type === "") {
    throw new StripeSignatureError("The signed body is not a Stripe event (no id or type).");
  }
  return event;
}

/** The verified event as it can be stored: any text PostgreSQL refuses replaced by U+FFFD (logged). */
function storableEvent(event: Stripe.Event): Stripe.Event {
  const { value, replaced } = toStorableJson(event);
  if (replaced.length > 0) {
    console.warn(`stripe webhook: event ${value.id}: replaced text PostgreSQL cannot store at ${replaced.join(", ")}`);
  }
  return value;
}
