// A small stand-in for Inngest's scheduler, shared by the simulation (test/sim/play.ts) and the
// pipeline benchmark (scripts/bench-pipeline.ts): events the app sends reach the local receiver
// and become runs (an event id seen before is dropped, as Inngest does); each `step.run` result
// is kept on the run, so a retry skips finished steps; `step.sleepUntil` ends the execution until
// the clock passes the time; an error is retried with the function's own `retries` and backoff
// (RetryAfterError's delay), then the function's `onFailure` runs. Who runs what, when, is the
// caller's choice (`queue`, `execute`).
import { randomUUID } from "node:crypto";

import { NonRetriableError, RetryAfterError } from "inngest";

import type { TEngineDeps } from "@/inngest/deps";
import { createFollowUpPayoutFunction } from "@/inngest/functions/follow-up-payout";
import { createReconcilePayoutsFunction } from "@/inngest/functions/reconcile-payouts";
import { createRepayProviderFunction } from "@/inngest/functions/repay-provider";
import { createReverseTransferFunction } from "@/inngest/functions/reverse-transfer";
import { createSchedulePayoutFunction } from "@/inngest/functions/schedule-payout";
import { createTopUpPayoutFunction } from "@/inngest/functions/top-up-payout";
import { createTransferPayoutFunction } from "@/inngest/functions/transfer-payout";

import { HOUR, MINUTE } from "./model";
import type { TInngestReceiver } from "../support/inngest-receiver";

export type TFnKey = "schedule" | "transfer" | "topUp" | "followUp" | "reverse" | "repay" | "reconcile";

const ROUTES: Record<string, TFnKey> = {
  "booking/completed": "schedule",
  "payout/transfer.requested": "transfer",
  "payout/reversal.requested": "reverse",
  "payout/repayment.requested": "repay",
  "payout/top-up.requested": "topUp",
  "tip/added": "followUp",
  "dispute/opened": "followUp",
  "dispute/resolved": "followUp",
  "charge/refunded": "followUp",
  "booking/cancelled": "followUp",
  "payout/admin.action": "followUp",
};

export type TQueued = {
  fn: TFnKey;
  event: { id: string; name: string; data: Record<string, unknown> };
  runId: string;
  attempt: number;
  notBefore: number;
  /** A run that finished (kept for re-runs: a step that runs twice). */
  done: boolean;
  /** Step results Inngest kept (by step id). */
  memo: Map<string, unknown>;
};

/** What an Inngest function object holds (InngestFunction's `opts` and handler `fn`). */
type TFunctionLike = {
  opts: { retries?: number; onFailure?: (input: unknown) => Promise<unknown> };
  fn: (ctx: unknown) => Promise<unknown>;
};

class SimSleep extends Error {
  override name = "SimSleep";
}

export type TInngestStandIn = {
  /** Every run made from the events received so far (finished ones included). */
  queue: TQueued[];
  /** Turns the events the receiver got since the last pull into runs. */
  pull(): void;
  /** One execution of a run; `crashAfter`: crash after that many steps did their work, before Inngest kept the result. */
  execute(run: TQueued, crashAfter: number | null): Promise<void>;
};

export type TInngestStandInOptions = {
  receiver: TInngestReceiver;
  clock: { now(): Date };
  deps: TEngineDeps;
  /** Something no history may cause happened (a failure handler threw). */
  onProblem(what: string): void;
  /** Runs each step's work (default: just runs it); the benchmark times and tags it. */
  aroundStep?: (run: TQueued, stepId: string, work: () => Promise<unknown>) => Promise<unknown>;
};

export function createInngestStandIn(options: TInngestStandInOptions): TInngestStandIn {
  const { receiver, clock, deps, onProblem } = options;
  const aroundStep = options.aroundStep ?? ((_run, _id, work) => work());
  const functions = {
    schedule: createSchedulePayoutFunction(deps),
    transfer: createTransferPayoutFunction(deps),
    topUp: createTopUpPayoutFunction(deps),
    followUp: createFollowUpPayoutFunction(deps),
    reverse: createReverseTransferFunction(deps),
    repay: createRepayProviderFunction(deps),
    reconcile: createReconcilePayoutsFunction(deps),
  };

  // Inngest's side: events sent by the app are queued as runs.
  const queue: TQueued[] = [];
  const seenEvents = new Set<string>();
  let received = 0;
  const pull = () => {
    const events = receiver.events();
    for (; received < events.length; received++) {
      const event = events[received]!;
      const id = event.id ?? randomUUID();
      // Inngest drops an event whose id it has seen (the outbox re-sends with the same id).
      if (seenEvents.has(id)) continue;
      seenEvents.add(id);
      const fn = ROUTES[event.name];
      if (!fn) continue;
      queue.push({
        fn,
        event: { id, name: event.name, data: event.data },
        runId: `run_${randomUUID()}`,
        attempt: 0,
        notBefore: clock.now().getTime(),
        done: false,
        memo: new Map(),
      });
    }
  };

  /**
   * One execution of a run, as Inngest does it: each step.run result is memoised on the run, so
   * a retry skips the steps that finished; a crash between a step's work and its memo makes
   * that step run again; a sleep ends the execution until its time; an error is retried with
   * the function's own `retries` and backoff (RetryAfterError's delay), then the function's
   * failure handler runs.
   */
  async function execute(run: TQueued, crashAfter: number | null): Promise<void> {
    const fn = functions[run.fn] as unknown as TFunctionLike;
    let stepsRan = 0;
    let sleepUntil: number | null = null;
    let crashed = false;
    const step = {
      run: async (id: string, handler: () => unknown) => {
        if (run.memo.has(id)) return run.memo.get(id);
        const result = await aroundStep(run, id, async () => handler());
        // Inngest keeps a step's result as JSON.
        const kept = result === undefined ? undefined : (JSON.parse(JSON.stringify(result)) as unknown);
        stepsRan++;
        if (crashAfter !== null && stepsRan === crashAfter) {
          crashed = true;
          throw new Error(`simulated crash after step ${id}, before Inngest kept its result`);
        }
        run.memo.set(id, kept);
        return kept;
      },
      sleepUntil: async (id: string, until: string | Date) => {
        if (run.memo.has(id)) return;
        const target = new Date(until).getTime();
        if (target > clock.now().getTime()) {
          sleepUntil = target;
          throw new SimSleep();
        }
        run.memo.set(id, null);
      },
    };
    if (process.env.SIM_TRACE) console.log(`[sim]   run ${run.fn} ${run.event.name} attempt ${run.attempt} crash ${crashAfter}`);
    let error: unknown = null;
    try {
      await fn.fn({ event: run.event, events: [run.event], step, runId: run.runId, attempt: run.attempt });
    } catch (caught) {
      error = caught;
    }
    if (process.env.SIM_TRACE) console.log(`[sim]   -> ${error ? String(error).slice(0, 200) : "ok"}`);
    pull();
    if (sleepUntil !== null) {
      run.notBefore = sleepUntil;
      return;
    }
    if (error === null) {
      run.done = true;
      return;
    }
    const retries = fn.opts.retries ?? 3;
    if (!crashed && (error instanceof NonRetriableError || run.attempt >= retries)) {
      run.done = true;
      if (fn.opts.onFailure) {
        await fn.opts
          .onFailure({
            event: { name: "inngest/function.failed", data: { event: run.event, run_id: run.runId, error: { message: String(error) } } },
            runId: `run_${randomUUID()}`,
            step,
          })
          .catch((failure: unknown) => onProblem(`the failure handler of ${run.fn} threw: ${describe(failure)}`));
        pull();
      }
      return;
    }
    // Inngest retries the run (a crash is retried like an error), after a backoff.
    run.attempt++;
    const delay = error instanceof RetryAfterError ? retryDelayMs(error.retryAfter) : Math.min(run.attempt, 5) * MINUTE;
    run.notBefore = clock.now().getTime() + delay;
    if (process.env.SIM_TRACE) console.log(`[sim]   retry in ${delay} ms`);
  }

  return { queue, pull, execute };
}

/** RetryAfterError's delay: milliseconds, a number of seconds as a string, "1m"-style, or a date. */
function retryDelayMs(retryAfter: unknown): number {
  if (typeof retryAfter === "number") return retryAfter;
  if (retryAfter instanceof Date) return Math.max(0, retryAfter.getTime() - Date.now());
  const text = String(retryAfter);
  const match = /^(\d+)(ms|s|m|h)?$/.exec(text);
  if (!match) return MINUTE;
  const n = Number(match[1]);
  const unit = match[2];
  return unit === "ms" ? n : unit === "m" ? n * MINUTE : unit === "h" ? n * HOUR : n * 1000;
}

export function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
