// The booking platform's events, end to end through the webhook route, in different orders of
// arrival: the provider is paid the same whatever order they came in.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { POST } from "@/app/api/webhooks/booking/route";
import { db } from "@/lib/db";
import { getEnv, resetEnvForTests } from "@/lib/env";
import { signBookingWebhook } from "@/lib/webhooks/booking-signature";

import { settleAfterTasks } from "../../support/after-tasks";

const SECRET = "whsec_order_independence_secret";
const HOUR = 60 * 60 * 1000;

beforeAll(() => {
  process.env.BOOKING_WEBHOOK_SECRETS = SECRET;
  resetEnvForTests();
  expect(getEnv().BOOKING_WEBHOOK_SECRETS).toEqual([SECRET]);
});

afterAll(() => {
  resetEnvForTests();
});

beforeEach(() => {
  globalThis.inngestReceiver.setDown(false);
});

let seq = 0;
const uid = (prefix: string) => `${prefix}_oi${Date.now().toString(36)}${(seq++).toString(36)}`;

type TBody = { id: string; type: string; createdAt: string; data: Record<string, unknown> };

function completedEvent(bookingId: string, completedAt = new Date(Date.now() - HOUR)): TBody {
  const key = bookingId.replace(/[^A-Za-z0-9]/g, "");
  return {
    id: uid("evt"),
    type: "booking.completed",
    createdAt: completedAt.toISOString(),
    data: {
      bookingId,
      completedAt: completedAt.toISOString(),
      currency: "USD",
      providerShare: 8_000,
      chargeId: `ch_${key}`,
      provider: { id: `prov_${key}`, name: "Pat Provider", email: `pat-${key}@example.test`, stripeAccountId: `acct_${key}` },
    },
  };
}

function tipEvent(bookingId: string, at = new Date(Date.now() - HOUR / 2)): TBody {
  return {
    id: uid("evt"),
    type: "tip.created",
    createdAt: at.toISOString(),
    data: { tipId: uid("tip"), bookingId, amount: 1_500, currency: "USD", createdAt: at.toISOString() },
  };
}

function disputeOpenedEvent(bookingId: string, disputeId: string): TBody {
  const at = new Date(Date.now() - HOUR / 4).toISOString();
  return {
    id: uid("evt"),
    type: "dispute.opened",
    createdAt: at,
    data: { disputeId, bookingId, reason: "service not as described", openedAt: at, scope: "booking" },
  };
}

function disputeResolvedEvent(bookingId: string, disputeId: string): TBody {
  const at = new Date(Date.now() - HOUR / 8).toISOString();
  return {
    id: uid("evt"),
    type: "dispute.resolved",
    createdAt: at,
    data: { disputeId, bookingId, resolvedAt: at, outcome: "customer_won", refundedAmount: 8_000 },
  };
}

async function send(body: TBody) {
  const raw = JSON.stringify(body);
  const request = new Request("http://localhost/api/webhooks/booking", {
    method: "POST",
    headers: { "content-type": "application/json", "payouts-signature": signBookingWebhook(raw, SECRET) },
    body: raw,
  });
  const response = await POST(request, undefined);
  await settleAfterTasks();
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const deliveryOf = (body: TBody) =>
  db.webhookEvent.findUnique({ where: { source_externalId: { source: "booking_platform", externalId: body.id } } });

async function payoutOfExternal(bookingExternalId: string) {
  const booking = await db.booking.findUniqueOrThrow({ where: { externalId: bookingExternalId } });
  return db.payout.findUniqueOrThrow({ where: { bookingId: booking.id } });
}

describe("a refund that takes everything, and a tip", () => {
  // A payout whose refunds took everything is not cancelled while a tip may still join it
  // (until it is due and the tip window has closed): it stays open at zero, and nothing is
  // transferred at zero. A tip in the window is therefore paid whether it arrives before or
  // after the refund.
  it("a tip in the window is paid whether it arrives before or after a dispute refund that took the whole share", async () => {
    async function scenario(order: "tip_first" | "refund_first") {
      const bookingId = uid("bk");
      const disputeId = uid("dsp");
      const tip = tipEvent(bookingId);
      expect((await send(completedEvent(bookingId))).status).toBe(200);
      if (order === "tip_first") expect((await send(tip)).status).toBe(200);
      expect((await send(disputeOpenedEvent(bookingId, disputeId))).status).toBe(200);
      // The customer won: the provider gives back their whole share of 80.00.
      expect((await send(disputeResolvedEvent(bookingId, disputeId))).status).toBe(200);
      if (order === "refund_first") {
        expect(await payoutOfExternal(bookingId)).toMatchObject({ status: "scheduled", amount: 0 });
        expect((await send(tip)).status).toBe(200);
      }
      return { payout: await payoutOfExternal(bookingId), tipDelivery: await deliveryOf(tip) };
    }

    const inOrder = await scenario("tip_first");
    // Share 80.00 + tip 15.00 - refund 80.00: the tip is still the provider's.
    expect(inOrder.payout).toMatchObject({ status: "scheduled", tipAmount: 1_500, refundedAmount: 8_000, amount: 1_500 });

    const outOfOrder = await scenario("refund_first");
    expect(outOfOrder.tipDelivery).toMatchObject({ status: "processed" });
    expect(outOfOrder.payout).toMatchObject({
      status: inOrder.payout.status,
      tipAmount: 1_500,
      refundedAmount: 8_000,
      amount: inOrder.payout.amount,
    });
  });
});
