import "server-only";

import type { Prisma } from "@/generated/prisma/client";
import { getEnv } from "@/lib/env";
import { ValidationError } from "@/lib/errors";
import { assertJsonContentType, MAX_WEBHOOK_BODY_BYTES, readRawBody } from "@/lib/http/read-body";
import { systemClock, type TClock } from "@/lib/payouts/timing";
import { BOOKING_SIGNATURE_HEADER, verifyBookingSignature } from "@/lib/webhooks/booking-signature";
import { parseBookingWebhook } from "@/lib/webhooks/booking-webhook-schema";
import { defaultWebhookDeps } from "@/lib/webhooks/deps";
import { storeDelivery } from "@/lib/webhooks/store-delivery";
import type { TWebhookDeps } from "@/lib/webhooks/types";

import { applyReceivedDelivery, type TReceived } from "./apply-received";

export type TBookingWebhookAnswer = { received: true; duplicate?: true };

export type TReceiveBookingWebhookOptions = {
  deps?: TWebhookDeps;
  /** The accepted signing secrets (default: BOOKING_WEBHOOK_SECRETS). */
  secrets?: readonly string[];
  /** The clock the signature's timestamp is checked against (default: the system clock). */
  clock?: TClock;
};

/**
 * POST /api/webhooks/booking, in order: size (413, before any hashing or parsing) →
 * content type (415) → signature over the raw bytes (401) → JSON (400) → contract (400)
 * → store (persist first; a known id is a duplicate, answered and left alone) → answer.
 * Returns the answer and the apply to run once it is sent (the route runs it with Next's
 * `after()`): applying through the engine's services in the booking's lane (one at a time,
 * oldest first), then publishing the Inngest events it caused. Once stored, the delivery is
 * never lost: if the apply never runs (a crash), the reconciliation sweep applies it; an
 * apply failure is recorded on it for the sweep and re-drive; the sender has its 200 and
 * does not retry what we already hold.
 */
export async function receiveBookingWebhook(
  request: Request,
  options: TReceiveBookingWebhookOptions = {},
): Promise<TReceived<TBookingWebhookAnswer>> {
  const deps = options.deps ?? defaultWebhookDeps;
  const rawBody = await readRawBody(request, MAX_WEBHOOK_BODY_BYTES);
  assertJsonContentType(request);
  verifyBookingSignature({
    rawBody,
    header: request.headers.get(BOOKING_SIGNATURE_HEADER),
    secrets: options.secrets ?? getEnv().BOOKING_WEBHOOK_SECRETS,
    now: (options.clock ?? systemClock).now(),
  });
  const text = decodeUtf8(rawBody);
  const json = parseJson(text);
  const event = parseBookingWebhook(json);

  const { delivery, duplicate } = await storeDelivery(deps.db, {
    source: "booking_platform",
    externalId: event.id,
    type: event.type,
    payload: json as Prisma.InputJsonValue,
    payloadText: text,
    bookingExternalId: event.data.bookingId,
    ...(deps.clock ? { receivedAt: deps.clock.now() } : {}),
  });
  if (duplicate) return { answer: { received: true, duplicate: true }, apply: null };
  return { answer: { received: true }, apply: () => applyReceivedDelivery(deps, delivery) };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decodeUtf8(rawBody: Uint8Array): string {
  try {
    return utf8.decode(rawBody);
  } catch {
    throw new ValidationError("The body is not valid UTF-8.", { issues: [{ path: "", message: "must be UTF-8 encoded JSON" }] });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = error instanceof SyntaxError ? error.message : "could not be parsed";
    throw new ValidationError("The body is not valid JSON.", { issues: [{ path: "", message: `invalid JSON: ${message}` }] });
  }
}
