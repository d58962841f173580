// The demo's outbound webhooks to the booking platform: one endpoint, and for the most recent
// payouts the events their histories gave it, delivered (one retried after a 503, one given up
// after 3 days of failures, so the log shows each). Pure: rows only, no I/O; nothing is left
// pending, so a demo server never sends to the demo endpoint's (unresolvable) host for old events.
import { createHash } from "node:crypto";

import type { Prisma } from "@/generated/prisma/client";
import { nextAttemptAfterFailure } from "@/lib/platform-webhooks/backoff";
import type { TPlatformEventType } from "@/lib/platform-webhooks/event-types";
import { generateWebhookSecret } from "@/lib/platform-webhooks/signature";

import type { TDemoDataset, TPayoutRow } from "./demo-dataset-types";

export const DEMO_PLATFORM_ENDPOINT_URL = "https://booking-platform.example.test/webhooks/payouts";
/** How many of the most recent payouts have their events in the log. */
const DEMO_PAYOUTS_WITH_EVENTS = 30;
const DAY = 24 * 60 * 60 * 1000;

export type TDemoPlatformWebhooks = {
  endpoints: Prisma.PlatformWebhookEndpointCreateManyInput[];
  secrets: Prisma.PlatformWebhookSecretCreateManyInput[];
  events: Prisma.PlatformWebhookEventCreateManyInput[];
  deliveries: Prisma.PlatformWebhookDeliveryCreateManyInput[];
  attempts: Prisma.PlatformWebhookAttemptCreateManyInput[];
};

/** A uuid derived from a name: the same data set gives the same ids. */
function uuidOf(name: string): string {
  const h = createHash("sha256").update(`demo-platform-webhooks:${name}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The events a payout's history gave the platform (as platformEventForPayoutChange decides them). */
function eventsOf(p: TPayoutRow): { type: TPlatformEventType; at: Date; status: string }[] {
  const events: { type: TPlatformEventType; at: Date; status: string }[] = [
    { type: "payout.scheduled", at: p.createdAt, status: "scheduled" },
  ];
  const at = p.transferredAt ?? p.updatedAt;
  switch (p.status) {
    case "on_hold":
      events.push({ type: "payout.held", at: p.updatedAt, status: p.status });
      break;
    case "transferred":
      events.push({ type: "payout.transferred", at, status: p.status });
      break;
    case "partially_reversed":
    case "reversed":
      events.push(
        { type: "payout.transferred", at, status: "transferred" },
        { type: "payout.reversed", at: p.updatedAt, status: p.status },
      );
      break;
    case "failed":
      events.push({ type: "payout.failed", at: p.updatedAt, status: p.status });
      break;
    case "cancelled":
      events.push({ type: "payout.cancelled", at: p.updatedAt, status: p.status });
      break;
    case "scheduled":
    case "processing":
      break;
  }
  return events;
}

export function buildDemoPlatformWebhooks(data: TDemoDataset, now: Date): TDemoPlatformWebhooks {
  const out: TDemoPlatformWebhooks = { endpoints: [], secrets: [], events: [], deliveries: [], attempts: [] };
  const newestFirst = [...data.payouts].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  // The most recent payouts, and one older than the retry window whose first delivery was given up.
  const old = newestFirst.find((p) => now.getTime() - p.createdAt.getTime() > 4 * DAY);
  const recent = [...newestFirst.slice(0, DEMO_PAYOUTS_WITH_EVENTS).filter((p) => p !== old), ...(old ? [old] : [])];
  const oldest = recent.at(-1)?.createdAt ?? now;
  const endpointId = uuidOf("endpoint");
  const createdAt = new Date(oldest.getTime() - 60 * 60 * 1000);
  out.endpoints.push({
    id: endpointId,
    url: DEMO_PLATFORM_ENDPOINT_URL,
    description: "Demo: the booking platform",
    source: "admin",
    eventTypes: [],
    createdAt,
  });
  out.secrets.push({ id: uuidOf("secret"), endpointId, secret: generateWebhookSecret(), createdAt });
  const bookings = new Map(data.bookings.map((b) => [b.id, b]));
  const providers = new Map(data.providers.map((p) => [p.id, p]));

  let n = 0;
  for (const payout of recent) {
    const booking = bookings.get(payout.bookingId);
    const provider = providers.get(payout.providerId);
    eventsOf(payout).forEach((event, index) => {
      const sequence = index + 1;
      const id = uuidOf(`event:${payout.id}:${sequence}`);
      out.events.push({
        id,
        type: event.type,
        subjectId: payout.id,
        sequence,
        createdAt: event.at,
        fannedOutAt: event.at,
        payload: {
          payoutId: payout.id,
          sequence,
          status: event.status,
          currency: payout.currency,
          amount: payout.amount,
          providerShare: payout.providerShare,
          tipAmount: payout.tipAmount,
          refundedAmount: payout.refundedAmount,
          reversedAmount: event.type === "payout.reversed" ? payout.reversedAmount : 0,
          bookingId: booking?.externalId ?? null,
          providerId: provider?.externalId ?? null,
          holdReason: event.status === "on_hold" ? payout.holdReason : null,
          cancelReason: event.status === "cancelled" ? payout.cancelReason : null,
          stripe: {
            accountId: provider?.stripeAccountId ?? null,
            chargeId: booking?.stripeChargeId ?? null,
            transferId: event.type === "payout.scheduled" ? null : payout.stripeTransferId,
          },
        },
      });
      const deliveryId = uuidOf(`delivery:${id}`);
      n += 1;
      // Every 7th needed a second try after a 503; the old payout's first delivery gave up after 3 days.
      const gaveUp = payout === old && sequence === 1;
      const answers: { at: Date; status: number | null; body: string; error: string | null; ms: number }[] = [];
      if (gaveUp) {
        let at = event.at;
        for (let attempt = 1; ; attempt++) {
          answers.push({
            at,
            status: attempt % 3 === 0 ? null : 503,
            body: attempt % 3 === 0 ? "" : "Service Unavailable",
            error: attempt % 3 === 0 ? "No answer within 10000 ms" : "HTTP 503",
            ms: attempt % 3 === 0 ? 10_000 : 35,
          });
          const next = nextAttemptAfterFailure({ attempts: attempt, since: event.at, now: at, random: () => 0.5 });
          if (!next) break;
          at = next;
        }
      } else {
        if (n % 7 === 0) answers.push({ at: event.at, status: 503, body: "Service Unavailable", error: "HTTP 503", ms: 48 });
        const at = new Date(event.at.getTime() + answers.length * 10_000);
        answers.push({ at, status: 200, body: '{"received":true}', error: null, ms: 60 + (n % 9) * 17 });
      }
      const last = answers.at(-1)!;
      const ok = !gaveUp;
      out.deliveries.push({
        id: deliveryId,
        eventId: id,
        endpointId,
        status: ok ? "succeeded" : "failed",
        attempts: answers.length,
        nextAttemptAt: null,
        lastStatus: last.status,
        lastError: last.error,
        deliveredAt: ok ? last.at : null,
        createdAt: event.at,
        updatedAt: last.at,
      });
      answers.forEach((a, i) =>
        out.attempts.push({
          id: uuidOf(`attempt:${deliveryId}:${i + 1}`),
          deliveryId,
          number: i + 1,
          startedAt: a.at,
          durationMs: a.ms,
          statusCode: a.status,
          responseBody: a.body,
          error: a.error,
          createdAt: a.at,
        }),
      );
    });
  }
  return out;
}
