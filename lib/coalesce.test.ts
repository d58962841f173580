import { describe, expect, it } from "vitest";

import { coalesce } from "./coalesce";

/** A flush the test lets finish when it says so, recording the batches it was given. */
function gatedFlush() {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  const flush = async (inputs: readonly number[]) => {
    batches.push([...inputs]);
    await new Promise<void>((resolve) => gates.push(resolve));
    return inputs.map((n) => n * 10);
  };
  const openNext = async () => {
    while (gates.length === 0) await new Promise((r) => setImmediate(r));
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
  };
  return { flush, batches, openNext };
}

describe("coalesce", () => {
  it("flushes a call at once when nothing is in flight, and the calls made meanwhile together in the next flush", async () => {
    const { flush, batches, openNext } = gatedFlush();
    const call = coalesce(flush);
    const first = call(1);
    const rest = [call(2), call(3), call(4)];
    expect(batches).toEqual([[1]]);
    await openNext();
    expect(await first).toBe(10);
    expect(batches).toEqual([[1], [2, 3, 4]]);
    await openNext();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
  });

  it("runs up to maxInFlight flushes at once and no batch larger than maxBatch", async () => {
    const { flush, batches, openNext } = gatedFlush();
    const call = coalesce(flush, { maxInFlight: 2, maxBatch: 2 });
    const calls = [1, 2, 3, 4, 5, 6].map((n) => call(n));
    expect(batches).toEqual([[1], [2]]);
    await openNext();
    expect(batches).toEqual([[1], [2], [3, 4]]);
    await openNext();
    await openNext();
    await openNext();
    expect(batches).toEqual([[1], [2], [3, 4], [5, 6]]);
    expect(await Promise.all(calls)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it("rejects every call of a flush that throws, and goes on with the next", async () => {
    let fail = true;
    const call = coalesce(async (inputs: readonly number[]) => {
      await new Promise((r) => setImmediate(r));
      if (fail) {
        fail = false;
        throw new Error("the database went away");
      }
      return inputs;
    });
    const failing = call(1);
    const next = [call(2), call(3)];
    await expect(failing).rejects.toThrow("the database went away");
    expect(await Promise.all(next)).toEqual([2, 3]);
  });

  it("rejects the calls of a flush that gives too few outputs instead of leaving one waiting", async () => {
    const call = coalesce(async (inputs: readonly number[]) => inputs.slice(1));
    const calls = [call(1), call(2), call(3)].map((p) => p.catch((e: Error) => e.message));
    expect(await Promise.all(calls)).toEqual([
      "A coalesced flush of 1 calls gave 0 outputs.",
      "A coalesced flush of 2 calls gave 1 outputs.",
      "A coalesced flush of 2 calls gave 1 outputs.",
    ]);
  });
});
