import "server-only";

import { AsyncLocalStorage } from "node:async_hooks";

import type { PrismaClient } from "@/generated/prisma/client";

import { deliverPlatformWebhooks } from "./deliver-platform-webhooks";

// The platform events a unit of work (an admin request, the apply of a webhook delivery) wrote,
// so that they are delivered right after its transactions commit, in the same process. The
// writer (recordPlatformEvent) notes each event an endpoint will receive; the caller delivers
// them once its work is done. Without a scope (a script, the seed) the events wait for the
// engine's retry function and the sweep.

type TScope = { eventIds: string[] };

const storage = new AsyncLocalStorage<TScope>();

/** Called by the event writer: this event has somewhere to go. */
export function notePlatformEvent(eventId: string): void {
  storage.getStore()?.eventIds.push(eventId);
}

/** Runs `work`, collecting the platform events it writes. */
export async function collectPlatformEvents<T>(work: () => Promise<T>): Promise<{ result: T; eventIds: string[] }> {
  const scope: TScope = { eventIds: [] };
  const result = await storage.run(scope, work);
  return { result, eventIds: scope.eventIds };
}

/**
 * The first attempt of the events a unit of work wrote, right after it committed (in the same
 * process; Inngest need not run). Never throws: what fails here is retried by the engine.
 */
export async function deliverPlatformEventsNow(db: PrismaClient, eventIds: readonly string[]): Promise<void> {
  if (eventIds.length === 0) return;
  try {
    await deliverPlatformWebhooks({ db }, { eventIds: [...eventIds] });
  } catch (error) {
    console.error("Platform webhooks: delivering after the change failed; the engine retries it", error);
  }
}

/**
 * Runs `work` (which commits its own transactions) and then delivers the platform events it
 * wrote, even when it throws after some of them committed. For the engine's steps.
 */
export async function withPlatformWebhooks<T>(db: PrismaClient, work: () => Promise<T>): Promise<T> {
  const scope: TScope = { eventIds: [] };
  try {
    return await storage.run(scope, work);
  } finally {
    await deliverPlatformEventsNow(db, scope.eventIds);
  }
}
