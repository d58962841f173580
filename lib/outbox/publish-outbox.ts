import "server-only";

import { Prisma, type PrismaClient } from "@/generated/prisma/client";
import { coalesce } from "@/lib/coalesce";
import { sqlExecute, sqlRows, transaction } from "@/lib/direct-sql";
import { inngest } from "@/lib/inngest/client";
import { onePer } from "@/lib/one-per";

import { noteOutboxTried } from "./outbox-scope";

export const ENGINE_STATE_KEY = "workflow_engine";

export type TEngineState = { reachable: boolean; checkedAt: string; lastError: string | null; lastOkAt: string | null };

export type TPublishResult = { sent: number; failed: number; error?: string };

export type TSend = (events: { id: string; name: string; data: Record<string, unknown> }[]) => Promise<unknown>;

const defaultSend: TSend = (events) => inngest.send(events);

/** How long a publisher's claim on the events it sends keeps others off them (longer than a send may take). */
export const OUTBOX_CLAIM_MS = 30_000;

type TClaimed = { id: string; eventId: string; name: string; data: string; createdAt: Date };

/**
 * Sends unsent outbox events to Inngest (all of them, or just `eventIds`), oldest first,
 * and marks them sent. The events are first claimed for OUTBOX_CLAIM_MS (FOR UPDATE SKIP
 * LOCKED, one statement), so publishers running at once send disjoint sets: each event goes
 * out once rather than once per publisher, and no two publishers update the same rows in
 * different orders. On failure they stay unsent with the error recorded and the claim let go,
 * and the workflow engine is marked unreachable for the Overview. A publisher that dies after
 * claiming leaves its events to the next one once the claim runs out (the sweep resends all).
 *
 * The work's own events (`eventIds`, sent with Inngest's client at the present time) of calls made
 * at once in this process go together (coalesce.ts): one claim, one send and one mark for all.
 */
export async function publishOutbox(
  db: PrismaClient,
  options: { eventIds?: string[]; limit?: number; send?: TSend; now?: Date } = {},
): Promise<TPublishResult> {
  if (options.eventIds?.length === 0) return { sent: 0, failed: 0 };
  if (options.eventIds && !options.send && !options.now) {
    const result = await publisherOf(db)(options.eventIds);
    // Sent, or tried and left for the sweep, or sent already (or being sent) by another publisher.
    noteOutboxTried(options.eventIds);
    return result;
  }
  const now = options.now ?? new Date();
  const limit = options.limit ?? 200;
  const pending = await claimEvents(db, options.eventIds ?? null, limit);
  // Tried now (sent, or left with the error for the sweep); those asked for and not claimed are sent
  // already or being sent by another publisher. The work that wrote them need not send them again.
  noteOutboxTried(options.eventIds && pending.length < limit ? options.eventIds : pending.map((e) => e.eventId));
  const result = await sendClaimed(db, pending, options.send ?? defaultSend, now);
  return { sent: result.sent.size, failed: result.failed.size, ...(result.error ? { error: result.error } : {}) };
}

/** The process's coalesced publisher of given events through `db` (publishOutbox with `eventIds`). */
const publisherOf = onePer((db: PrismaClient) =>
  coalesce(
    async (asked: readonly string[][]): Promise<TPublishResult[]> => {
      const all = [...new Set(asked.flat())];
      const result = await sendClaimed(db, await claimEvents(db, all, all.length), defaultSend, new Date());
      return asked.map((eventIds) => {
        const sent = eventIds.filter((id) => result.sent.has(id)).length;
        const failed = eventIds.filter((id) => result.failed.has(id)).length;
        return { sent, failed, ...(failed > 0 && result.error ? { error: result.error } : {}) };
      });
    },
    { maxBatch: 100, maxInFlight: 2 },
  ),
);

/** Claims up to `limit` unsent events no publisher holds (of `eventIds` only, when given), oldest first. */
async function claimEvents(db: PrismaClient, eventIds: readonly string[] | null, limit: number): Promise<TClaimed[]> {
  const only = eventIds ? Prisma.sql`AND "eventId" = ANY(${eventIds}::text[])` : Prisma.empty;
  const pending = await sqlRows<TClaimed[]>(
    db,
    Prisma.sql`
    UPDATE "OutboxEvent" SET "claimedUntil" = clock_timestamp() + ${OUTBOX_CLAIM_MS} * interval '1 millisecond'
    WHERE id IN (
      SELECT id FROM "OutboxEvent"
      WHERE "sentAt" IS NULL AND ("claimedUntil" IS NULL OR "claimedUntil" < clock_timestamp()) ${only}
      ORDER BY "createdAt", id
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED)
    RETURNING id::text AS id, "eventId", name, data::text AS data, "createdAt"`,
  );
  // RETURNING gives no order: send oldest first, as claimed.
  return pending.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
}

/** Sends the claimed events in one call, then marks them sent, or records the error and lets the claim go. */
async function sendClaimed(
  db: PrismaClient,
  pending: TClaimed[],
  send: TSend,
  now: Date,
): Promise<{ sent: Set<string>; failed: Set<string>; error?: string }> {
  if (pending.length === 0) return { sent: new Set(), failed: new Set() };
  const ids = pending.map((e) => e.id);
  const eventIds = new Set(pending.map((e) => e.eventId));
  try {
    await send(pending.map((e) => ({ id: e.eventId, name: e.name, data: JSON.parse(e.data) as Record<string, unknown> })));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const mark = Prisma.sql`
      UPDATE "OutboxEvent" SET "attempts" = "attempts" + 1, "lastError" = ${message.slice(0, 1000)}, "claimedUntil" = NULL
      WHERE id = ANY(${ids}::uuid[])`;
    await markWithEngineState(db, mark, { reachable: false, error: message, now });
    return { sent: new Set(), failed: eventIds, error: message };
  }

  const mark = Prisma.sql`
    UPDATE "OutboxEvent" SET "sentAt" = ${now}::timestamptz, "attempts" = "attempts" + 1, "lastError" = NULL, "claimedUntil" = NULL
    WHERE id = ANY(${ids}::uuid[])`;
  await markWithEngineState(db, mark, { reachable: true, error: null, now });
  return { sent: eventIds, failed: new Set() };
}

/** How stale the recorded engine state may get while nothing changes (the Overview shows its time). */
const ENGINE_STATE_REFRESH_MS = 60_000;

/**
 * Every publish would otherwise rewrite one row, which serialises busy webhook traffic on
 * it: write only when reachability changed or the record is over a minute old.
 */
async function engineStateNeedsWrite(db: PrismaClient, reachable: boolean, now: Date): Promise<boolean> {
  // What this process last saw or wrote: no read while it says the record is fresh and agrees.
  if (lastSeen && lastSeen.reachable === reachable && Math.abs(now.getTime() - lastSeen.at) <= ENGINE_STATE_REFRESH_MS) return false;
  const current = await db.systemState.findUnique({ where: { key: ENGINE_STATE_KEY } });
  const value = current?.value as Partial<TEngineState> | undefined;
  const needed = !current || value?.reachable !== reachable || now.getTime() - current.updatedAt.getTime() > ENGINE_STATE_REFRESH_MS;
  lastSeen = { reachable, at: needed ? now.getTime() : current.updatedAt.getTime() };
  return needed;
}

/**
 * The engine state this process last read or wrote (a cache of one row, so that a busy publisher
 * does not read it per event). Another server recording "unreachable" meanwhile is seen by this
 * one within ENGINE_STATE_REFRESH_MS, when its own record would be rewritten anyway.
 */
let lastSeen: { reachable: boolean; at: number } | null = null;

/** The events' mark, with the engine's state in the same transaction when it needs a write (engineStateNeedsWrite). */
async function markWithEngineState(
  db: PrismaClient,
  mark: Prisma.Sql,
  input: { reachable: boolean; error: string | null; now: Date },
): Promise<void> {
  if (!(await engineStateNeedsWrite(db, input.reachable, input.now))) {
    await sqlExecute(db, mark);
    return;
  }
  await transaction(db, async (tx) => {
    await sqlExecute(tx, mark);
    await sqlExecute(tx, engineStateUpsert(input));
  });
}

function engineStateUpsert(input: { reachable: boolean; error: string | null; now: Date }): Prisma.Sql {
  const value: TEngineState = {
    reachable: input.reachable,
    checkedAt: input.now.toISOString(),
    lastError: input.error?.slice(0, 500) ?? null,
    lastOkAt: input.reachable ? input.now.toISOString() : null,
  };
  // lastOkAt survives failures: keep the previous one when this check failed.
  return Prisma.sql`
    INSERT INTO "SystemState" (key, value, "updatedAt")
    VALUES (${ENGINE_STATE_KEY}, ${JSON.stringify(value)}::jsonb, ${input.now})
    ON CONFLICT (key) DO UPDATE SET
      value = EXCLUDED.value || jsonb_build_object('lastOkAt',
        COALESCE(NULLIF(EXCLUDED.value->'lastOkAt', 'null'::jsonb), "SystemState".value->'lastOkAt', 'null'::jsonb)),
      "updatedAt" = EXCLUDED."updatedAt"`;
}
