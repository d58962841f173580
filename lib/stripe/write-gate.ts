import "server-only";

import { Prisma, type PrismaClient } from "@/generated/prisma/client";
import { coalesce } from "@/lib/coalesce";
import { sqlRows } from "@/lib/direct-sql";
import { getEnv } from "@/lib/env";

import { classifyStripeError, isTurnedAway, type TStripeFailure } from "./classify-error";

// Every Stripe write (transfers, reversals, repayments) passes this gate. It keeps all of them
// together, across every server and function, under one rate: a shared slot in PostgreSQL
// (generic cell rate algorithm: each write takes the next free slot with one UPDATE, or with the
// writes that asked at the same time in this process, and waits for it), spaced 10 % wider than 1/rate so that network jitter cannot put more than `perSecond`
// requests into any second at Stripe; a write that wakes too late for its slot (a busy event
// loop delays timers by tens or hundreds of milliseconds) takes a new one rather than bunch up
// with the next slots' writes. Inngest's throttle on the functions (inngest/functions)
// keeps runs from starting faster than that in the first place; this is the ceiling that also
// holds for retries, for the two functions together and for work done outside Inngest.
//
// A write Stripe turns away without acting on it (429 rate_limit or lock_timeout, a connection
// that never reached Stripe) is sent again after a pause, within the same attempt, a few times;
// it never counts toward a payout's attempts (lib/stripe/classify-error.ts, `counts`).

export type TStripeWriteGate = {
  /** Waits until the next write may start under the shared rate. */
  acquire(): Promise<void>;
  /** How long to pause before sending a turned-away write again (retry 1, 2, …); null: give up for this attempt. */
  backoffMs(retry: number, failure: TStripeFailure): number | null;
  sleep(ms: number): Promise<void>;
};

export type TStripeWriteGateOptions = {
  /** Writes per second, all servers together (STRIPE_WRITES_PER_SECOND). */
  perSecond?: number;
  /** Sends of one write that Stripe turned away before the attempt gives up (default 5). */
  maxRetries?: number;
  /** First pause, doubled each time up to 8 s, or Stripe's Retry-After when longer (default 500 ms). */
  baseBackoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
};

const RATE_KEY = "stripe_writes";
/** Slots are spaced this much wider than 1/rate (network jitter between our clock and Stripe's arrival). */
export const RATE_MARGIN = 0.1;
const MAX_BACKOFF_MS = 8_000;
/**
 * The latest a write may start after its slot. Slots spaced (1 + RATE_MARGIN) / rate apart keep
 * any second at Stripe within the rate as long as each write arrives less than 1000 ms ×
 * RATE_MARGIN after its slot: half of that for starting late, half for the trip to Stripe.
 */
const LATE_START_MS = (1000 * RATE_MARGIN) / 2;
/** Slots a write may give up for starting late before it goes anyway (a 429 is then its answer). */
const MAX_RETAKES = 3;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function stripeWriteGate(db: PrismaClient, options: TStripeWriteGateOptions = {}): TStripeWriteGate {
  const perSecond = options.perSecond ?? getEnv().STRIPE_WRITES_PER_SECOND;
  const spacingMs = Math.ceil((1000 / perSecond) * (1 + RATE_MARGIN));
  const maxRetries = options.maxRetries ?? 5;
  const base = options.baseBackoffMs ?? 500;
  const sleep = options.sleep ?? defaultSleep;
  // Slots asked for while another ask is on its way to PostgreSQL are taken together, one after
  // the other, in one statement (coalesce.ts): as many slots as asks, each ask given the start of
  // its own, in this process's clock (the time the statement was sent plus the wait it returned).
  const take = coalesce(
    async (asks: readonly null[]) => {
      const span = asks.length * spacingMs;
      const asked = performance.now();
      const [row] = await sqlRows<{ waitMs: number }[]>(
        db,
        Prisma.sql`
        INSERT INTO "RateLimit" ("key", "nextSlotAt") VALUES (${RATE_KEY}, clock_timestamp() + ${span} * interval '1 millisecond')
        ON CONFLICT ("key") DO UPDATE
          SET "nextSlotAt" = greatest("RateLimit"."nextSlotAt", clock_timestamp()) + ${span} * interval '1 millisecond'
        RETURNING greatest(0, extract(epoch FROM ("nextSlotAt" - ${span} * interval '1 millisecond' - clock_timestamp())) * 1000)::float8 AS "waitMs"`,
      );
      const first = asked + (row?.waitMs ?? 0);
      return asks.map((_, i) => first + i * spacingMs);
    },
    { maxInFlight: 1 },
  );
  return {
    async acquire() {
      for (let retake = 0; ; retake++) {
        const slotAt = await take(null);
        const waitMs = slotAt - performance.now();
        if (waitMs > 0) await sleep(Math.ceil(waitMs));
        // Woken late (a busy event loop, a slow answer): sent now, this write would share a second
        // with the writes of the slots after its own. Give the slot up and take the next free one.
        const late = performance.now() - slotAt;
        if (late <= LATE_START_MS || retake >= MAX_RETAKES) return;
      }
    },
    backoffMs(retry, failure) {
      if (retry > maxRetries) return null;
      return Math.max(Math.min(base * 2 ** (retry - 1), MAX_BACKOFF_MS), failure.retryAfterMs ?? 0);
    },
    sleep,
  };
}

/**
 * Sends one Stripe write through the gate: waits for a slot, sends, and when Stripe turns it
 * away unprocessed pauses and sends it again (same idempotency key, which Stripe did not store),
 * until the gate gives up; then the last error is thrown for the caller to classify.
 */
export async function sendStripeWrite<T>(gate: TStripeWriteGate, send: () => Promise<T>): Promise<T> {
  for (let retry = 1; ; retry++) {
    await gate.acquire();
    try {
      return await send();
    } catch (error) {
      const failure = classifyStripeError(error);
      const pause = isTurnedAway(failure) ? gate.backoffMs(retry, failure) : null;
      if (pause === null) throw error;
      await gate.sleep(pause);
    }
  }
}
