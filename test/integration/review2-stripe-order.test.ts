// Review 2: Stripe deliveries whose order of arrival changes the money or the state.
// Each test runs the same facts in two orders, on two fresh bookings, and expects the same end.
import { randomUUID } from "node:crypto";

import Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { POST } from "@/app/api/webhooks/stripe/route";
import { db } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { addTip } from "@/lib/tips/add-tip";

import { payoutOf, startEngineHarness, type TEngineHarness } from "../support/engine";

let h: TEngineHarness;

beforeAll(async () => {
  h = await startEngineHarness();
});

afterAll(async () => {
  await h.fake.stop();
});

beforeEach(() => {
  h.clock.set(new Date());
  globalThis.inngestReceiver.setDown(false);
});

const now = () => Math.floor(Date.now() / 1000);
const stripeId = (prefix: string) => `${prefix}_${randomUUID().replaceAll("-", "").slice(0, 24)}`;

function stripeEvent(type: string, object: unknown, extra: { created?: number; account?: string } = {}) {
  return {
    id: stripeId("evt"),
    object: "event",
    api_version: "2026-10-28.endive",
    created: extra.created ?? now(),
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: stripeId("req"), idempotency_key: randomUUID() },
    type,
    ...(extra.account ? { account: extra.account } : {}),
  };
}

function charge(input: { id: string; amount: number; amountRefunded: number }) {
  return {
    id: input.id,
    object: "charge",
    amount: input.amount,
    amount_captured: input.amount,
    amount_refunded: input.amountRefunded,
    captured: true,
    created: now() - 3 * 86_400,
    currency: "usd",
    metadata: {},
    paid: true,
    refunded: input.amountRefunded === input.amount,
    status: "succeeded",
    transfer_group: null,
  };
}

function dispute(input: { id: string; charge: string; amount: number; status: string }) {
  return {
    id: input.id,
    object: "dispute",
    amount: input.amount,
    charge: input.charge,
    created: now() - 60,
    currency: "usd",
    reason: "product_not_received",
    status: input.status,
  };
}

async function send(event: { id: string }) {
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
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const deliveryOf = (event: { id: string }) =>
  db.webhookEvent.findUnique({ where: { source_externalId: { source: "stripe", externalId: event.id } } });

describe("refund and a tip paid with the same charge", () => {
  it("the provider's part of a refund does not depend on whether the tip on that charge arrived before or after it", async () => {
    // The customer paid 120.00 on one charge: share 80.00 + tip 20.00 (both the provider's) + 20.00 commission.
    // Half of it (60.00) is refunded: the provider's part is 50 % of 100.00 = 50.00.
    async function scenario(order: "tip_first" | "refund_first") {
      const bookingCharge = stripeId("ch");
      const { bookingId } = await h.completeBooking({ providerShare: 8_000, stripeChargeId: bookingCharge });
      const tip = () =>
        addTip(h.ctx(), { tipExternalId: `tip_${randomUUID()}`, bookingId, amount: 2_000, currency: "USD", tippedAt: h.clock.now(), stripeChargeId: bookingCharge });
      const refunded = stripeEvent("charge.refunded", charge({ id: bookingCharge, amount: 12_000, amountRefunded: 6_000 }));
      if (order === "tip_first") await tip();
      expect((await send(refunded)).status).toBe(200);
      if (order === "refund_first") await tip();
      return payoutOf(bookingId);
    }

    const inOrder = await scenario("tip_first");
    expect(inOrder).toMatchObject({ tipAmount: 2_000, refundedAmount: 5_000, amount: 5_000 });
    const outOfOrder = await scenario("refund_first");
    expect(outOfOrder).toMatchObject({ tipAmount: 2_000, refundedAmount: inOrder.refundedAmount, amount: inOrder.amount });
  });

});
