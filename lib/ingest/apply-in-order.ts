import "server-only";

import { randomUUID } from "node:crypto";

import type { PrismaClient, WebhookEvent } from "@/generated/prisma/client";
import { Prisma } from "@/generated/prisma/client";
import type { TWebhookDeps } from "@/lib/webhooks/types";

import { processDelivery, type TProcessOptions } from "./process-delivery";

/**
 * How long a lane's holder may go without renewing its lease before another server (the next
 * delivery of the lane, or the sweep) takes the lane over: it crashed, or hangs.
 */
export const LANE_LEASE_MS = 5 * 60_000;
/** How often a holder renews its lease while it holds the lane. */
const LANE_RENEW_MS = 60_000;

/** The lane a delivery is applied in: its booking's, else its connected account's, else its own. */
export function laneKeyOf(delivery: Pick<WebhookEvent, "id" | "bookingExternalId" | "account">): string {
  if (delivery.bookingExternalId) return `booking:${delivery.bookingExternalId}`;
  if (delivery.account) return `account:${delivery.account}`;
  return `delivery:${delivery.id}`;
}

/** The received (not yet applied) deliveries of a lane, as SQL (for the look that takes the lane). */
function receivedInSql(key: string): Prisma.Sql {
  const [kind, ...rest] = key.split(":");
  const value = rest.join(":");
  switch (kind) {
    case "booking":
      return Prisma.sql`"status" = 'received' AND "bookingExternalId" = ${value}`;
    case "account":
      return Prisma.sql`"status" = 'received' AND "bookingExternalId" IS NULL AND "account" = ${value}`;
    default:
      return Prisma.sql`"status" = 'received' AND "id" = ${value}::uuid`;
  }
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
export async function applyInOrder(
  deps: TWebhookDeps,
  key: string,
  options: TProcessOptions & { /** Tests: how often the lease is renewed (LANE_RENEW_MS). */ renewEveryMs?: number } = {},
): Promise<TLaneResult> {
  const result: TLaneResult = { applied: [], heldElsewhere: false };
  const token = randomUUID();
  const first = await acquireLane(deps.db, key, token);
  if (!first) {
    result.heldElsewhere = true;
    return result;
  }
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
    for (let look: WebhookEvent[] | null = first.batch; ; look = null) {
      const batch =
        look ??
        (await deps.db.webhookEvent.findMany({
          where: receivedIn(key),
          orderBy: [{ receivedAt: "asc" }, { id: "asc" }],
          take: LANE_BATCH,
        }));
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
    await deps.db.$executeRaw`DELETE FROM "IngestLane" WHERE "key" = ${key} AND "token" = ${token}::uuid`.catch(() => undefined);
    throw error;
  } finally {
    clearInterval(renewal);
  }
}

/**
 * Takes the lane if nobody holds it or its holder's lease has run out; a live holder's lane is
 * marked dirty instead (it looks again before letting go). One atomic statement, which also
 * takes the holder's first look at the lane's received deliveries (committed before this
 * statement, as the delivery that tries the lane is): null when the lane is held elsewhere.
 */
async function acquireLane(db: PrismaClient, key: string, token: string): Promise<{ batch: WebhookEvent[] } | null> {
  const rows = await db.$queryRaw<(TNullable<WebhookEvent> & { acquired: boolean })[]>`
    WITH lane AS (
      INSERT INTO "IngestLane" AS lane ("key", "token", "leasedUntil")
      VALUES (${key}, ${token}::uuid, now() + ${LANE_LEASE_MS} * interval '1 millisecond')
      ON CONFLICT ("key") DO UPDATE SET
        "token" = CASE WHEN lane."leasedUntil" < now() THEN EXCLUDED."token" ELSE lane."token" END,
        "acquiredAt" = CASE WHEN lane."leasedUntil" < now() THEN now() ELSE lane."acquiredAt" END,
        "dirty" = lane."leasedUntil" >= now(),
        "leasedUntil" = CASE WHEN lane."leasedUntil" < now() THEN EXCLUDED."leasedUntil" ELSE lane."leasedUntil" END
      RETURNING lane."token" = ${token}::uuid AS acquired
    )
    SELECT lane.acquired, w.*
    FROM lane
    LEFT JOIN LATERAL (
      SELECT * FROM "WebhookEvent" WHERE ${receivedInSql(key)} ORDER BY "receivedAt", "id" LIMIT ${LANE_BATCH}
    ) w ON lane.acquired
    ORDER BY w."receivedAt", w."id"`;
  if (rows[0]?.acquired !== true) return null;
  const batch: WebhookEvent[] = [];
  for (const { acquired: _, ...delivery } of rows) if (isDelivery(delivery)) batch.push(delivery);
  return { batch };
}

/** A row of the lane's look: every column of WebhookEvent null when it found none. */
type TNullable<T> = { [K in keyof T]: T[K] | null };

function isDelivery(row: TNullable<WebhookEvent>): row is WebhookEvent {
  return row.id !== null;
}

async function renewLane(db: PrismaClient, key: string, token: string): Promise<boolean> {
  const renewed = await db.$executeRaw`
    UPDATE "IngestLane" SET "leasedUntil" = now() + ${LANE_LEASE_MS} * interval '1 millisecond'
    WHERE "key" = ${key} AND "token" = ${token}::uuid`;
  return renewed > 0;
}

/** Lets go of the lane unless someone marked it dirty meanwhile (then false: look again). */
async function releaseLane(db: PrismaClient, key: string, token: string): Promise<boolean> {
  const released = await db.$executeRaw`DELETE FROM "IngestLane" WHERE "key" = ${key} AND "token" = ${token}::uuid AND NOT "dirty"`;
  return released > 0;
}

/** Clears the dirty mark (and renews the lease) before the holder looks again; false when the lane was taken over. */
async function lookAgain(db: PrismaClient, key: string, token: string): Promise<boolean> {
  const kept = await db.$executeRaw`
    UPDATE "IngestLane" SET "dirty" = false, "leasedUntil" = now() + ${LANE_LEASE_MS} * interval '1 millisecond'
    WHERE "key" = ${key} AND "token" = ${token}::uuid`;
  return kept > 0;
}
