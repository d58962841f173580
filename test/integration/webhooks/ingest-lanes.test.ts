// Issue 13: the webhooks answer once a delivery is stored and apply it after answering, in its
// booking's lane: one at a time, oldest first, never twice, with any number of servers; a
// delivery whose apply never ran (a crash after the answer) is applied by the sweep.
import { randomUUID } from "node:crypto";

import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

import { Prisma, type PrismaClient } from "@/generated/prisma/client";
import { createPrismaClient, db } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { applyInOrder, laneKeyOf, LANE_LEASE_MS } from "@/lib/ingest/apply-in-order";
import { APPLY_CONCURRENCY, applyReceivedDelivery, BATCHES_AT_ONCE } from "@/lib/ingest/apply-received";
import { reapplyStaleDeliveries, STALE_DELIVERY_MS } from "@/lib/ingest/reapply-stale-deliveries";
import { receiveBookingWebhook } from "@/lib/ingest/receive-booking-webhook";
import type { TWebhookDeps } from "@/lib/webhooks/types";

import { settleAfterTasks } from "../../support/after-tasks";
import { bookingCompletedEvent, type TBookingEvent, tipCreatedEvent, signedBookingRequest } from "../../support/booking-webhook";
import { startEngineHarness, type TEngineHarness } from "../../support/engine";

// Who applies what, when: the real applyDelivery, timed (to see that a lane never runs two at once).
// A delivery's apply can also be held at a gate (a slow Stripe call), once.
const spans = vi.hoisted(() => [] as { id: string; start: number; end: number }[]);
const gates = vi.hoisted(() => new Map<string, { entered: () => void; release: Promise<void> }>());
vi.mock("@/lib/ingest/apply-delivery", async (importOriginal) => {
  const original = await importOriginal<typeof import("@/lib/ingest/apply-delivery")>();
  return {
    applyDelivery: async (...args: Parameters<typeof original.applyDelivery>) => {
      const start = performance.now();
      try {
        const gate = gates.get(args[1].id);
        if (gate) {
          gates.delete(args[1].id);
          gate.entered();
          await gate.release;
        }
        return await original.applyDelivery(...args);
      } finally {
        spans.push({ id: args[1].id, start, end: performance.now() });
      }
    },
  };
});

// Completions of new bookings and tips are recorded in batches (apply-batch.ts): each delivery a batch
// records gets the batch's span (one span per batch for the concurrency count), and a gate on
// any of them holds the batch.
const batchSpans = vi.hoisted(() => [] as { ids: string[]; start: number; end: number }[]);
const timedBatch = vi.hoisted(
  () =>
    <TArgs extends [unknown, readonly { delivery: { id: string } }[]], TResult extends { applied: string[] }>(
      record: (...args: TArgs) => Promise<TResult>,
    ) =>
    async (...args: TArgs): Promise<TResult> => {
      const start = performance.now();
      let applied: string[] = [];
      try {
        for (const { delivery } of args[1]) {
          const gate = gates.get(delivery.id);
          if (!gate) continue;
          gates.delete(delivery.id);
          gate.entered();
          await gate.release;
        }
        const result = await record(...args);
        applied = result.applied;
        return result;
      } finally {
        const end = performance.now();
        for (const id of applied) spans.push({ id, start, end });
        if (applied.length > 0) batchSpans.push({ ids: applied, start, end });
      }
    },
);
vi.mock("@/lib/webhooks/record-new-completed-bookings", async (importOriginal) => {
  const original = await importOriginal<typeof import("@/lib/webhooks/record-new-completed-bookings")>();
  return { recordNewCompletedBookings: timedBatch(original.recordNewCompletedBookings) };
});
vi.mock("@/lib/webhooks/record-plain-tips", async (importOriginal) => {
  const original = await importOriginal<typeof import("@/lib/webhooks/record-plain-tips")>();
  return { recordPlainTips: timedBatch(original.recordPlainTips) };
});

let h: TEngineHarness;
const servers: PrismaClient[] = [];

beforeAll(async () => {
  h = await startEngineHarness();
  // Three more "servers": their own connection pools to the same database.
  for (let i = 0; i < 3; i++) servers.push(createPrismaClient(getEnv().DATABASE_URL));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.$disconnect()));
  await h.fake.stop();
});

const key = () => randomUUID().slice(0, 8);

function completed(bookingId: string): TBookingEvent {
  const id = key();
  return bookingCompletedEvent({ bookingId, providerId: `prov_${id}`, stripeAccountId: h.fake.addAccount(), providerShare: 8_000 });
}

const deliveriesOf = (bookingId: string) =>
  db.webhookEvent.findMany({ where: { bookingExternalId: bookingId }, orderBy: [{ receivedAt: "asc" }, { id: "asc" }] });

describe("answer first, apply after", () => {
  it("the answer comes once the delivery is stored; applying it is what runs after", async () => {
    const bookingId = `bk_${key()}`;
    const event = completed(bookingId);
    const { answer, apply } = await receiveBookingWebhook(signedBookingRequest(event), { deps: { db, stripe: () => h.stripe } });
    expect(answer).toEqual({ received: true });
    // Stored, not applied: no booking yet, nothing sent.
    expect(await deliveriesOf(bookingId)).toMatchObject([{ status: "received", applyAttempts: 0 }]);
    expect(await db.booking.count({ where: { externalId: bookingId } })).toBe(0);

    await apply!();
    expect(await deliveriesOf(bookingId)).toMatchObject([{ status: "processed", applyAttempts: 1 }]);
    expect(await db.payout.count({ where: { booking: { externalId: bookingId } } })).toBe(1);
    expect(await db.ingestLane.count()).toBe(0);

    // The same delivery again: a duplicate, nothing to apply.
    expect(await receiveBookingWebhook(signedBookingRequest(event), { deps: { db, stripe: () => h.stripe } })).toEqual({
      answer: { received: true, duplicate: true },
      apply: null,
    });
  });

  it("a server that dies after answering: the sweep applies what it stored, in order", async () => {
    const bookingId = `bk_${key()}`;
    const deps: TWebhookDeps = { db, stripe: () => h.stripe };
    // Answered, never applied: the booking, then a tip on it.
    await receiveBookingWebhook(signedBookingRequest(completed(bookingId)), { deps });
    await receiveBookingWebhook(signedBookingRequest(tipCreatedEvent({ bookingId, amount: 1_500 })), { deps });
    expect((await deliveriesOf(bookingId)).map((d) => d.status)).toEqual(["received", "received"]);

    // Not yet stale: the sweep leaves them to the server that may still be applying them.
    await reapplyStaleDeliveries(deps, { now: new Date() });
    expect((await deliveriesOf(bookingId)).map((d) => d.status)).toEqual(["received", "received"]);

    const result = await reapplyStaleDeliveries(deps, { now: new Date(Date.now() + STALE_DELIVERY_MS + 1_000) });
    expect(result.processed).toBeGreaterThanOrEqual(1);
    // Both applied once, the booking first (the tip was not deferred on the way).
    expect(await deliveriesOf(bookingId)).toMatchObject([
      { status: "processed", applyAttempts: 1 },
      { status: "processed", applyAttempts: 1 },
    ]);
    expect(await db.payout.findFirst({ where: { booking: { externalId: bookingId } } })).toMatchObject({ amount: 9_500 });
  });
});

describe("one lane per booking", () => {
  it("deliveries of one booking arriving together apply one at a time, oldest first, once each", async () => {
    const bookings = Array.from({ length: 12 }, () => `bk_${key()}`);
    spans.length = 0;
    batchSpans.length = 0;
    // Each booking: completed then three tips, sent back to back; the applies run after the answers.
    await Promise.all(
      bookings.map(async (bookingId) => {
        await sendWithoutWaiting(completed(bookingId));
        for (const amount of [100, 200, 300]) await sendWithoutWaiting(tipCreatedEvent({ bookingId, amount }));
      }),
    );
    await settleAfterTasks();

    for (const bookingId of bookings) {
      const deliveries = await deliveriesOf(bookingId);
      // Had a tip been applied before its booking it would have been deferred first (two attempts).
      expect(deliveries.map((d) => [d.status, d.applyAttempts])).toEqual([
        ["processed", 1],
        ["processed", 1],
        ["processed", 1],
        ["processed", 1],
      ]);
      const own = deliveries.map((d) => spans.filter((s) => s.id === d.id));
      expect(own.map((s) => s.length)).toEqual([1, 1, 1, 1]);
      for (let i = 1; i < own.length; i++) expect(own[i]![0]!.start).toBeGreaterThanOrEqual(own[i - 1]![0]!.end);
      expect(await db.payout.findFirst({ where: { booking: { externalId: bookingId } } })).toMatchObject({ amount: 8_600 });
    }
    expect(await db.ingestLane.count()).toBe(0);
    // One process applies at most APPLY_CONCURRENCY lanes at once (the rest wait their turn), and
    // BATCHES_AT_ONCE batches (each applying one thing at a time); a batch counts once.
    const inBatches = new Set(batchSpans.flatMap((b) => b.ids));
    const edges = [...spans.filter((s) => !inBatches.has(s.id)), ...batchSpans]
      .flatMap((s) => [
        { at: s.start, d: 1 },
        { at: s.end, d: -1 },
      ])
      .sort((a, b) => a.at - b.at || a.d - b.d);
    let open = 0;
    let most = 0;
    for (const edge of edges) most = Math.max(most, (open += edge.d));
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(APPLY_CONCURRENCY + BATCHES_AT_ONCE);
  });

  it("four servers racing over the same lanes: each delivery applied once, in order, nothing left behind", async () => {
    const deps = [db, ...servers].map((server): TWebhookDeps => ({ db: server, stripe: () => h.stripe }));
    for (let round = 0; round < 5; round++) {
      const bookings = Array.from({ length: 4 }, () => `bk_${key()}`);
      spans.length = 0;
      // Stored by any server; each server, after each answer, applies that delivery's lane.
      const applies: Promise<unknown>[] = [];
      await Promise.all(
        bookings.map(async (bookingId, b) => {
          const events = [completed(bookingId), tipCreatedEvent({ bookingId, amount: 100 }), tipCreatedEvent({ bookingId, amount: 200 })];
          for (const [i, event] of events.entries()) {
            const server = deps[(b + i + round) % deps.length]!;
            const { apply } = await receiveBookingWebhook(signedBookingRequest(event), { deps: server });
            applies.push(apply!());
          }
        }),
      );
      await Promise.all(applies);
      for (const bookingId of bookings) {
        const deliveries = await deliveriesOf(bookingId);
        expect(deliveries.map((d) => [d.status, d.applyAttempts])).toEqual([
          ["processed", 1],
          ["processed", 1],
          ["processed", 1],
        ]);
        const own = deliveries.map((d) => spans.filter((s) => s.id === d.id));
        expect(own.map((s) => s.length)).toEqual([1, 1, 1]);
        for (let i = 1; i < own.length; i++) expect(own[i]![0]!.start).toBeGreaterThanOrEqual(own[i - 1]![0]!.end);
      }
      expect(await db.ingestLane.count()).toBe(0);
    }
  });

  it("a lane held by a live server is left to it; one whose holder's lease ran out is taken over", async () => {
    const bookingId = `bk_${key()}`;
    const deps: TWebhookDeps = { db, stripe: () => h.stripe };
    const { apply } = await receiveBookingWebhook(signedBookingRequest(completed(bookingId)), { deps });
    const lane = laneKeyOf((await deliveriesOf(bookingId))[0]!);
    expect(lane).toBe(`booking:${bookingId}`);

    // Another server holds the lane: this one leaves the delivery to it.
    await db.ingestLane.create({ data: { key: lane, token: randomUUID(), leasedUntil: new Date(Date.now() + LANE_LEASE_MS) } });
    await apply!();
    expect(await deliveriesOf(bookingId)).toMatchObject([{ status: "received" }]);
    expect(await applyInOrder(deps, lane)).toEqual({ applied: [], heldElsewhere: true });

    // That server died: once its lease has run out the lane is taken over and the delivery applied.
    await db.ingestLane.update({ where: { key: lane }, data: { leasedUntil: new Date(Date.now() - 1_000) } });
    const taken = await applyInOrder(deps, lane);
    expect(taken.heldElsewhere).toBe(false);
    expect(taken.applied).toHaveLength(1);
    expect(await deliveriesOf(bookingId)).toMatchObject([{ status: "processed", applyAttempts: 1 }]);
    expect(await db.ingestLane.count({ where: { key: lane } })).toBe(0);
  });
});

function gate(id: string): { isIn: Promise<void>; release: () => void } {
  let entered!: () => void;
  let release!: () => void;
  const isIn = new Promise<void>((resolve) => (entered = resolve));
  gates.set(id, { entered, release: new Promise<void>((resolve) => (release = resolve)) });
  return { isIn, release };
}

describe("a slow or failing holder (adversarial review)", () => {
  it("the lease is renewed while one long apply runs, not only between deliveries", async () => {
    const bookingId = `bk_${key()}`;
    const deps: TWebhookDeps = { db, stripe: () => h.stripe };
    await receiveBookingWebhook(signedBookingRequest(completed(bookingId)), { deps });
    const [d1] = await deliveriesOf(bookingId);
    const g = gate(d1!.id);
    const holder = applyInOrder(deps, laneKeyOf(d1!), { renewEveryMs: 100 });
    await g.isIn;
    const before = (await db.ingestLane.findUniqueOrThrow({ where: { key: laneKeyOf(d1!) } })).leasedUntil;
    await new Promise((resolve) => setTimeout(resolve, 400));
    const during = (await db.ingestLane.findUniqueOrThrow({ where: { key: laneKeyOf(d1!) } })).leasedUntil;
    g.release();
    expect((await holder).applied).toEqual([d1!.id]);
    expect(during.getTime()).toBeGreaterThan(before.getTime());
  });

  it("a holder whose apply throws (a pool timeout) lets go, and the lane is tried again: what waited in it is applied", async () => {
    const bookingId = `bk_${key()}`;
    const deps: TWebhookDeps = { db, stripe: () => h.stripe };
    await receiveBookingWebhook(signedBookingRequest(completed(bookingId)), { deps });
    const [d1] = await deliveriesOf(bookingId);
    const g = gate(d1!.id);
    // The look for what waits once d1 is applied (recordOutcomeAndLookForWaiting, or a batch's look)
    // fails once, as when no pooled connection frees up in time.
    let thrown = 0;
    const flaky = new Proxy(db, {
      get(target, property) {
        if (property !== "$queryRaw") return Reflect.get(target, property, target) as unknown;
        // A tagged template, or the Sql object sqlRows sends through a client it cannot send directly on.
        return (query: TemplateStringsArray | Prisma.Sql, ...rest: unknown[]) => {
          const [strings, values] = query instanceof Prisma.Sql ? [query.strings, query.values] : [query, rest];
          const sql = strings.join("?");
          const lookAfterApply =
            (sql.includes("WITH recorded AS") && values.includes(d1!.id)) || // one delivery's apply
            (sql.includes('AS "anyStripe"') && JSON.stringify(values).includes(bookingId)); // a batch's
          if (thrown === 0 && lookAfterApply) {
            thrown += 1;
            return Promise.reject(new Error("Timed out fetching a new connection from the connection pool"));
          }
          return query instanceof Prisma.Sql ? target.$queryRaw(query) : target.$queryRaw(query, ...rest);
        };
      },
    });
    const holder = applyReceivedDelivery({ db: flaky, stripe: () => h.stripe }, d1!);
    await g.isIn;
    // The tip's applier finds the lane held, marks it dirty and leaves.
    const second = await receiveBookingWebhook(signedBookingRequest(tipCreatedEvent({ bookingId, amount: 100 })), { deps });
    await second.apply!();
    g.release();
    await holder; // fails once, tries the lane again a second later
    expect(thrown).toBe(1);
    expect((await deliveriesOf(bookingId)).map((d) => [d.type, d.status])).toEqual([
      ["booking.completed", "processed"],
      ["tip.created", "processed"],
    ]);
    expect(await db.payout.findFirst({ where: { booking: { externalId: bookingId } } })).toMatchObject({ amount: 8_100 });
    expect(await db.ingestLane.count({ where: { key: `booking:${bookingId}` } })).toBe(0);
  });
});

/** POST through the route without waiting for its after() work (as a sender sees it). */
async function sendWithoutWaiting(event: TBookingEvent): Promise<void> {
  const { POST } = await import("@/app/api/webhooks/booking/route");
  const response = await POST(signedBookingRequest(event), undefined);
  expect(response.status).toBe(200);
}
