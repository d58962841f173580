import "server-only";

import { randomUUID } from "node:crypto";

import { Prisma, type PrismaClient, type WebhookEvent } from "@/generated/prisma/client";
import { sqlExecute, sqlRows } from "@/lib/direct-sql";
import type { TWebhookDeps } from "@/lib/webhooks/types";

import { processDelivery, type TProcessOptions } from "./process-delivery";

/**
 * How long a lane's holder may go without renewing its lease before another server (the next
 * delivery of the lane, or the sweep) takes the lane over: it crashed, or hangs.
 */
export const LANE_LEASE_MS = 5 * 60_000;
/** How often a holder renews its lease while it holds the lane. */
export const LANE_RENEW_MS = 60_000;

/** The lane a delivery is applied in: its booking's, else its connected account's, else its own. */
export function laneKeyOf(delivery: Pick<WebhookEvent, "id" | "bookingExternalId" | "account">): string {
  if (delivery.bookingExternalId) return bookingLaneKey(delivery.bookingExternalId);
  if (delivery.account) return `account:${delivery.account}`;
  return `delivery:${delivery.id}`;
}

/** A booking's lane. */
export function bookingLaneKey(bookingExternalId: string): string {
  return `booking:${bookingExternalId}`;
}

/** The booking of a booking's lane (bookingLaneKey read back). */
export function bookingOfLane(key: string): string {
  return key.slice("booking:".length);
}

/** The received (not yet applied) deliveries of a lane. */
function receivedIn(key: string): Prisma.WebhookEventWhereInput {
  const [kind, ...rest] = key.split(":");
  const value = rest.join(":");
  switch (kind) {
    case "booking":
      return { status: "received", bookingExternalId: value };
    case "account":
      return { status: "received", bookingExternalId: null, account: value };
    default:
      return { status: "received", id: value };
  }
}

export type TLaneResult = {
  /** Deliveries this call applied (in the order applied). */
  applied: string[];
  /** The lane was held by another server, which applies what is received in it. */
  heldElsewhere: boolean;
};

/** How many received deliveries of a lane one look takes (in order); the holder looks again for more. */
const LANE_BATCH = 50;

/**
 * Applies the received deliveries of one lane one at a time, oldest first (by when they were
 * received), for as long as any are left, holding the lane's lease meanwhile. Whoever finds
 * the lane held marks it dirty and leaves: the holder lets go of the lane only while it is not
 * dirty, else it looks again (a delivery is committed before its applier tries the lane, so
 * the holder's next look sees it). So the deliveries of one booking apply in order and one at a
 * time with any number of servers, and each is applied by exactly one of them (recordOutcome
 * moves it out of `received`; the services are idempotent by delivery id for the case where a
 * holder stalled past its lease and the lane was taken over). A lane's round trips besides
 * the applies: take it, look, let go (three for a lone delivery).
 */
export async function applyInOrder(deps: TWebhookDeps, key: string, options: TDrainOptions = {}): Promise<TLaneResult> {
  const token = randomUUID();
  if (!(await acquireLane(deps.db, key, token))) return { applied: [], heldElsewhere: true };
  return drainHeldLane(deps, key, token, options);
}

type TDrainOptions = TProcessOptions & {
  /** Tests: how often the lease is renewed (LANE_RENEW_MS). */ renewEveryMs?: number;
  /**
   * The lane was taken a while ago (a batch's lane, drained after others): renew its lease first,
   * and leave it when it was taken over meanwhile.
   */
  confirmHeld?: boolean;
};

/**
 * applyInOrder's work once the lane is held (with `token`): applies its received deliveries
 * oldest first until none is left, then lets it go. Also for a batch's lanes (apply-batch.ts)
 * that hold more than the batch applied at once.
 */
export async function drainHeldLane(deps: TWebhookDeps, key: string, token: string, options: TDrainOptions = {}): Promise<TLaneResult> {
  const result: TLaneResult = { applied: [], heldElsewhere: false };
  if (options.confirmHeld && !(await renewLane(deps.db, key, token))) return { applied: [], heldElsewhere: true };
  // The lease is renewed on a timer for as long as the lane is held, so that one slow apply (a
  // Stripe call with its retries, a long chain of deferred deliveries) never lets it run out
  // while this server is still applying; a refused renewal (taken over after all: this process
  // stalled) stops the holder after the delivery in hand.
  let lost = false;
  const renewal = setInterval(() => {
    renewLane(deps.db, key, token).then(
      (kept) => void (lost ||= !kept),
      (error: unknown) => console.error(`ingest lane ${key}: renewing its lease failed`, error),
    );
  }, options.renewEveryMs ?? LANE_RENEW_MS);
  renewal.unref();
  try {
    for (;;) {
      const batch = await deps.db.webhookEvent.findMany({
        where: receivedIn(key),
        orderBy: [{ receivedAt: "asc" }, { id: "asc" }],
        take: LANE_BATCH,
      });
      for (const delivery of batch) {
        if (lost) return result; // taken over: the new holder goes on
        await processDelivery(deps, delivery, { publish: options.publish });
        result.applied.push(delivery.id);
      }
      if (batch.length === LANE_BATCH) continue;
      if (await releaseLane(deps.db, key, token)) return result;
      if (!(await lookAgain(deps.db, key, token))) return result; // taken over
    }
  } catch (error) {
    // Let go so that the lane's next delivery is not kept waiting for the lease; the caller
    // tries the lane again (applyReceivedDelivery), which also applies whoever marked it dirty.
    await sqlExecute(deps.db, Prisma.sql`DELETE FROM "IngestLane" WHERE "key" = ${key} AND "token" = ${token}::uuid`).catch(
      () => undefined,
    );
    throw error;
  } finally {
    clearInterval(renewal);
  }
}

/**
 * Takes the lane if nobody holds it or its holder's lease has run out; a live holder's lane is
 * marked dirty instead (it looks again before letting go). One atomic statement. The look at the
 * lane's deliveries is a statement of its own, after this one: a look in the same statement would
 * see them as they were before it waited for the previous holder to let go, including a delivery
 * that holder applied meanwhile (found by the review of issue 13's cuts).
 */
async function acquireLane(db: PrismaClient, key: string, token: string): Promise<boolean> {
  const rows = await sqlRows<{ acquired: boolean }[]>(
    db,
    Prisma.sql`
    INSERT INTO "IngestLane" AS lane ("key", "token", "leasedUntil")
    VALUES (${key}, ${token}::uuid, now() + ${LANE_LEASE_MS} * interval '1 millisecond')
    ON CONFLICT ("key") DO UPDATE SET
      "token" = CASE WHEN lane."leasedUntil" < now() THEN EXCLUDED."token" ELSE lane."token" END,
      "acquiredAt" = CASE WHEN lane."leasedUntil" < now() THEN now() ELSE lane."acquiredAt" END,
      "dirty" = lane."leasedUntil" >= now(),
      "leasedUntil" = CASE WHEN lane."leasedUntil" < now() THEN EXCLUDED."leasedUntil" ELSE lane."leasedUntil" END
    RETURNING lane."token" = ${token}::uuid AS acquired`,
  );
  return rows[0]?.acquired === true;
}

async function renewLane(db: PrismaClient, key: string, token: string): Promise<boolean> {
  const renewed = await sqlExecute(
    db,
    Prisma.sql`
    UPDATE "IngestLane" SET "leasedUntil" = now() + ${LANE_LEASE_MS} * interval '1 millisecond'
    WHERE "key" = ${key} AND "token" = ${token}::uuid`,
  );
  return renewed > 0;
}

/** Lets go of the lane unless someone marked it dirty meanwhile (then false: look again). */
async function releaseLane(db: PrismaClient, key: string, token: string): Promise<boolean> {
  const released = await sqlExecute(
    db,
    Prisma.sql`DELETE FROM "IngestLane" WHERE "key" = ${key} AND "token" = ${token}::uuid AND NOT "dirty"`,
  );
  return released > 0;
}

/** Clears the dirty mark (and renews the lease) before the holder looks again; false when the lane was taken over. */
async function lookAgain(db: PrismaClient, key: string, token: string): Promise<boolean> {
  const kept = await sqlExecute(
    db,
    Prisma.sql`
    UPDATE "IngestLane" SET "dirty" = false, "leasedUntil" = now() + ${LANE_LEASE_MS} * interval '1 millisecond'
    WHERE "key" = ${key} AND "token" = ${token}::uuid`,
  );
  return kept > 0;
}

/**
 * acquireLane for many lanes in one statement (in key order, so two batches never wait on each
 * other in a cycle): the keys taken with `token`; the others' live holders were marked dirty.
 */
export async function acquireLanes(db: PrismaClient, keys: readonly string[], token: string): Promise<Set<string>> {
  const sorted = [...new Set(keys)].sort();
  if (sorted.length === 0) return new Set();
  const rows = await sqlRows<{ key: string; acquired: boolean }[]>(
    db,
    Prisma.sql`
    INSERT INTO "IngestLane" AS lane ("key", "token", "leasedUntil")
    SELECT k, ${token}::uuid, now() + ${LANE_LEASE_MS} * interval '1 millisecond' FROM unnest(${sorted}::text[]) AS k ORDER BY k
    ON CONFLICT ("key") DO UPDATE SET
      "token" = CASE WHEN lane."leasedUntil" < now() THEN EXCLUDED."token" ELSE lane."token" END,
      "acquiredAt" = CASE WHEN lane."leasedUntil" < now() THEN now() ELSE lane."acquiredAt" END,
      "dirty" = lane."leasedUntil" >= now(),
      "leasedUntil" = CASE WHEN lane."leasedUntil" < now() THEN EXCLUDED."leasedUntil" ELSE lane."leasedUntil" END
    RETURNING lane."key", lane."token" = ${token}::uuid AS acquired`,
  );
  return new Set(rows.filter((r) => r.acquired).map((r) => r.key));
}

/**
 * The lanes of `keys` still held with `token`, locked in key order, as acquireLanes takes them:
 * locked in the order the table holds them instead, a batch letting go of lanes X < Y and another
 * server's batch taking X and Y at the same moment could each wait for the other (a deadlock that
 * PostgreSQL breaks after a second by failing one; found by the review of the lookups by key).
 */
function heldInKeyOrder(keys: readonly string[], token: string): Prisma.Sql {
  return Prisma.sql`
    held AS (
      SELECT "key" FROM "IngestLane" WHERE "key" = ANY(${[...keys]}::text[]) AND "token" = ${token}::uuid ORDER BY "key" FOR UPDATE
    )`;
}

/** releaseLane for many lanes in one statement: the keys let go (a dirty one is kept: its holder looks again). */
export async function releaseLanes(db: PrismaClient, keys: readonly string[], token: string): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await sqlRows<{ key: string }[]>(
    db,
    Prisma.sql`
    WITH ${heldInKeyOrder(keys, token)}
    DELETE FROM "IngestLane" lane USING held WHERE lane."key" = held."key" AND NOT lane."dirty" RETURNING lane."key"`,
  );
  return new Set(rows.map((r) => r.key));
}

/** Lets go of the lanes whatever their mark (after a failure; the caller tries again, which applies what marked them). */
export async function abandonLanes(db: PrismaClient, keys: readonly string[], token: string): Promise<void> {
  if (keys.length === 0) return;
  await sqlExecute(
    db,
    Prisma.sql`
    WITH ${heldInKeyOrder(keys, token)}
    DELETE FROM "IngestLane" lane USING held WHERE lane."key" = held."key"`,
  );
}

/** renewLane for many lanes in one statement: the keys still held with `token`. */
export async function renewLanes(db: PrismaClient, keys: readonly string[], token: string): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await sqlRows<{ key: string }[]>(
    db,
    Prisma.sql`
    WITH ${heldInKeyOrder(keys, token)}
    UPDATE "IngestLane" lane SET "leasedUntil" = now() + ${LANE_LEASE_MS} * interval '1 millisecond'
    FROM held WHERE lane."key" = held."key"
    RETURNING lane."key"`,
  );
  return new Set(rows.map((r) => r.key));
}

/** lookAgain for many lanes in one statement (the dirty mark cleared, the lease renewed): the keys still held. */
export async function lookAgainAtLanes(db: PrismaClient, keys: readonly string[], token: string): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await sqlRows<{ key: string }[]>(
    db,
    Prisma.sql`
    WITH ${heldInKeyOrder(keys, token)}
    UPDATE "IngestLane" lane SET "dirty" = false, "leasedUntil" = now() + ${LANE_LEASE_MS} * interval '1 millisecond'
    FROM held WHERE lane."key" = held."key"
    RETURNING lane."key"`,
  );
  return new Set(rows.map((r) => r.key));
}
