// Timing rules with an injectable clock. Pure: no I/O.

export type TClock = { now(): Date };

export const systemClock: TClock = { now: () => new Date() };

/** A clock stuck at `at` (tests, replays). */
export function fixedClock(at: Date): TClock {
  return { now: () => new Date(at.getTime()) };
}

export type TTimingRules = {
  /** Hours after completion before the payout may be transferred (default 48). */
  payoutDelayHours: number;
  /** Hours after completion during which tips are accepted (default 24). */
  tipWindowHours: number;
};

export const DEFAULT_TIMING: TTimingRules = { payoutDelayHours: 48, tipWindowHours: 24 };

const HOUR_MS = 60 * 60 * 1000;

/** When the payout for a booking completed at `completedAt` becomes due. */
export function payoutDueAt(completedAt: Date, rules: TTimingRules = DEFAULT_TIMING): Date {
  return new Date(completedAt.getTime() + rules.payoutDelayHours * HOUR_MS);
}

/** The last moment a tip is accepted (inclusive). */
export function tipWindowEndsAt(completedAt: Date, rules: TTimingRules = DEFAULT_TIMING): Date {
  return new Date(completedAt.getTime() + rules.tipWindowHours * HOUR_MS);
}

/** Why a tip tipped after the window is rejected (the tip's rejection reason and audit entry). */
export function describeLateTip(completedAt: Date, tippedAt: Date, rules: TTimingRules = DEFAULT_TIMING): string {
  return (
    `tip received after the ${rules.tipWindowHours}-hour window ` +
    `(window ended ${tipWindowEndsAt(completedAt, rules).toISOString()}, tipped ${tippedAt.toISOString()})`
  );
}

/**
 * Bookings completed before this instant have a closed tip window at `now` (the inverse of
 * tipWindowEndsAt, for queries over many bookings).
 */
export function tipWindowClosedForCompletionsBefore(now: Date, rules: TTimingRules = DEFAULT_TIMING): Date {
  return new Date(now.getTime() - rules.tipWindowHours * HOUR_MS);
}

export function isTipInWindow(completedAt: Date, tippedAt: Date, rules: TTimingRules = DEFAULT_TIMING): boolean {
  return tippedAt.getTime() <= tipWindowEndsAt(completedAt, rules).getTime();
}

export function isDue(eligibleAt: Date, now: Date): boolean {
  return now.getTime() >= eligibleAt.getTime();
}
