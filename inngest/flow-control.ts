import { getEnv } from "@/lib/env";

/**
 * Inngest's throttle for the functions that write to Stripe (transfers, reversals, repayments):
 * runs start no faster than STRIPE_WRITES_PER_SECOND, queued rather than dropped. Inngest
 * throttles each function on its own; lib/stripe/write-gate.ts is the ceiling for all of them
 * together, retries included.
 */
export function stripeWriteThrottle() {
  return { limit: Math.max(1, Math.floor(getEnv().STRIPE_WRITES_PER_SECOND)), period: "1s" } as const;
}
