// Adversarial review of issue 13's round-trip cuts (lib/bookings/record-completed-booking.ts,
// lib/payouts/change-payout.ts, lock-booking.ts, sync-payout-with-booking.ts, the lane and the
// outcome in lib/ingest): each test pins the behaviour from before the cuts. The lane's first
// look was found taking a stale snapshot here and went back to a statement of its own.
import { randomUUID } from "node:crypto";

import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

import { db } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { applyInOrder, laneKeyOf, LANE_LEASE_MS } from "@/lib/ingest/apply-in-order";
import { receiveBookingWebhook } from "@/lib/ingest/receive-booking-webhook";
import { changePayout, lockPayout, lockPayoutForBooking, PayoutVersionConflictError } from "@/lib/payouts/change-payout";
import { lockBooking } from "@/lib/payouts/lock-booking";
import type { TWebhookDeps } from "@/lib/webhooks/types";

import {
  bookingCompletedEvent,
  sendBookingEvent,
  type TBookingEvent,
  tipCreatedEvent,
  signedBookingRequest,
} from "../../support/booking-webhook";
import { startEngineHarness, type TEngineHarness } from "../../support/engine";

// Every call of the real applyDelivery, by delivery id, and the deliveries as the lane handed them over.
const applies = vi.hoisted(() => new Map<string, number>());
const handed = vi.hoisted(() => [] as unknown[]);
vi.mock("@/lib/ingest/apply-delivery", async (importOriginal) => {
  const original = await importOriginal<typeof import("@/lib/ingest/apply-delivery")>();
  return {
    applyDelivery: async (...args: Parameters<typeof original.applyDelivery>) => {
      applies.set(args[1].id, (applies.get(args[1].id) ?? 0) + 1);
      handed.push(args[1]);
      return original.applyDelivery(...args);
    },
  };
});

let h: TEngineHarness;
let deps: TWebhookDeps;
beforeAll(async () => {
  h = await startEngineHarness();
  deps = { db, stripe: () => h.stripe };
});
afterAll(async () => {
  await h.fake.stop();
});

const key = () => randomUUID().slice(0, 8);

function completed(bookingId: string, extra: { chargeId?: string } = {}): TBookingEvent {
  const id = key();
  return bookingCompletedEvent({
    bookingId,
    providerId: `prov_${id}`,
    stripeAccountId: h.fake.addAccount(),
    providerShare: 8_000,
    ...extra,
  });
}

const deliveriesOf = (bookingId: string) =>
  db.webhookEvent.findMany({ where: { bookingExternalId: bookingId }, orderBy: [{ receivedAt: "asc" }, { id: "asc" }] });

async function client(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: getEnv().DATABASE_URL });
  await c.connect();
  return c;
}

/** Waits until some backend is blocked on a lock while running a statement that mentions `text`. */
async function blockedOn(admin: pg.Client, text: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1`,
      [`%${text}%`],
    );
    if ((rows[0]?.n ?? 0) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`nothing blocked on ${text}`);
}

describe("lane: a new holder's first look", () => {
  it("a delivery the previous holder recorded while the new holder waited for the lane is not applied again", async () => {
    const bookingId = `bk_${key()}`;
    // Holder A: the lane is A's, A has applied X (its effects are committed) and is recording it.
    const { apply } = await receiveBookingWebhook(signedBookingRequest(completed(bookingId)), { deps });
    expect(apply).not.toBeNull();
    const [x] = await deliveriesOf(bookingId);
    const lane = laneKeyOf(x!);
    await db.ingestLane.create({ data: { key: lane, token: randomUUID(), leasedUntil: new Date(Date.now() + LANE_LEASE_MS) } });
    const { applyDelivery } = await import("@/lib/ingest/apply-delivery");
    expect(await applyDelivery(deps, x!)).toMatchObject({ status: "processed" });
    expect(applies.get(x!.id)).toBe(1);

    // A's two last statements, as seen by B: the outcome recorded (recordOutcome…) and the lane let
    // go (releaseLane), both committing while B's attempt to take the lane waits for the second.
    const record = await client();
    const release = await client();
    const admin = await client();
    try {
      await record.query("BEGIN");
      await record.query(`UPDATE "WebhookEvent" SET "status" = 'processed', "applyAttempts" = 1, "processedAt" = now() WHERE id = $1`, [
        x!.id,
      ]);
      await release.query("BEGIN");
      await release.query(`DELETE FROM "IngestLane" WHERE "key" = $1`, [lane]);

      // B: another server's delivery of the lane tries it now.
      const b = applyInOrder(deps, lane, { publish: false });
      await blockedOn(admin, "IngestLane");
      await record.query("COMMIT");
      await release.query("COMMIT");
      const result = await b;

      expect(result.heldElsewhere).toBe(false);
      // Before 35e48a8 B looked after taking the lane, in a statement of its own: X was processed.
      expect(result.applied).not.toContain(x!.id);
      expect(applies.get(x!.id)).toBe(1);
    } finally {
      await Promise.all([record.end(), release.end(), admin.end()]);
    }
  });

  it("the deliveries the lane hands over are the rows Prisma reads (dates, enums, JSON payload)", async () => {
    const bookingId = `bk_${key()}`;
    await receiveBookingWebhook(signedBookingRequest(completed(bookingId)), { deps });
    const [d] = await deliveriesOf(bookingId);
    handed.length = 0;
    const result = await applyInOrder(deps, laneKeyOf(d!), { publish: false });
    expect(result.applied).toEqual([d!.id]);
    expect(handed).toHaveLength(1);
    expect(handed[0]).toStrictEqual(d);
    expect((handed[0] as { receivedAt: unknown }).receivedAt).toBeInstanceOf(Date);
  });
});

describe("locks that read the row they lock", () => {
  it("lockPayout, lockPayoutForBooking and lockBooking return what the typed reads return", async () => {
    const bookingId = `bk_${key()}`;
    expect((await sendBookingEvent(completed(bookingId))).status).toBe(200);
    const booking = await db.booking.findUniqueOrThrow({ where: { externalId: bookingId }, include: { provider: true } });
    const payout = await db.payout.findUniqueOrThrow({ where: { bookingId: booking.id } });
    await db.$transaction(async (tx) => {
      expect(await lockPayout(tx, payout.id)).toStrictEqual(payout);
      expect(await lockPayoutForBooking(tx, booking.id)).toStrictEqual(payout);
      expect(await lockBooking(tx, booking.id)).toStrictEqual(booking);
    });
  });
});

describe("changePayout: UPDATE … RETURNING at the version read", () => {
  it("a stale version is a PayoutVersionConflictError, writes nothing, audits nothing, and leaves the transaction usable", async () => {
    const bookingId = `bk_${key()}`;
    expect((await sendBookingEvent(completed(bookingId))).status).toBe(200);
    const payout = await db.payout.findFirstOrThrow({ where: { booking: { externalId: bookingId } } });
    const audits = await db.auditLog.count({ where: { entityId: payout.id } });
    const stale = { ...payout, version: payout.version - 1 };
    const audit = {
      actor: { type: "system" as const, id: "review", label: "review" },
      action: "payout.held" as const,
      runId: null,
      requestId: null,
    };
    const after = await db.$transaction(async (tx) => {
      const error = await changePayout(tx, stale, { event: "hold", data: { holdReason: "admin_hold" }, audit }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PayoutVersionConflictError);
      expect((error as PayoutVersionConflictError).details).toMatchObject({ payoutId: payout.id });
      // The transaction goes on after the conflict (P2025 is Prisma's, not a PostgreSQL error).
      return changePayout(tx, payout, { event: "hold", data: { holdReason: "admin_hold" }, audit });
    });
    expect(after).toMatchObject({ status: "on_hold", version: payout.version + 1 });
    expect(await db.auditLog.count({ where: { entityId: payout.id } })).toBe(audits + 1);
  });
});

describe("booking inserted completed with ON CONFLICT DO NOTHING (no target)", () => {
  it("a booking whose charge is another booking's is not recorded and fails, as before (no provider, payout or audit left)", async () => {
    const chargeId = `ch_${key()}`;
    const first = `bk_${key()}`;
    expect((await sendBookingEvent(completed(first, { chargeId }))).status).toBe(200);
    const second = `bk_${key()}`;
    const event = completed(second, { chargeId });
    expect((await sendBookingEvent(event)).status).toBe(200);
    const [d] = await deliveriesOf(second);
    expect(d).toMatchObject({ status: "failed" });
    expect(d!.error).toMatch(/No record was found|not found/i);
    expect(await db.booking.count({ where: { externalId: second } })).toBe(0);
    expect(await db.provider.count({ where: { externalId: (event.data.provider as { id: string }).id } })).toBe(0);
    expect(await db.payout.count({ where: { booking: { externalId: first } } })).toBe(1);
  });

  it("the same booking completed by two servers at once: one booking, one payout, one audit entry", async () => {
    const bookingId = `bk_${key()}`;
    const e1 = completed(bookingId);
    const e2 = { ...completed(bookingId), data: { ...e1.data } };
    await Promise.all([sendBookingEvent(e1), sendBookingEvent(e2)]);
    const booking = await db.booking.findUniqueOrThrow({ where: { externalId: bookingId } });
    expect(await db.payout.count({ where: { bookingId: booking.id } })).toBe(1);
    expect(await db.auditLog.count({ where: { entityId: booking.id, action: "booking.completed" } })).toBe(1);
    expect((await deliveriesOf(bookingId)).map((d) => d.status)).toEqual(["processed", "processed"]);
  });
});

describe("the outcome and the look for waiting deliveries in one statement", () => {
  it("a tip that arrived before its booking is applied when the booking arrives", async () => {
    const bookingId = `bk_${key()}`;
    expect((await sendBookingEvent(tipCreatedEvent({ bookingId, amount: 1_500 }))).status).toBe(200);
    expect(await deliveriesOf(bookingId)).toMatchObject([{ status: "deferred" }]);
    expect((await sendBookingEvent(completed(bookingId))).status).toBe(200);
    expect((await deliveriesOf(bookingId)).map((d) => d.status)).toEqual(["processed", "processed"]);
    expect(await db.payout.findFirst({ where: { booking: { externalId: bookingId } } })).toMatchObject({ amount: 9_500 });
  });
});
