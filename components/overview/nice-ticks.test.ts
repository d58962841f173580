import { describe, expect, it } from "vitest";

import { niceTicks } from "./nice-ticks";

describe("niceTicks", () => {
  it("steps by 1, 2 or 5 times a power of ten, not by an even split of the maximum", () => {
    // The Overview showed $950 / $1.9K / $2.9K for a busiest day of $3,800.
    expect(niceTicks(3_800)).toEqual([0, 1_000, 2_000, 3_000, 4_000]);
    expect(niceTicks(162.35)).toEqual([0, 50, 100, 150, 200]);
    expect(niceTicks(1_000)).toEqual([0, 500, 1_000]);
    expect(niceTicks(0.6)).toEqual([0, 0.2, 0.4, 0.6]);
    expect(niceTicks(9_999_999)).toEqual([0, 5_000_000, 10_000_000]);
  });

  it("reaches at least the maximum, starting at 0", () => {
    for (const max of [1, 7, 13, 99, 101, 950, 1_901, 2_850, 123_456]) {
      const ticks = niceTicks(max);
      expect(ticks[0]).toBe(0);
      expect(ticks.at(-1)).toBeGreaterThanOrEqual(max);
      const step = ticks[1]!;
      expect(step / 10 ** Math.floor(Math.log10(step))).toSatisfy((m: number) => [1, 2, 5].includes(Math.round(m * 1e9) / 1e9));
      ticks.forEach((t, i) => expect(t).toBeCloseTo(i * step, 9));
    }
  });

  it("counts step by whole numbers; nothing to show still has an axis", () => {
    expect(niceTicks(3, { integers: true })).toEqual([0, 1, 2, 3]);
    expect(niceTicks(2, { integers: true })).toEqual([0, 1, 2]);
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(Number.NaN)).toEqual([0, 1]);
  });
});
