// The write gate's slots asked for at once in one process are taken together (lib/coalesce.ts):
// as many slots as asks, one after the other, each ask waiting for its own. The shared row moves
// on by exactly that many slots, as if each had asked alone.
import { expect, it } from "vitest";

import { db } from "@/lib/db";
import { RATE_MARGIN, stripeWriteGate } from "@/lib/stripe/write-gate";

import { countingCalls } from "../../support/count-calls";

it("twenty writes asking at once take twenty consecutive slots, spaced by the rate, in fewer statements than asks", async () => {
  await db.rateLimit.deleteMany({});
  const perSecond = 50;
  const spacingMs = Math.ceil((1000 / perSecond) * (1 + RATE_MARGIN));
  const waits: number[] = [];
  // Waits are recorded, not slept: every write is then on time for its slot.
  const { counted, calls: statements } = countingCalls(db, "$queryRaw");
  const gate = stripeWriteGate(counted, {
    perSecond,
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  const [start] = await db.$queryRaw<{ now: Date }[]>`SELECT clock_timestamp() AS now`;
  const before = start!.now;

  await Promise.all(Array.from({ length: 20 }, () => gate.acquire()));

  const row = await db.rateLimit.findFirstOrThrow({});
  const moved = row.nextSlotAt.getTime() - before.getTime();
  expect(moved).toBeGreaterThanOrEqual(20 * spacingMs);
  expect(moved).toBeLessThan(20 * spacingMs + 200);
  // The first write goes at once; each of the others waits one slot longer than the one before.
  const sorted = [...waits].sort((a, b) => a - b);
  expect(sorted.length).toBeGreaterThanOrEqual(18);
  for (let i = 1; i < sorted.length; i++) {
    expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThanOrEqual(spacingMs - 2);
    expect(sorted[i]! - sorted[i - 1]!).toBeLessThanOrEqual(spacingMs + 2);
  }
  // One statement for the first ask, one for all that asked while it was on its way.
  expect(statements()).toBe(2);
});
