import "server-only";

import type { PrismaClient } from "@/generated/prisma/client";
import type { TActor } from "@/lib/audit/record-audit";
import { getEnv } from "@/lib/env";
import { onePer } from "@/lib/one-per";
import { systemClock, type TClock, type TTimingRules } from "@/lib/payouts/timing";
import { stripeWriteGate, type TStripeWriteGate } from "@/lib/stripe/write-gate";

/** What every domain service needs besides its input: the database, the clock, the rules, who acts. */
export type TServiceContext = {
  db: PrismaClient;
  actor: TActor;
  clock?: TClock;
  timing?: TTimingRules;
  runId?: string | null;
  requestId?: string | null;
  /**
   * The id of what caused this call (a stored webhook delivery): used as the Inngest event
   * id of the event the service emits, so a repeated send of the same delivery is dropped.
   */
  sourceEventId?: string | null;
  /** The shared gate every Stripe write passes (rate, pauses for 429s); default from the environment. */
  stripeWrites?: TStripeWriteGate;
};

export function timingFromEnv(): TTimingRules {
  const env = getEnv();
  return { payoutDelayHours: env.PAYOUT_DELAY_HOURS, tipWindowHours: env.TIP_WINDOW_HOURS };
}

/** The process's write gate of a database (one, so that the writes asking at once take their slots together). */
const defaultWriteGate = onePer((db: PrismaClient) => stripeWriteGate(db));

export function resolveContext(ctx: TServiceContext) {
  return {
    ...ctx,
    clock: ctx.clock ?? systemClock,
    timing: ctx.timing ?? timingFromEnv(),
    runId: ctx.runId ?? null,
    requestId: ctx.requestId ?? null,
    sourceEventId: ctx.sourceEventId ?? null,
    stripeWrites: ctx.stripeWrites ?? defaultWriteGate(ctx.db),
  };
}

export type TResolvedContext = ReturnType<typeof resolveContext>;

export const ENGINE_ACTOR: TActor = { type: "system", id: "payout-engine", label: "Payout engine" };

/** Interactive transactions for money changes: short, but patient enough under contention. */
export const TX_OPTIONS = { maxWait: 10_000, timeout: 15_000 } as const;
