// Sends Stripe events to our webhook route the way Stripe does: the raw JSON, signed with
// the configured STRIPE_WEBHOOK_SECRET (the real SDK's generateTestHeaderString).
import { randomUUID } from "node:crypto";

import Stripe from "stripe";
import { afterAll, beforeAll, expect } from "vitest";

import { POST } from "@/app/api/webhooks/stripe/route";
import { db } from "@/lib/db";
import { getEnv, resetEnvForTests } from "@/lib/env";
import { resetStripeForTests } from "@/lib/stripe/client";

import { settleAfterTasks } from "./after-tasks";
import { type TEngineHarness, engineHarness } from "./engine";
import type { TFakeStripe } from "./fake-stripe";

/** A Stripe-looking id: `ch_…`, `evt_…`, `dp_…`. */
export const stripeId = (prefix: string) => `${prefix}_${randomUUID().replaceAll("-", "").slice(0, 24)}`;

/** Posts a signed event to POST /api/webhooks/stripe; the answer's status and JSON body, once the apply that follows it has run. */
export async function sendStripeEvent(event: { id: string }): Promise<{ status: number; body: Record<string, unknown> }> {
  const payload = JSON.stringify(event);
  const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: getEnv().STRIPE_WEBHOOK_SECRET[0]! });
  const response = await POST(
    new Request("http://localhost/api/webhooks/stripe", {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": header },
      body: payload,
    }),
    { params: Promise.resolve({}) },
  );
  const body = (await response.json()) as Record<string, unknown>;
  await settleAfterTasks();
  return { status: response.status, body };
}

/** The stored delivery of a Stripe event. */
export const stripeDeliveryOf = (event: { id: string }) =>
  db.webhookEvent.findUnique({ where: { source_externalId: { source: "stripe", externalId: event.id } } });

/**
 * Points the app's own Stripe client (getStripe, which the webhook routes use) at the fake Stripe,
 * so that what the handlers ask Stripe afresh (a charge, its refunds, an account) is what the test
 * built there. Returns the function that puts the environment back.
 */
export function pointAppStripeAt(fake: Pick<TFakeStripe, "env">): () => void {
  const saved = { ...process.env };
  Object.assign(process.env, fake.env(), { STRIPE_MAX_NETWORK_RETRIES: "0", STRIPE_TIMEOUT_MS: "2000" });
  resetEnvForTests();
  resetStripeForTests();
  return () => {
    process.env = saved;
    resetEnvForTests();
    resetStripeForTests();
  };
}

/** Sends a Stripe event and checks it was answered 200 and applied (`processed`). */
export async function sendProcessed(event: Stripe.Event): Promise<void> {
  expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true } });
  expect(await stripeDeliveryOf(event)).toMatchObject({ status: "processed" });
}

/**
 * The engine harness for a test file that sends Stripe events to the app's route, with the app's
 * own Stripe client pointed at the harness's fake Stripe: started before the file's tests and
 * stopped after them; each test starts at the real time with Inngest reachable. Call it at the
 * top of the file; the object it returns is filled in before the first test runs.
 */
export function appEngineHarness(): TEngineHarness {
  const h = engineHarness();
  let restoreStripe = () => {};
  beforeAll(() => {
    restoreStripe = pointAppStripeAt(h.fake);
  });
  // After hooks run in reverse order: the app's Stripe is restored before the fake one stops.
  afterAll(() => {
    restoreStripe();
  });
  return h;
}
