// The same booking.completed delivered 50 times at once: one stored delivery, one payout,
// and — after the engine has run, duplicates and all — at most one Stripe transfer.
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { POST } from "@/app/api/webhooks/booking/route";
import { db } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { signBookingWebhook } from "@/lib/webhooks/booking-signature";

import { settleAfterTasks } from "../../support/after-tasks";
import { HOUR, startEngineHarness, type TEngineHarness } from "../../support/engine";

let h: TEngineHarness;

beforeAll(async () => {
  h = await startEngineHarness();
});

afterAll(async () => {
  await h.fake.stop();
});

function completedBody(input: { eventId: string; bookingId: string; stripeAccountId: string; completedAt: Date }) {
  return JSON.stringify({
    id: input.eventId,
    type: "booking.completed",
    createdAt: input.completedAt.toISOString(),
    data: {
      bookingId: input.bookingId,
      completedAt: input.completedAt.toISOString(),
      currency: "USD",
      providerShare: 12_345,
      provider: {
        id: `prov_${input.bookingId}`,
        name: "Concurrent Provider",
        email: `${input.bookingId}@example.test`,
        stripeAccountId: input.stripeAccountId,
      },
    },
  });
}

async function post(raw: string) {
  const request = new Request("http://localhost/api/webhooks/booking", {
    method: "POST",
    headers: { "content-type": "application/json", "payouts-signature": signBookingWebhook(raw, getEnv().BOOKING_WEBHOOK_SECRETS) },
    body: raw,
  });
  const response = await POST(request, undefined);
  await settleAfterTasks();
  await settleAfterTasks();
  return response;
}

describe("50 concurrent deliveries of the same booking.completed", () => {
  it("all answer 200, one delivery and one payout are stored, and the engine makes at most one transfer", async () => {
    const bookingId = `bk_concurrent_${Date.now().toString(36)}`;
    const stripeAccountId = h.account();
    // Completed 49 h ago: the payout is due as soon as it exists.
    const raw = completedBody({ eventId: `evt_${bookingId}`, bookingId, stripeAccountId, completedAt: new Date(Date.now() - 49 * HOUR) });

    const responses = await Promise.all(Array.from({ length: 50 }, () => post(raw)));
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 50 }, () => 200));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as { received: boolean; duplicate?: boolean }[];
    expect(bodies.every((b) => b.received)).toBe(true);
    expect(bodies.filter((b) => !b.duplicate)).toHaveLength(1);

    const deliveries = await db.webhookEvent.findMany({ where: { bookingExternalId: bookingId } });
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ status: "processed", applyAttempts: 1 });
    const booking = await db.booking.findUniqueOrThrow({ where: { externalId: bookingId }, include: { payout: true } });
    expect(await db.payout.count({ where: { bookingId: booking.id } })).toBe(1);
    expect(booking.payout).toMatchObject({ status: "scheduled", amount: 12_345 });
    expect(await db.auditLog.count({ where: { entityId: booking.id, action: "booking.completed" } })).toBe(1);
    const sent = globalThis.inngestReceiver.events().filter((e) => e.name === "booking/completed" && e.data.bookingId === booking.id);
    expect(sent.length).toBeGreaterThanOrEqual(1);
    expect(new Set(sent.map((e) => e.id))).toEqual(new Set([deliveries[0]!.id]));

    // The provider's account is ready (as Stripe's account.updated would say), then the
    // engine runs: every booking/completed Inngest received, twice over (a duplicate run).
    await db.provider.update({ where: { stripeAccountId }, data: { payoutsEnabled: true } });
    for (const event of [...sent, ...sent]) {
      const run = await h.run("schedule", { name: event.name, data: event.data });
      expect(run.error).toBeUndefined();
    }
    const payoutId = booking.payout!.id;
    const requested = globalThis.inngestReceiver
      .events()
      .filter((e) => e.name === "payout/transfer.requested" && e.data.payoutId === payoutId);
    expect(requested.length).toBeGreaterThanOrEqual(1);
    // Every transfer request, each delivered three times, all at once.
    await Promise.all([...requested, ...requested, ...requested].map((e) => h.run("transfer", { name: e.name, data: e.data })));
    await h.run("reconcile", null);

    const transfers = h.fake.transfers().filter((t) => t.metadata?.payoutId === payoutId);
    expect(transfers.length).toBeLessThanOrEqual(1);
    expect(transfers).toMatchObject([{ amount: 12_345, destination: stripeAccountId }]);
    expect(await db.payout.findUniqueOrThrow({ where: { id: payoutId } })).toMatchObject({
      status: "transferred",
      stripeTransferId: transfers[0]!.id,
    });
  });

  it("the same booking under 10 different delivery ids at once: 10 deliveries, one booking, one payout", async () => {
    const bookingId = `bk_ids_${Date.now().toString(36)}`;
    const stripeAccountId = h.account();
    const completedAt = new Date(Date.now() - HOUR);
    const raws = Array.from({ length: 10 }, (_, i) =>
      completedBody({ eventId: `evt_${bookingId}_${i}`, bookingId, stripeAccountId, completedAt }),
    );
    const responses = await Promise.all(raws.map(post));
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 10 }, () => 200));
    const deliveries = await db.webhookEvent.findMany({ where: { bookingExternalId: bookingId } });
    expect(deliveries.map((d) => d.status)).toEqual(Array.from({ length: 10 }, () => "processed"));
    expect(await db.booking.count({ where: { externalId: bookingId } })).toBe(1);
    expect(await db.payout.count({ where: { booking: { externalId: bookingId } } })).toBe(1);
    expect(deliveries.filter((d) => d.error === null)).toHaveLength(1);
  });
});
