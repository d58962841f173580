import { describe, expect, it } from "vitest";

import { nextAttemptAfterFailure, RETRY_WINDOW_MS, retryDelayMs } from "./backoff";

describe("retry backoff", () => {
  it("grows exponentially up to 12 hours", () => {
    expect([1, 2, 3, 4].map(retryDelayMs)).toEqual([10_000, 40_000, 160_000, 640_000]);
    expect(retryDelayMs(20)).toBe(12 * 3_600_000);
  });

  it("keeps trying for 3 days from the event, the last try at the 3-day mark, then gives up", () => {
    const since = new Date("2026-12-01T00:00:00Z");
    const mid = nextAttemptAfterFailure({ attempts: 1, since, now: since, random: () => 0.5 });
    expect(mid!.getTime() - since.getTime()).toBe(10_000);
    const late = new Date(since.getTime() + RETRY_WINDOW_MS - 60_000);
    expect(nextAttemptAfterFailure({ attempts: 12, since, now: late, random: () => 0.5 })).toEqual(
      new Date(since.getTime() + RETRY_WINDOW_MS),
    );
    expect(nextAttemptAfterFailure({ attempts: 13, since, now: new Date(since.getTime() + RETRY_WINDOW_MS) })).toBeNull();
  });

  it("reaches the 3-day mark in a bounded number of attempts", () => {
    const since = new Date(0);
    let now = since;
    let attempts = 0;
    for (let next: Date | null = since; next; attempts++) {
      now = next;
      next = nextAttemptAfterFailure({ attempts: attempts + 1, since, now, random: () => 0.5 });
    }
    expect(now.getTime()).toBe(RETRY_WINDOW_MS);
    expect(attempts).toBeGreaterThan(8);
    expect(attempts).toBeLessThan(16);
  });
});
