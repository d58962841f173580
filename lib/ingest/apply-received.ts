import "server-only";

import type { WebhookEvent } from "@/generated/prisma/client";
import { withAfterCommitEffects } from "@/lib/after-commit/with-after-commit-effects";
import { coalesce } from "@/lib/coalesce";
import { onePer } from "@/lib/one-per";
import type { TWebhookDeps } from "@/lib/webhooks/types";

import { applyBatch, newBatchCarry } from "./apply-batch";
import { applyInOrder, laneKeyOf } from "./apply-in-order";
import { sendWithDeadline } from "./process-delivery";

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

/** When applying a lane throws (the database gone for a moment, a pool timeout), it is tried again after these waits. */
export const APPLY_RETRY_DELAYS_MS: readonly number[] = [1_000, 5_000, 30_000];

/**
 * Applies a just-stored delivery in its lane, after its sender has had the answer. Never
 * throws: the delivery is stored. When the apply fails for a reason other than the delivery
 * itself (recorded on it as failed), the lane is tried again a few times, which also applies
 * whatever waited in it; after that, what is left `received` is the reconciliation sweep's.
 */
export async function applyReceivedDelivery(deps: TWebhookDeps, delivery: WebhookEvent): Promise<void> {
  if (delivery.source === "booking_platform" && BATCHED_TYPES.has(delivery.type) && delivery.bookingExternalId) {
    return batcherOf(deps)(delivery);
  }
  // What the applies caused outside the database (the Inngest events they wrote besides each
  // delivery's own, such as a reversal request; the booking platform's webhooks; alert
  // notifications) gets its first attempt once the lane is let go: a slow endpoint or mail
  // server never holds a booking's lane.
  await withAfterCommitEffects(deps.db, () => applyWithRetries(deps, delivery), { send: sendWithDeadline });
}

/** The booking platform's deliveries applied in batches (apply-batch.ts records their plain cases together). */
const BATCHED_TYPES = new Set(["booking.completed", "tip.created"]);

/** At most this many deliveries in one batch; the rest wait for the next. */
export const MAX_BATCH = 200;
/** Batches one process applies at once (besides the lanes applied one delivery at a time). */
export const BATCHES_AT_ONCE = 2;

/**
 * Completions and tips are applied in batches (applyBatch): whatever arrived while the batches in flight
 * ran goes in the next one (lib/coalesce.ts), so a lone delivery is applied at once and a burst in a few
 * transactions. Each caller's promise settles once its delivery's batch is done (Next's `after()`
 * keeps a serverless function alive until then). A batch never fails: what its retries could not
 * apply is left to the sweep.
 */
const batcherOf = onePer((deps: TWebhookDeps) =>
  coalesce(
    async (deliveries: readonly WebhookEvent[]) => {
      await withAfterCommitEffects(deps.db, () => applyBatchWithRetries(deps, [...deliveries]), { send: sendWithDeadline });
      return deliveries.map(() => undefined);
    },
    { maxBatch: MAX_BATCH, maxInFlight: BATCHES_AT_ONCE },
  ),
);

async function applyBatchWithRetries(deps: TWebhookDeps, deliveries: WebhookEvent[]): Promise<void> {
  const carried = newBatchCarry();
  await withApplyRetries(`webhook deliveries: applying a batch of ${deliveries.length} failed`, () =>
    applyBatch(deps, deliveries, carried),
  );
}

async function applyWithRetries(deps: TWebhookDeps, delivery: WebhookEvent): Promise<void> {
  await withApplyRetries(`webhook delivery ${delivery.id} (${delivery.source} ${delivery.type}): applying its lane failed`, () =>
    inTurn(() => applyInOrder(deps, laneKeyOf(delivery))),
  );
}

/** Runs an apply, and again after each of APPLY_RETRY_DELAYS_MS while it throws; then leaves it to the sweep. Never throws. */
async function withApplyRetries(failure: string, apply: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await apply();
      return;
    } catch (error) {
      const wait = APPLY_RETRY_DELAYS_MS[attempt];
      console.error(`${failure}; ${wait === undefined ? "left to the sweep" : `trying again in ${wait} ms`}`, error);
      if (wait === undefined) return;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
