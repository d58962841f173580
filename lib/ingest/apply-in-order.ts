import "server-only";

import { randomUUID } from "node:crypto";

import type { PrismaClient, WebhookEvent } from "@/generated/prisma/client";
import type { Prisma } from "@/generated/prisma/client";
import type { TWebhookDeps } from "@/lib/webhooks/types";

import { processDelivery, type TProcessOptions } from "./process-delivery";

/**
 * How long a lane's holder may go without renewing its lease before another server (the next
 * delivery of the lane, or the sweep) takes the lane over: it crashed, or hangs.
 */
export const LANE_LEASE_MS = 60_000;

/** The lane a delivery is applied in: its booking's, else its connected account's, else its own. */
export function laneKeyOf(delivery: Pick<WebhookEvent, "id" | "bookingExternalId" | "account">): string {
  if (delivery.bookingExternalId) return `booking:${delivery.bookingExternalId}`;
  if (delivery.account) return `account:${delivery.account}`;
  return `delivery:${delivery.id}`;
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

/**
 * Applies the received deliveries of one lane one at a time, oldest first (by when they were
 * received), for as long as any are left, holding the lane's lease meanwhile. Whoever finds
 * the lane held leaves: the holder applies the newcomer too, because after releasing the lane it
 * looks once more for received deliveries (a delivery is committed before its applier tries the
 * lane, so either the holder's last look sees it or the newcomer finds the lane free). So the
 * deliveries of one booking apply in order and one at a time with any number of servers, and
 * each is applied by exactly one of them (recordOutcome moves it out of `received`; the
 * services are idempotent by delivery id for the case where a holder's lease expired mid-apply).
 */
export async function applyInOrder(deps: TWebhookDeps, key: string, options: TProcessOptions = {}): Promise<TLaneResult> {
  const result: TLaneResult = { applied: [], heldElsewhere: false };
  for (;;) {
    const token = randomUUID();
    if (!(await acquireLane(deps.db, key, token))) {
      result.heldElsewhere = true;
      return result;
    }
    let renewedAt = Date.now();
    try {
      for (;;) {
        const next = await deps.db.webhookEvent.findFirst({ where: receivedIn(key), orderBy: [{ receivedAt: "asc" }, { id: "asc" }] });
        if (!next) break;
        await processDelivery(deps, next, options);
        result.applied.push(next.id);
        if (Date.now() - renewedAt > LANE_LEASE_MS / 3) {
          if (!(await renewLane(deps.db, key, token))) return result; // taken over: the new holder goes on
          renewedAt = Date.now();
        }
      }
    } finally {
      await releaseLane(deps.db, key, token);
    }
    // Anything received after the holder's last look, whose applier found the lane held?
    if (!(await deps.db.webhookEvent.findFirst({ where: receivedIn(key), select: { id: true } }))) return result;
  }
}

/** Takes the lane if nobody holds it or its holder's lease has run out (one atomic statement). */
async function acquireLane(db: PrismaClient, key: string, token: string): Promise<boolean> {
  const rows = await db.$queryRaw<{ key: string }[]>`
    INSERT INTO "IngestLane" ("key", "token", "leasedUntil")
    VALUES (${key}, ${token}::uuid, now() + ${LANE_LEASE_MS} * interval '1 millisecond')
    ON CONFLICT ("key") DO UPDATE SET "token" = EXCLUDED."token", "leasedUntil" = EXCLUDED."leasedUntil", "acquiredAt" = now()
      WHERE "IngestLane"."leasedUntil" < now()
    RETURNING "key"`;
  return rows.length > 0;
}

async function renewLane(db: PrismaClient, key: string, token: string): Promise<boolean> {
  const renewed = await db.$executeRaw`
    UPDATE "IngestLane" SET "leasedUntil" = now() + ${LANE_LEASE_MS} * interval '1 millisecond'
    WHERE "key" = ${key} AND "token" = ${token}::uuid`;
  return renewed > 0;
}

async function releaseLane(db: PrismaClient, key: string, token: string): Promise<void> {
  await db.$executeRaw`DELETE FROM "IngestLane" WHERE "key" = ${key} AND "token" = ${token}::uuid`;
}
