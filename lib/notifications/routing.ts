// Pure rules of alert notifications: which message an alert goes into, and when a failed
// attempt is tried again. No I/O.

/** Kinds that are critical whatever severity they were raised with: a failed transfer, a provider's failed bank payout. */
export const ALWAYS_CRITICAL_KINDS: ReadonlySet<string> = new Set(["payout_failed", "bank_payout_failed"]);

export type TRoute = { kind: "critical" | "digest"; groupKey: string };

/** Critical alerts go at once, one message per alert kind per window; warnings (and info) wait for the digest. */
export function routeOf(alert: { kind: string; severity: string }): TRoute {
  if (alert.severity === "critical" || ALWAYS_CRITICAL_KINDS.has(alert.kind)) return { kind: "critical", groupKey: `alert:${alert.kind}` };
  return { kind: "digest", groupKey: "digest" };
}

/** Attempts per message before it is recorded as failed for good. */
export const MAX_NOTIFICATION_ATTEMPTS = 6;

const BACKOFF_MS = [60_000, 5 * 60_000, 15 * 60_000, 60 * 60_000, 3 * 60 * 60_000];

/** How long after its `attempts`-th failed attempt a message is tried again (1 min, 5 min, 15 min, 1 h, 3 h). */
export function retryDelayMs(attempts: number): number {
  return BACKOFF_MS[Math.min(Math.max(attempts, 1), BACKOFF_MS.length) - 1] ?? 60_000;
}

/**
 * When a new message of a group may go: a critical one at once unless the group's previous
 * message opened a window that is still running (then at that window's end: flood control);
 * a digest when its interval ends, and never within the previous digest's interval.
 */
export function windowStartFor(
  route: TRoute,
  previousWindowStart: Date | null,
  now: Date,
  config: { windowMs: number; digestMs: number },
): Date {
  if (route.kind === "digest") {
    const earliest = now.getTime() + config.digestMs;
    return new Date(previousWindowStart ? Math.max(earliest, previousWindowStart.getTime() + config.digestMs) : earliest);
  }
  if (!previousWindowStart) return now;
  return new Date(Math.max(now.getTime(), previousWindowStart.getTime() + config.windowMs));
}
