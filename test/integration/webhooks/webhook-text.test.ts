// Text PostgreSQL cannot store (the NUL character, an unpaired UTF-16 surrogate) is valid JSON,
// so it passes the JSON and schema checks of both webhook routes. It must never reach the
// store as is, where it would fail and be answered 500 on every retry: the booking platform's
// body is refused with a 400 naming the field; Stripe's signed event is stored with the
// characters replaced by U+FFFD and applied like any other.
import { randomUUID } from "node:crypto";

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { POST as postBooking } from "@/app/api/webhooks/booking/route";
import { db } from "@/lib/db";
import { getEnv, resetEnvForTests } from "@/lib/env";
import { signBookingWebhook } from "@/lib/webhooks/booking-signature";

import { settleAfterTasks } from "../../support/after-tasks";
import { payoutOf, startEngineHarness, type TEngineHarness } from "../../support/engine";
import { sendStripeEvent, stripeId } from "../../support/stripe-webhook";

const SECRET = "whsec_booking_text_secret";
const HOUR = 60 * 60 * 1000;
const GRINNING_FACE = "\ud83d\ude00";

let h: TEngineHarness;

beforeAll(async () => {
  process.env.BOOKING_WEBHOOK_SECRETS = SECRET;
  resetEnvForTests();
  expect(getEnv().BOOKING_WEBHOOK_SECRETS).toEqual([SECRET]);
  h = await startEngineHarness();
});

afterAll(async () => {
  resetEnvForTests();
  await h.fake.stop();
});

beforeEach(() => {
  h.clock.set(new Date());
  globalThis.inngestReceiver.setDown(false);
});

const uid = (prefix: string) => `${prefix}_${randomUUID().replaceAll("-", "").slice(0, 16)}`;

type TBody = { id: string; type: string; createdAt: string; data: Record<string, unknown> };

function completedEvent(bookingId: string, provider: Record<string, unknown> = {}): TBody {
  const at = new Date(Date.now() - HOUR).toISOString();
  const key = bookingId.replace(/[^A-Za-z0-9]/g, "");
  return {
    id: uid("evt"),
    type: "booking.completed",
    createdAt: at,
    data: {
      bookingId,
      completedAt: at,
      currency: "USD",
      providerShare: 8_000,
      provider: { id: `prov_${key}`, name: "Pat Provider", email: `pat-${key}@example.test`, ...provider },
    },
  };
}

function cancelledEvent(bookingId: string, reason: string): TBody {
  const at = new Date().toISOString();
  return { id: uid("evt"), type: "booking.cancelled", createdAt: at, data: { bookingId, cancelledAt: at, reason } };
}

/** Posts a body signed as sent; JSON.stringify writes NUL and unpaired surrogates as \u escapes. */
async function sendBooking(body: TBody) {
  const raw = JSON.stringify(body);
  const response = await postBooking(
    new Request("http://localhost/api/webhooks/booking", {
      method: "POST",
      headers: { "content-type": "application/json", "payouts-signature": signBookingWebhook(raw, SECRET) },
      body: raw,
    }),
    undefined,
  );
  await settleAfterTasks();
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const bookingDelivery = (body: TBody) =>
  db.webhookEvent.findUnique({ where: { source_externalId: { source: "booking_platform", externalId: body.id } } });

describe("POST /api/webhooks/booking: text that cannot be stored", () => {
  it("a NUL character in a text field is a 400 naming the field, and nothing is stored", async () => {
    const body = completedEvent(uid("bk"), { name: "Pat\u0000Provider" });
    const answer = await sendBooking(body);
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({
      error: { code: "validation_failed", details: { issues: [{ path: "data.provider.name", message: expect.stringContaining("NUL") }] } },
    });
    expect(await bookingDelivery(body)).toBeNull();
    expect(await db.booking.findUnique({ where: { externalId: String(body.data.bookingId) } })).toBeNull();
  });

  it("an unpaired UTF-16 surrogate in a text field is a 400 naming the field, and nothing changes", async () => {
    const bookingId = uid("bk");
    expect((await sendBooking(completedEvent(bookingId))).status).toBe(200);
    const cancelled = cancelledEvent(bookingId, "customer cancelled \ud800");
    const answer = await sendBooking(cancelled);
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({
      error: { code: "validation_failed", details: { issues: [{ path: "data.reason", message: expect.stringContaining("surrogate") }] } },
    });
    expect(await bookingDelivery(cancelled)).toBeNull();
    expect(await db.booking.findUniqueOrThrow({ where: { externalId: bookingId } })).toMatchObject({ cancelledAt: null });
  });

  it("lists the text errors with the schema's own, every field at once", async () => {
    const body = completedEvent(uid("bk"), { name: "\u0000" });
    body.data.providerShare = -1;
    const answer = await sendBooking(body);
    expect(answer.status).toBe(400);
    const issues = (answer.json as { error: { details: { issues: { path: string }[] } } }).error.details.issues;
    expect(issues.map((i) => i.path).sort()).toEqual(["data.provider.name", "data.providerShare"]);
  });

  it("accepts characters outside the Basic Multilingual Plane (a well-formed surrogate pair)", async () => {
    const body = completedEvent(uid("bk"), { name: `Pat ${GRINNING_FACE}` });
    expect((await sendBooking(body)).status).toBe(200);
    expect(await bookingDelivery(body)).toMatchObject({ status: "processed" });
    const provider = await db.provider.findFirstOrThrow({ where: { bookings: { some: { externalId: String(body.data.bookingId) } } } });
    expect(provider.name).toBe(`Pat ${GRINNING_FACE}`);
  });
});

describe("POST /api/webhooks/stripe: text that cannot be stored", () => {
  it("stores the signed event with U+FFFD in place of a NUL or an unpaired surrogate, and applies it", async () => {
    const chargeId = stripeId("ch");
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: chargeId });
    const event = {
      id: stripeId("evt"),
      object: "event",
      api_version: "2026-10-28.endive",
      created: Math.floor(Date.now() / 1000),
      data: {
        object: {
          id: chargeId,
          object: "charge",
          amount: 10_000,
          amount_captured: 10_000,
          amount_refunded: 5_000,
          billing_details: { name: "Chris \ud800Customer" },
          captured: true,
          currency: "usd",
          description: "Booking\u0000 with Pat",
          metadata: { ["note\u0000"]: "x" },
          paid: true,
          refunded: false,
          status: "succeeded",
          transfer_group: null,
        },
      },
      livemode: false,
      pending_webhooks: 1,
      request: { id: stripeId("req"), idempotency_key: randomUUID() },
      type: "charge.refunded",
    };
    expect((await sendStripeEvent(event)).status).toBe(200);

    const delivery = await db.webhookEvent.findUniqueOrThrow({ where: { source_externalId: { source: "stripe", externalId: event.id } } });
    expect(delivery).toMatchObject({ status: "processed" });
    const stored = (delivery.payload as { data: { object: Record<string, unknown> } }).data.object;
    expect(stored).toMatchObject({
      description: "Booking\uFFFD with Pat",
      billing_details: { name: "Chris \uFFFDCustomer" },
      metadata: { "note\uFFFD": "x" },
    });
    // The refund took the provider's part (80 % of 50.00) as with any other event.
    expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 4_000 });

    // Stripe's retry of the same event is a duplicate, not a second refund.
    expect((await sendStripeEvent(event)).status).toBe(200);
    expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 4_000 });
  });
});
