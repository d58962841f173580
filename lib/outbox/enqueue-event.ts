import "server-only";

import { Prisma } from "@/generated/prisma/client";
import type { Tx } from "@/lib/db";
import { sqlExecute } from "@/lib/direct-sql";
import { gatheredRows } from "@/lib/gathered-rows";
import type { TEngineEventData, TEngineEventName } from "@/lib/inngest/events";

import { noteOutboxEvents } from "./outbox-scope";

export type TOutboxEvent<N extends TEngineEventName = TEngineEventName> = {
  name: N;
  data: TEngineEventData<N>;
  /** Deterministic: the same cause always gives the same id, so Inngest drops repeats. */
  eventId: string;
};

/**
 * Records an Inngest event in the same transaction as the change that causes it. It is
 * sent after commit (publishOutbox: by the engine step that wrote it, withOutboxPublishing, or
 * by the caller) and re-sent by the sweep until Inngest accepts it,
 * so an unreachable Inngest delays work and never loses it. A second enqueue of the same
 * event id is a no-op.
 */
export async function enqueueEvent<N extends TEngineEventName>(tx: Tx, event: TOutboxEvent<N>): Promise<void> {
  await enqueueEvents(tx, [event]);
}

/** enqueueEvent for many events of one kind, in one statement (a batch's changes). */
export async function enqueueEvents<N extends TEngineEventName>(tx: Tx, events: readonly TOutboxEvent<N>[]): Promise<void> {
  if (events.length === 0) return;
  // A lone surrogate in the id would be refused inside JSON; as a text parameter it was stored as U+FFFD.
  const rows = events.map((event) => ({
    eventId: event.eventId.toWellFormed(),
    name: event.name,
    data: event.data,
    createdAt: new Date(),
  }));
  const gathered = outboxRows.of(tx);
  if (gathered) gathered.push(...rows);
  else await insertOutboxRows(tx, rows);
  noteOutboxEvents(rows.map((row) => row.eventId));
}

type TOutboxRow = { eventId: string; name: string; data: unknown; createdAt: Date };

/** The outbox rows of a batch's transaction, written together before it commits (withOutboxRowsTogether). */
export const outboxRows = gatheredRows<TOutboxRow>((tx, rows) => insertOutboxRows(tx, rows));

/**
 * Runs `work` in `tx` with the outbox rows it enqueues gathered, then writes them all in one
 * statement before returning, so before the transaction commits: for a batch's transaction (several
 * payouts' work in one, lib/together.ts), whose members each enqueue their own. Nothing in a
 * transaction reads its own outbox rows back; they are sent only once it has committed.
 */
export function withOutboxRowsTogether<T>(tx: Tx, work: () => Promise<T>): Promise<T> {
  return outboxRows.around(tx, work);
}

/** One raw statement (a repeat of a known event id is skipped, within the rows too), each row's time the client's. */
async function insertOutboxRows(tx: Tx, rows: readonly TOutboxRow[]): Promise<void> {
  if (rows.length === 0) return;
  await sqlExecute(
    tx,
    Prisma.sql`
    INSERT INTO "OutboxEvent" ("eventId", name, data, "createdAt")
    SELECT "eventId", name, data, "createdAt"
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x("eventId" text, name text, data jsonb, "createdAt" timestamptz)
    ON CONFLICT DO NOTHING`,
  );
}
