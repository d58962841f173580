import "server-only";

import type { Tx } from "@/lib/db";
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
  // One raw statement (a repeat of a known event id is skipped), the time the client's as the ORM sends it.
  // A lone surrogate in the id would be refused inside JSON; as a text parameter it was stored as U+FFFD.
  const rows = events.map((event) => ({ eventId: event.eventId.toWellFormed(), name: event.name, data: event.data }));
  await tx.$executeRaw`
    INSERT INTO "OutboxEvent" ("eventId", name, data, "createdAt")
    SELECT "eventId", name, data, ${new Date()}::timestamptz
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x("eventId" text, name text, data jsonb)
    ON CONFLICT DO NOTHING`;
  noteOutboxEvents(rows.map((row) => row.eventId));
}
