import "server-only";

import { AsyncLocalStorage } from "node:async_hooks";

// The outbox events a unit of work (an engine step, a webhook delivery's apply) wrote, sent to
// Inngest right after its transactions commit, in the same process: no step of its own, no
// second call of the function for them, and no waiting for another run to find them. The writer
// (enqueueEvents) notes each event, publishOutbox notes each event it tried to send; once the
// work is done, whatever was written and not yet tried is sent. Each writer sends its own
// events; the reconciliation sweep re-sends whatever is left unsent.

type TScope = { written: Set<string> };

const storage = new AsyncLocalStorage<TScope>();

/** Runs `work` in a new scope; gives its result and the events written in it and not yet tried. */
export function inOutboxScope<T>(work: () => Promise<T>): { run: Promise<T>; untried: () => string[] } {
  const scope: TScope = { written: new Set() };
  return { run: storage.run(scope, work), untried: () => [...scope.written] };
}

/** Called by the outbox writer: these events were written (or were already there) in the current work. */
export function noteOutboxEvents(eventIds: readonly string[]): void {
  const scope = storage.getStore();
  if (scope) for (const id of eventIds) scope.written.add(id);
}

/** Called by publishOutbox: these events were sent, or tried and left for the sweep. */
export function noteOutboxTried(eventIds: readonly string[]): void {
  const scope = storage.getStore();
  if (scope) for (const id of eventIds) scope.written.delete(id);
}
