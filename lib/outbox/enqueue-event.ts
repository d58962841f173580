import "server-only";

import type { Tx } from "@/lib/db";
import type { TEngineEventData, TEngineEventName } from "@/lib/inngest/events";

export type TOutboxEvent<N extends TEngineEventName = TEngineEventName> = {
  name: N;
  data: TEngineEventData<N>;
  /** Deterministic: the same cause always gives the same id, so Inngest drops repeats. */
  eventId: string;
};

/**
 * Records an Inngest event in the same transaction as the change that causes it. It is
 * sent after commit (publishOutbox) and re-sent by the sweep until Inngest accepts it,
 * so an unreachable Inngest delays work and never loses it. A second enqueue of the same
 * event id is a no-op.
 */
export async function enqueueEvent<N extends TEngineEventName>(tx: Tx, event: TOutboxEvent<N>): Promise<void> {
  await enqueueEvents(tx, [event]);
}

/** enqueueEvent for many events of one kind, in one statement (a batch's changes). */
export async function enqueueEvents<N extends TEngineEventName>(tx: Tx, events: readonly TOutboxEvent<N>[]): Promise<void> {
  if (events.length === 0) return;
  await tx.outboxEvent.createMany({
    data: events.map((event) => ({ eventId: event.eventId, name: event.name, data: event.data })),
    skipDuplicates: true,
  });
}
