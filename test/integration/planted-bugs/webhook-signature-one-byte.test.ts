// Planted-bug guard, class 3: a webhook whose signature is wrong in a single hex character, or
// whose body changed by a single byte after it was signed, is refused (booking webhook 401, Stripe
// webhook 400, as each contract says) and nothing is stored; the same request untouched is accepted.
// Every position is tried, so a check that compares only part of the signature (any prefix, suffix
// or subset of it) is caught, whichever part it is. The requests are signed here as the senders sign
// them (node:crypto per docs/webhooks.md; Stripe's SDK), never with the app's own helpers.
//
// Plants this file was run against (each made it fail):
//   booking webhook, lib/webhooks/booking-signature.ts `verifyBookingSignature`:
//   - only a prefix compared: `timingSafeEqual(expected.subarray(0, 16), candidate.subarray(0, 16))`;
//   - only a suffix compared: `timingSafeEqual(expected.subarray(16), candidate.subarray(16))`;
//   - length only: `matched = expected.length === candidate.length || matched`;
//   - a timing-safe compare on truncated buffers: both cut to half the shorter one's length;
//   - the body signed only in part: `.update(input.rawBody.subarray(0, 64))` (caught because the
//     authentic request, signed over the whole body, is then refused).
//   Stripe webhook, lib/stripe-webhooks/receive-stripe-webhook.ts `verifyStripeEvent` (the SDK's
//   constructEvent replaced by a hand-written check, as someone "simplifying" it might; the same
//   hand-written check comparing the whole signature passes this file):
//   - only a prefix of v1 compared (`expected.slice(0, 32) === v1.slice(0, 32)`);
//   - length only (`expected.length === v1.length`);
//   - a timing-safe compare on truncated buffers (the first 16 bytes);
//   - the body signed only in part (the HMAC of `t.` and its first 64 bytes; caught as above).
import { createHmac } from "node:crypto";

import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { POST as postBooking } from "@/app/api/webhooks/booking/route";
import { POST as postStripe } from "@/app/api/webhooks/stripe/route";
import { db } from "@/lib/db";
import { getEnv } from "@/lib/env";

import { settleAfterTasks } from "../../support/after-tasks";
import { bookingCompletedEvent } from "../../support/booking-webhook";
import { startFakeStripe, type TFakeStripe } from "../../support/fake-stripe";
import { stripeEvent, stripeId } from "../../support/stripe-fixtures";
import { pointAppStripeAt } from "../../support/stripe-webhook";

let fake: TFakeStripe;
let restoreStripe: () => void;

beforeAll(async () => {
  // Nothing here should reach Stripe; if a plant lets an event through, its handler asks the fake, not the internet.
  fake = await startFakeStripe();
  restoreStripe = pointAppStripeAt(fake);
});

afterAll(async () => {
  restoreStripe();
  await fake.stop();
});

/** The same hex string with the character at `index` changed to another hex digit (lower case, as sent). */
function flipHex(hex: string, index: number): string {
  const c = hex[index]!;
  return hex.slice(0, index) + (c === "0" ? "1" : "0") + hex.slice(index + 1);
}

/** The header with its (single) v1 value replaced by `mutate(v1)`. */
function withV1(header: string, mutate: (v1: string) => string): string {
  return header.replace(/v1=([0-9a-f]{64})/, (_m, v1: string) => `v1=${mutate(v1)}`);
}

function v1Of(header: string): string {
  return /v1=([0-9a-f]{64})/.exec(header)![1]!;
}

/** The bytes with the one at `index` changed (its lowest bit flipped). */
function flipByte(bytes: Uint8Array, index: number): Uint8Array<ArrayBuffer> {
  const copy = Uint8Array.from(bytes);
  copy[index]! ^= 0x01;
  return copy;
}

async function stored() {
  return {
    deliveries: await db.webhookEvent.count(),
    bookings: await db.booking.count(),
    providers: await db.provider.count(),
    audit: await db.auditLog.count(),
    outbox: await db.outboxEvent.count(),
  };
}

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` as docs/webhooks.md tells the booking
 * platform to sign, computed here rather than with the app's own helper, so a fault in it is not shared.
 */
function signAsThePlatform(raw: string): string {
  const t = Math.floor(Date.now() / 1000);
  return `t=${t},v1=${createHmac("sha256", getEnv().BOOKING_WEBHOOK_SECRETS[0]!).update(`${t}.${raw}`).digest("hex")}`;
}

describe("booking webhook (Payouts-Signature)", () => {
  async function post(body: Uint8Array<ArrayBuffer>, signature: string) {
    const response = await postBooking(
      new Request("http://localhost/api/webhooks/booking", {
        method: "POST",
        headers: { "content-type": "application/json", "payouts-signature": signature },
        body,
      }),
      undefined,
    );
    await settleAfterTasks();
    return { status: response.status, body: (await response.json()) as unknown };
  }

  const refused = { status: 401, body: { error: { code: "invalid_signature", message: expect.any(String) } } };

  it("one hex character of v1 changed, at any of its 64 positions: 401 and nothing stored; the untouched request is accepted", async () => {
    const event = bookingCompletedEvent({
      bookingId: `bk_${stripeId("")}`,
      providerId: `prov_${stripeId("")}`,
      stripeAccountId: stripeId("acct_", 16),
    });
    const raw = JSON.stringify(event);
    const body = new TextEncoder().encode(raw);
    const header = signAsThePlatform(raw);
    const v1 = v1Of(header);
    expect(v1).toHaveLength(64);
    const before = await stored();

    for (let i = 0; i < v1.length; i++) {
      expect(
        await post(
          body,
          withV1(header, (sig) => flipHex(sig, i)),
        ),
        `v1 changed at hex position ${i}`,
      ).toEqual(refused);
    }
    expect(await stored()).toEqual(before);

    // The same request, untouched, is authentic: the refusals above were for the one character.
    expect(await post(body, header)).toEqual({ status: 200, body: { received: true } });
    expect(await db.webhookEvent.findMany({ where: { externalId: event.id }, select: { status: true } })).toEqual([
      { status: "processed" },
    ]);
  });

  it("one byte of the body changed after signing, at any position: 401 and nothing stored; untouched it is accepted", async () => {
    const event = bookingCompletedEvent({
      bookingId: `bk_${stripeId("")}`,
      providerId: `prov_${stripeId("")}`,
      stripeAccountId: stripeId("acct_", 16),
    });
    const raw = JSON.stringify(event);
    const body = new TextEncoder().encode(raw);
    const header = signAsThePlatform(raw);
    const before = await stored();

    for (let i = 0; i < body.length; i++) {
      expect(await post(flipByte(body, i), header), `body byte ${i} (${JSON.stringify(raw[i])}) changed`).toEqual(refused);
    }
    expect(await stored()).toEqual(before);
    expect(await db.webhookEvent.count({ where: { externalId: event.id } })).toBe(0);

    // Untouched, it is accepted.
    expect(await post(body, header)).toEqual({ status: 200, body: { received: true } });
    expect(await db.webhookEvent.count({ where: { externalId: event.id } })).toBe(1);
  });
});

describe("Stripe webhook (Stripe-Signature)", () => {
  async function post(body: Uint8Array<ArrayBuffer>, signature: string) {
    const response = await postStripe(
      new Request("http://localhost/api/webhooks/stripe", {
        method: "POST",
        headers: { "content-type": "application/json", "stripe-signature": signature },
        body,
      }),
      { params: Promise.resolve({}) },
    );
    await settleAfterTasks();
    return { status: response.status, body: (await response.json()) as unknown };
  }

  // A bad signature, not a body that fails to parse: a plant that skips the check would answer otherwise.
  const refused = {
    status: 400,
    body: { error: { code: "invalid_signature", message: expect.stringMatching(/^The Stripe signature is not valid/) } },
  };

  /** A signed account.updated for an account no provider has (stored, then ignored, when authentic). */
  async function signedEvent() {
    const accountId = fake.addAccount({ payoutsEnabled: true, transfersCapability: "active" });
    const event = stripeEvent({ type: "account.updated", account: accountId, object: await fake.stripe().accounts.retrieve(accountId) });
    const raw = JSON.stringify(event);
    const header = Stripe.webhooks.generateTestHeaderString({ payload: raw, secret: getEnv().STRIPE_WEBHOOK_SECRET[0]! });
    return { event, raw, body: new TextEncoder().encode(raw), header };
  }

  it("one hex character of v1 changed, at any of its 64 positions: 400 and nothing stored; the untouched request is accepted", async () => {
    const { event, body, header } = await signedEvent();
    const v1 = v1Of(header);
    const before = await stored();

    for (let i = 0; i < v1.length; i++) {
      expect(
        await post(
          body,
          withV1(header, (sig) => flipHex(sig, i)),
        ),
        `v1 changed at hex position ${i}`,
      ).toEqual(refused);
    }
    expect(await stored()).toEqual(before);

    expect(await post(body, header)).toEqual({ status: 200, body: { received: true } });
    expect(await db.webhookEvent.count({ where: { externalId: event.id } })).toBe(1);
  });

  it("one byte of the body changed after signing, at any position: 400 and nothing stored; untouched it is accepted", async () => {
    const { event, raw, body, header } = await signedEvent();
    const before = await stored();

    for (let i = 0; i < body.length; i++) {
      expect(await post(flipByte(body, i), header), `body byte ${i} (${JSON.stringify(raw[i])}) changed`).toEqual(refused);
    }
    expect(await stored()).toEqual(before);
    expect(await db.webhookEvent.count({ where: { externalId: event.id } })).toBe(0);

    // Untouched, it is accepted.
    expect(await post(body, header)).toEqual({ status: 200, body: { received: true } });
    expect(await db.webhookEvent.count({ where: { externalId: event.id } })).toBe(1);
  });
});
