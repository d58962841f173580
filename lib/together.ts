import { AsyncResource } from "node:async_hooks";

import { coalesce } from "./coalesce";

// Group commit of a per-payout transaction (the transfer step's claim and record, the due
// payout's refresh): the calls this process makes at the same moment share one transaction, whose
// reads of every member are made together, each member's own work then done as alone, in its
// caller's async context (its events, webhooks and alerts are its caller's to send after commit).
// A call that finds nothing in flight goes alone at once; those that come meanwhile wait for it and
// go together (coalesce.ts).

type TSettled<R> = { ok: true; result: R } | { ok: false; error: unknown };

export type TTogether<M, R> = {
  /** The work of one member in its own transaction: the way it is done without company. */
  alone: (member: M) => Promise<R>;
  /** The work of several members (of different `key`s) in one transaction, their results in their order. */
  all: (members: readonly M[], scopes: readonly AsyncResource[]) => Promise<R[]>;
  /** Members of one key never share a transaction: the second goes alone once the first committed. */
  key: (member: M) => string;
  maxBatch?: number;
  maxInFlight?: number;
};

/**
 * `alone`, done together with the calls made at the same moment. Should their shared transaction
 * roll back (one of them threw, a deadlock with another transaction), each is done alone and hears
 * its own result or error.
 */
export function together<M, R>(options: TTogether<M, R>): (member: M) => Promise<R> {
  type TCall = { member: M; scope: AsyncResource };
  const alone = (call: TCall): Promise<TSettled<R>> => call.scope.runInAsyncScope(() => settle(() => options.alone(call.member)));
  const run = coalesce(
    async (calls: readonly TCall[]): Promise<TSettled<R>[]> => {
      if (calls.length === 1) return [await alone(calls[0]!)];
      const keys = new Set<string>();
      const first: TCall[] = [];
      const after: TCall[] = [];
      for (const call of calls) {
        const key = options.key(call.member);
        (keys.has(key) ? after : first).push(call);
        keys.add(key);
      }
      const settled = new Map<TCall, TSettled<R>>();
      try {
        const results = await options.all(
          first.map((c) => c.member),
          first.map((c) => c.scope),
        );
        first.forEach((call, i) => settled.set(call, { ok: true, result: results[i]! }));
      } catch {
        for (const call of first) settled.set(call, await alone(call));
      }
      for (const call of after) settled.set(call, await alone(call));
      return calls.map((call) => settled.get(call)!);
    },
    { maxBatch: options.maxBatch ?? 50, maxInFlight: options.maxInFlight ?? 2 },
  );
  return async (member) => {
    const settled = await run({ member, scope: new AsyncResource("together") });
    if (settled.ok) return settled.result;
    throw settled.error;
  };
}

async function settle<R>(work: () => Promise<R>): Promise<TSettled<R>> {
  try {
    return { ok: true, result: await work() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** One `together` per key object (a database client): made on first use. */
export function togetherPer<K extends object, M, R>(make: (key: K) => (member: M) => Promise<R>): (key: K) => (member: M) => Promise<R> {
  const made = new WeakMap<K, (member: M) => Promise<R>>();
  return (key) => {
    let fn = made.get(key);
    if (!fn) {
      fn = make(key);
      made.set(key, fn);
    }
    return fn;
  };
}
