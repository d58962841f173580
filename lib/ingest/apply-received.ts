import "server-only";

import type { WebhookEvent } from "@/generated/prisma/client";
import type { TWebhookDeps } from "@/lib/webhooks/types";

import { applyInOrder, laneKeyOf } from "./apply-in-order";

/** A webhook's answer, and the apply to run after sending it (null when there is nothing to apply: a duplicate). */
export type TReceived<TAnswer> = { answer: TAnswer; apply: (() => Promise<void>) | null };

/**
 * How many lanes one process applies at once. The rest wait their turn in memory (they are
 * stored already): a burst of answers then does not become hundreds of applies fighting for
 * the database pool, which would starve the next answers' one insert and thrash PostgreSQL.
 */
export const APPLY_CONCURRENCY = 4;

let running = 0;
const waiting: (() => void)[] = [];

async function inTurn<T>(task: () => Promise<T>): Promise<T> {
  if (running >= APPLY_CONCURRENCY) await new Promise<void>((resolve) => waiting.push(resolve));
  else running += 1;
  try {
    return await task();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }
}

/**
 * Applies a just-stored delivery in its lane, after its sender has had the answer. Never
 * throws: the delivery is stored, and whatever stopped the apply here (the database gone for
 * a moment, a crash) leaves it `received` for the reconciliation sweep, which applies it.
 */
export async function applyReceivedDelivery(deps: TWebhookDeps, delivery: WebhookEvent): Promise<void> {
  try {
    await inTurn(() => applyInOrder(deps, laneKeyOf(delivery)));
  } catch (error) {
    console.error(`webhook delivery ${delivery.id} (${delivery.source} ${delivery.type}): applying it failed; the sweep applies it`, error);
  }
}
