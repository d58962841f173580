// When a failed delivery is tried again: exponential backoff (10 s, 40 s, 2.7 min, 11 min, 43 min,
// 2.8 h, 11 h, then every 12 h, each ±10 %) for 3 days from the event, the last try at the 3-day
// mark; after it, the delivery has failed (an admin may still re-send it). Pure: no I/O.

export const RETRY_WINDOW_MS = 3 * 24 * 60 * 60 * 1000;
const FIRST_DELAY_MS = 10_000;
const FACTOR = 4;
const MAX_DELAY_MS = 12 * 60 * 60 * 1000;

/** The delay after the `attempts`-th failed attempt (1-based), without jitter. */
export function retryDelayMs(attempts: number): number {
  return Math.min(FIRST_DELAY_MS * FACTOR ** Math.max(0, attempts - 1), MAX_DELAY_MS);
}

/** When to try again after a failed attempt, or null: 3 days have passed since `since`, give up. */
export function nextAttemptAfterFailure(input: { attempts: number; since: Date; now: Date; random?: () => number }): Date | null {
  const deadline = input.since.getTime() + RETRY_WINDOW_MS;
  if (input.now.getTime() >= deadline) return null;
  const jitter = 0.9 + 0.2 * (input.random ?? Math.random)();
  return new Date(Math.min(input.now.getTime() + retryDelayMs(input.attempts) * jitter, deadline));
}
