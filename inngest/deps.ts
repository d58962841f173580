import "server-only";

import type Stripe from "stripe";

import type { PrismaClient } from "@/generated/prisma/client";
import { ENGINE_ACTOR, type TServiceContext } from "@/lib/context";
import { db } from "@/lib/db";
import type { TClock } from "@/lib/payouts/timing";
import { getStripe } from "@/lib/stripe/client";
import type { TStripeWriteGate } from "@/lib/stripe/write-gate";

/** What the functions use from the outside world; tests pass a fake Stripe and a fixed clock. */
export type TEngineDeps = {
  db: PrismaClient;
  stripe: () => Stripe;
  clock?: TClock;
  /** The shared Stripe write gate (default: from the environment, on `db`). */
  stripeWrites?: TStripeWriteGate;
};

export const defaultDeps: TEngineDeps = { db, stripe: getStripe };

export function engineContext(deps: TEngineDeps, fn: string, runId: string): TServiceContext {
  return {
    db: deps.db,
    actor: { ...ENGINE_ACTOR, id: `inngest:${fn}` },
    runId,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.stripeWrites ? { stripeWrites: deps.stripeWrites } : {}),
  };
}
