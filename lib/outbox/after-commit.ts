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
    await publishWritten(db, untried(), options.send);
  }
}

async function publishWritten(db: PrismaClient, eventIds: string[], send: TSend | undefined): Promise<void> {
  if (eventIds.length === 0) return;
  try {
    const published = await publishOutbox(db, { eventIds, limit: eventIds.length, ...(send ? { send } : {}) });
    if (published.error) console.warn(`Outbox: ${published.failed} event(s) not sent yet: ${published.error}`);
  } catch (error) {
    console.error("Outbox: sending the events of the work failed; the reconciliation sweep sends what is left", error);
  }
}
