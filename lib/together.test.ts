import { AsyncLocalStorage } from "node:async_hooks";

import { describe, expect, it } from "vitest";

import { together } from "./together";

type TMember = { key: string; value: number };

/** A `together` whose every call is recorded: which went alone, which together, in whose async context. */
function recorded(options: { failAll?: (members: readonly TMember[]) => boolean; failAlone?: (m: TMember) => boolean } = {}) {
  const storage = new AsyncLocalStorage<string>();
  const log: string[] = [];
  const run = together<TMember, string>({
    alone: async (m) => {
      await new Promise((r) => setImmediate(r));
      if (options.failAlone?.(m)) throw new Error(`alone ${m.value} failed`);
      log.push(`alone ${m.value} in ${storage.getStore()}`);
      return `alone:${m.value}`;
    },
    all: async (members, scopes) => {
      await new Promise((r) => setImmediate(r));
      if (options.failAll?.(members)) throw new Error("rolled back");
      const results: string[] = [];
      for (const [i, m] of members.entries()) {
        results.push(scopes[i]!.runInAsyncScope(() => `together:${m.value} in ${storage.getStore()}`));
      }
      log.push(`together ${members.map((m) => m.value).join(",")}`);
      return results;
    },
    key: (m) => m.key,
    maxInFlight: 1,
  });
  const call = (key: string, value: number) => storage.run(`caller ${value}`, () => run({ key, value }));
  return { call, log };
}

describe("together", () => {
  it("a call with nothing in flight goes alone; those made meanwhile go together, each in its caller's context", async () => {
    const { call, log } = recorded();
    const results = await Promise.all([call("a", 1), call("b", 2), call("c", 3)]);
    expect(results).toEqual(["alone:1", "together:2 in caller 2", "together:3 in caller 3"]);
    expect(log).toEqual(["alone 1 in caller 1", "together 2,3"]);
  });

  it("a second member of one key goes alone after the others", async () => {
    const { call, log } = recorded();
    const results = await Promise.all([call("a", 1), call("b", 2), call("b", 3), call("c", 4)]);
    expect(results).toEqual(["alone:1", "together:2 in caller 2", "alone:3", "together:4 in caller 4"]);
    expect(log).toEqual(["alone 1 in caller 1", "together 2,4", "alone 3 in caller 3"]);
  });

  it("when the shared work fails, each member goes alone and hears its own result or error", async () => {
    const { call, log } = recorded({ failAll: () => true, failAlone: (m) => m.value === 3 });
    const results = await Promise.allSettled([call("a", 1), call("b", 2), call("c", 3), call("d", 4)]);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual([
      "alone:1",
      "alone:2",
      "alone 3 failed",
      "alone:4",
    ]);
    expect(log).toEqual(["alone 1 in caller 1", "alone 2 in caller 2", "alone 4 in caller 4"]);
  });
});
