import { describe, expect, it } from "vitest";

import type { Tx } from "@/lib/db";

import { aroundAll, gatheredRows } from "./gathered-rows";

// A transaction stands for itself here: the rows are keyed by it and handed back to `write` with it.
const tx = () => ({}) as Tx;

function recorder() {
  const writes: { tx: Tx; rows: readonly number[] }[] = [];
  const rows = gatheredRows<number>(async (t, r) => {
    writes.push({ tx: t, rows: [...r] });
  });
  return { rows, writes };
}

describe("gatheredRows", () => {
  it("the rows pushed while the work runs are written once, after it and before it returns, with their transaction", async () => {
    const { rows, writes } = recorder();
    const t = tx();
    const result = await rows.around(t, async () => {
      rows.of(t)!.push(1, 2);
      await Promise.resolve();
      rows.of(t)!.push(3);
      expect(writes).toEqual([]);
      return "done";
    });
    expect(result).toBe("done");
    expect(writes).toEqual([{ tx: t, rows: [1, 2, 3] }]);
    expect(rows.of(t)).toBeUndefined();
  });

  it("outside its work a transaction gathers nothing (the caller writes at once), and another transaction's rows are its own", async () => {
    const { rows, writes } = recorder();
    const [a, b] = [tx(), tx()];
    expect(rows.of(a)).toBeUndefined();
    await Promise.all([
      rows.around(a, async () => {
        expect(rows.of(b)).toBeUndefined();
        rows.of(a)!.push(1);
      }),
      rows.around(b, async () => {
        rows.of(b)!.push(2);
      }),
    ]);
    expect(writes).toEqual([
      { tx: a, rows: [1] },
      { tx: b, rows: [2] },
    ]);
  });

  it("no rows: nothing written; work inside work: written once, by the outer", async () => {
    const { rows, writes } = recorder();
    const t = tx();
    await rows.around(t, async () => undefined);
    expect(writes).toEqual([]);
    await rows.around(t, async () => {
      rows.of(t)!.push(1);
      await rows.around(t, async () => {
        rows.of(t)!.push(2);
      });
      expect(writes).toEqual([]);
    });
    expect(writes).toEqual([{ tx: t, rows: [1, 2] }]);
  });

  it("work that throws writes nothing and leaves the transaction gathering nothing; a write that throws is the work's error", async () => {
    const { rows, writes } = recorder();
    const t = tx();
    await expect(
      rows.around(t, async () => {
        rows.of(t)!.push(1);
        throw new Error("member failed");
      }),
    ).rejects.toThrow("member failed");
    expect(writes).toEqual([]);
    expect(rows.of(t)).toBeUndefined();

    const failing = gatheredRows<number>(async () => {
      throw new Error("write failed");
    });
    await expect(failing.around(t, async () => void failing.of(t)!.push(1))).rejects.toThrow("write failed");
    expect(failing.of(t)).toBeUndefined();
  });

  it("aroundAll: every kind gathered during the one work, each written once, in its own write, after it", async () => {
    const first = recorder();
    const second = recorder();
    const t = tx();
    const result = await aroundAll(t, [first.rows, second.rows], async () => {
      first.rows.of(t)!.push(1);
      second.rows.of(t)!.push(2, 3);
      expect([first.writes, second.writes]).toEqual([[], []]);
      return "done";
    });
    expect(result).toBe("done");
    expect(first.writes).toEqual([{ tx: t, rows: [1] }]);
    expect(second.writes).toEqual([{ tx: t, rows: [2, 3] }]);
    expect(await aroundAll(t, [], async () => 7)).toBe(7);
  });
});
