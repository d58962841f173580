import "server-only";

import type { PrismaClient } from "@/generated/prisma/client";

import { inOutboxScope } from "./outbox-scope";
import { publishOutbox, type TSend } from "./publish-outbox";

// How the events are noted: outbox-scope.ts.

/**
 * Runs `work` (which commits its own transactions), then sends the outbox events it wrote that
 * it did not send itself, also when it throws after some of them committed. Never throws for the
 * sending: events not sent stay in the outbox with the error recorded, for the sweep. An event of
 * a transaction rolled back is not there to send; one already sent is not sent again
 * (publishOutbox sends unsent events only).
 */
export async function withOutboxPublishing<T>(db: PrismaClient, work: () => Promise<T>, options: { send?: TSend } = {}): Promise<T> {
  const { run, untried } = inOutboxScope(work);
  try {
    return await run;
  } finally {
    const eventIds = untried();
    if (eventIds.length > 0) {
      await publishAfterWork(db, { eventIds, limit: eventIds.length, ...(options.send ? { send: options.send } : {}) }, "the work");
    }
  }
}

/**
 * publishOutbox once the work is done (or answered): never throws. What is not sent stays in the
 * outbox, its error recorded, for the sweep; a failure is logged with `what` the work was.
 */
export async function publishAfterWork(db: PrismaClient, options: Parameters<typeof publishOutbox>[1], what: string): Promise<void> {
  try {
    const published = await publishOutbox(db, options);
    if (published.error) console.warn(`Outbox: ${published.failed} event(s) not sent yet: ${published.error}`);
  } catch (error) {
    console.error(`Outbox: publishing after ${what} failed; the reconciliation sweep sends what is left`, error);
  }
}
