import { AsyncResource } from "node:async_hooks";

import { coalesce } from "./coalesce";

// Group commit of a per-payout transaction (the transfer step's claim and record, the due
// payout's refresh): the calls this process makes at the same moment share one transaction, whose
// reads of every member are made together, each member's own work then done as alone, in its
// caller's async context (its events, webhooks and alerts are its caller's to send after commit).
// A call that finds nothing in flight goes alone at once; those that come meanwhile wait for it and
// go together (coalesce.ts). The shared transaction never waits for another's locks on its
// members' rows (it leaves those members to go alone: SKIP LOCKED), and does its members' work in
// one order of providers, so that two of them take the providers' debts in one order.

type TSettled<R> = { ok: true; result: R } | { ok: false; error: unknown };

/** What the shared work gives for a member it left out (its rows were locked by another transaction): done alone afterwards. */
export const GO_ALONE: unique symbol = Symbol("go alone");

export type TTogether<M, R> = {
  /** The work of one member in its own transaction: the way it is done without company. */
  alone: (member: M) => Promise<R>;
  /**
   * The work of several members (of different `key`s) in one transaction, their results in their
   * order; GO_ALONE for one it left out (it never waits for another transaction's locks on their rows).
   */
  all: (members: readonly M[], scopes: readonly AsyncResource[]) => Promise<(R | typeof GO_ALONE)[]>;
  /** Members of one key never share a transaction: the second goes alone once the first committed. */
  key: (member: M) => string;
  maxBatch?: number;
  /**
   * Shared transactions of this kind open at once in the process (default 1: a call made while one
   * runs waits for it and goes in the next, so the batches grow with the load and each member costs
   * fewer statements; measured against 2 in docs/benchmarks.md).
   */
  maxInFlight?: number;
};

/**
 * `alone`, done together with the calls made at the same moment. Should their shared transaction
 * roll back (one of them threw), each is done alone and hears its own result or error; so is one the
 * shared work left out, and a second member of one key, once the shared transaction is over.
 */
export function together<M, R>(options: TTogether<M, R>): (member: M) => Promise<R> {
  type TCall = { member: M; scope: AsyncResource };
  // A call's outcome; one done alone after the shared work is not waited for by the flush, so that
  // no caller waits for another's (a member left out may wait for another transaction's locks).
  type TOutcome = { settled: Promise<TSettled<R>> };
  const alone = (call: TCall): Promise<TSettled<R>> => call.scope.runInAsyncScope(() => settle(() => options.alone(call.member)));
  const run = coalesce(
    async (calls: readonly TCall[]): Promise<TOutcome[]> => {
      // Alone, it keeps its flush busy while it runs: the calls made meanwhile gather for the next.
      if (calls.length === 1) return [{ settled: Promise.resolve(await alone(calls[0]!)) }];
      const keys = new Set<string>();
      const first: TCall[] = [];
      const after: TCall[] = [];
      for (const call of calls) {
        const key = options.key(call.member);
        (keys.has(key) ? after : first).push(call);
        keys.add(key);
      }
      const outcomes = new Map<TCall, TOutcome>();
      try {
        const results = await options.all(
          first.map((c) => c.member),
          first.map((c) => c.scope),
        );
        first.forEach((call, i) => {
          const result = results[i]!;
          if (result === GO_ALONE) after.push(call);
          else outcomes.set(call, { settled: Promise.resolve({ ok: true, result }) });
        });
      } catch {
        // Rolled back: one after the other, in their order, as if each had come alone in turn.
        let previous: Promise<unknown> = Promise.resolve();
        for (const call of first) {
          const settled = previous.then(() => alone(call));
          outcomes.set(call, { settled });
          previous = settled;
        }
      }
      // Left out, or a second member of a key: alone once the shared transaction is over, each on its own.
      for (const call of after) outcomes.set(call, { settled: alone(call) });
      return calls.map((call) => outcomes.get(call)!);
    },
    { maxBatch: options.maxBatch ?? 50, maxInFlight: options.maxInFlight ?? 1 },
  );
  return async (member) => {
    const outcome = await run({ member, scope: new AsyncResource("together") });
    const settled = await outcome.settled;
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
