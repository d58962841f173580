// Sends the booking platform's events to our webhook route the way the platform does: the raw
// JSON, signed with the first configured BOOKING_WEBHOOK_SECRETS.
import { randomUUID } from "node:crypto";

import { expect } from "vitest";

import { POST } from "@/app/api/webhooks/booking/route";
import type { WebhookEvent } from "@/generated/prisma/client";
import { db } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { receiveBookingWebhook } from "@/lib/ingest/receive-booking-webhook";
import { signBookingWebhook } from "@/lib/webhooks/booking-signature";
import type { TWebhookDeps } from "@/lib/webhooks/types";

import { settleAfterTasks } from "./after-tasks";

export type TBookingEvent = { id: string; type: string; createdAt: string; data: Record<string, unknown> };

/** A booking.completed body (an hour ago by default) for a provider with a Stripe account. */
export function bookingCompletedEvent(input: {
  bookingId: string;
  providerId: string;
  stripeAccountId: string;
  providerShare?: number;
  currency?: string;
  chargeId?: string;
  paymentIntentId?: string;
  completedAt?: Date;
}): TBookingEvent {
  const completedAt = (input.completedAt ?? new Date(Date.now() - 60 * 60 * 1000)).toISOString();
  return {
    id: `evt_${randomUUID()}`,
    type: "booking.completed",
    createdAt: completedAt,
    data: {
      bookingId: input.bookingId,
      completedAt,
      currency: input.currency ?? "USD",
      providerShare: input.providerShare ?? 8_000,
      ...(input.chargeId === undefined ? {} : { chargeId: input.chargeId }),
      ...(input.paymentIntentId === undefined ? {} : { paymentIntentId: input.paymentIntentId }),
      provider: {
        id: input.providerId,
        name: "Pat Provider",
        email: `${input.providerId}@example.test`,
        stripeAccountId: input.stripeAccountId,
      },
    },
  };
}

/** A tip.created body for a USD booking (tipped half an hour ago by default). */
export function tipCreatedEvent(input: { bookingId: string; amount: number; tippedAt?: Date }): TBookingEvent {
  const at = (input.tippedAt ?? new Date(Date.now() - 30 * 60 * 1000)).toISOString();
  return {
    id: `evt_${randomUUID()}`,
    type: "tip.created",
    createdAt: at,
    data: { tipId: `tip_${randomUUID()}`, bookingId: input.bookingId, amount: input.amount, currency: "USD", createdAt: at },
  };
}

/** The request the platform sends for an event: the raw JSON, signed with the first configured secret. */
export function signedBookingRequest(event: TBookingEvent): Request {
  const raw = JSON.stringify(event);
  return new Request("http://localhost/api/webhooks/booking", {
    method: "POST",
    headers: { "content-type": "application/json", "payouts-signature": signBookingWebhook(raw, getEnv().BOOKING_WEBHOOK_SECRETS[0]!) },
    body: raw,
  });
}

/** Posts a signed event to POST /api/webhooks/booking; the answer's status and JSON body, once the apply that follows it has run. */
export async function sendBookingEvent(event: TBookingEvent): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await POST(signedBookingRequest(event), undefined);
  const body = (await response.json()) as Record<string, unknown>;
  await settleAfterTasks();
  return { status: response.status, body };
}

/** Cancels a booking through the webhook route (booking.cancelled at `cancelledAt`) and expects it applied. */
export async function cancelBookingByWebhook(bookingId: string, cancelledAt: Date, reason = "customer cancelled"): Promise<void> {
  const booking = await db.booking.findUniqueOrThrow({ where: { id: bookingId } });
  const at = cancelledAt.toISOString();
  const event = {
    id: `evt_${randomUUID()}`,
    type: "booking.cancelled",
    createdAt: at,
    data: { bookingId: booking.externalId, cancelledAt: at, reason },
  };
  expect((await sendBookingEvent(event)).status).toBe(200);
  expect(await db.webhookEvent.findFirstOrThrow({ where: { externalId: event.id } })).toMatchObject({ status: "processed" });
}

/** Stores a delivery as the route does (verified, stored, answered), without applying it: the stored row. */
export async function storeBookingEvent(event: TBookingEvent, deps: TWebhookDeps): Promise<WebhookEvent> {
  const { apply } = await receiveBookingWebhook(signedBookingRequest(event), { deps });
  expect(apply).not.toBeNull();
  return db.webhookEvent.findUniqueOrThrow({ where: { source_externalId: { source: "booking_platform", externalId: event.id } } });
}
