// npm run bench:pipeline — the payout pipeline end to end (issue 13): N bookings driven from
// booking.completed to transferred through the production code paths, concurrently: the signed
// webhook through receiveBookingWebhook (store, apply, publish), the Inngest functions' steps
// run by the simulation's stand-in for Inngest (test/sim/inngest-stand-in.ts), the clock moved
// past 48 h, the transfers against the fake Stripe (no latency) through the shared write gate.
// Prints payouts per second (wall), database round trips and transactions per payout by phase,
// where the wall time goes, the statements that make the round trips, then checks the
// simulation's invariants (test/sim/invariants.ts, I0–I7) on the benchmark's data.
//
//   npm run bench:pipeline                          2,000 bookings, 32 at a time
//   npm run bench:pipeline -- --bookings 300        a quick run
//   --warm-up N                bookings driven through the same pipeline first, not measured (default:
//                              as many as --bookings; 0: none), then ANALYZE: the measured bookings meet
//                              tables with a history and statistics, as in production, instead of
//                              empty tables whose first plans (cached, prepared) were made for no rows
//   --concurrency N            webhooks / Inngest runs in flight at once (default 32)
//   --providers N              providers the bookings are spread over (default 50)
//   --stripe-writes-per-second N   the write gate's rate (default 10000: not the limit;
//                              production's STRIPE_WRITES_PER_SECOND is at most 100)
//   --async-commit             synchronous_commit = off on the scratch database (as the simulation)
//   --top N                    statements listed (default 25)
//   --by-phase                 also every statement of each phase, in the order of their counts
//   --keep-db                  keep the scratch database (payouts_pipe_…)
//   --plans                    the prepared statements PostgreSQL planned for their values on most
//                              calls (pg_prepared_statements of every connection, at the end)
//   --port N                   the fake Stripe's port (default 3440)
//
// Run with `tsx --conditions=react-server` (the npm script does) so "server-only" modules load.
import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

import pg from "pg";

import { ensureDatabase, runMigrations } from "../lib/migrations/run-migrations.ts";
import { databaseUrl, dropDatabase, uniqueDatabaseName, withAdminClient } from "../test/support/databases.ts";
import { startFakeStripe } from "../test/support/fake-stripe.ts";
import { startInngestReceiver } from "../test/support/inngest-receiver.ts";

const OPTIONS = {
  bookings: { type: "string", default: "2000" },
  "warm-up": { type: "string" },
  concurrency: { type: "string", default: "32" },
  providers: { type: "string", default: "50" },
  "stripe-writes-per-second": { type: "string", default: "10000" },
  "async-commit": { type: "boolean", default: false },
  top: { type: "string", default: "25" },
  "by-phase": { type: "boolean", default: false },
  "keep-db": { type: "boolean", default: false },
  plans: { type: "boolean", default: false },
  port: { type: "string", default: "3440" },
  verbose: { type: "boolean", default: false },
} as const;

// ── Counting every statement sent to PostgreSQL ──
// The Prisma adapter (@prisma/adapter-pg) sends everything through pg's Client#query (its pool's
// query too), BEGIN and COMMIT included. Each statement is charged to the phase of the async
// context that sent it (AsyncLocalStorage): the webhook, or the Inngest step, and within the
// transfer step the part before Stripe's answer, the write gate, the part after.

type TPhaseStore = { phase: string; part: string | null; since: number };
type TCount = { statements: number; transactions: number; ms: number; poolWaitMs: number };
type TStatement = { text: string; count: number; ms: number; phases: Map<string, number> };

const context = new AsyncLocalStorage<TPhaseStore>();
const byPhase = new Map<string, TCount>();
const byStatement = new Map<string, TStatement>();
/** Busy time (the sum over concurrent runs) and executions per phase. */
const busy = new Map<string, { ms: number; runs: number }>();
let counting = false;

const keyOf = (store: TPhaseStore | undefined) =>
  store ? (store.part ? `${store.phase} / ${store.part}` : store.phase) : "(outside any phase)";

/** Same statement, any number of parameters in a list: `IN ($1,$2,$3)` → `IN ($n…)`. */
function normalise(sql: string): string {
  return sql
    .replace(/\s+/g, " ")
    .replace(/\$\d+(\s*,\s*\$\d+)+/g, "$n…")
    .replace(/\$\d+/g, "$n")
    .trim();
}

/** normalise() once per distinct text: the counting's own CPU stays out of what is measured. */
const normalised = new Map<string, string>();
function normaliseOnce(sql: string): string {
  let text = normalised.get(sql);
  if (text === undefined) {
    text = normalise(sql);
    normalised.set(sql, text);
  }
  return text;
}

function record(sql: string, ms: number, key: string): void {
  const count = byPhase.get(key) ?? { statements: 0, transactions: 0, ms: 0, poolWaitMs: 0 };
  count.statements++;
  count.ms += ms;
  const text = normaliseOnce(sql);
  if (/^BEGIN\b/i.test(text)) count.transactions++;
  byPhase.set(key, count);
  const s = byStatement.get(text) ?? { text, count: 0, ms: 0, phases: new Map() };
  s.count++;
  s.ms += ms;
  s.phases.set(key, (s.phases.get(key) ?? 0) + 1);
  byStatement.set(text, s);
}

type TQueryFn = (this: pg.Client, ...args: unknown[]) => unknown;
const originalQuery = pg.Client.prototype.query as unknown as TQueryFn;
(pg.Client.prototype as unknown as { query: TQueryFn }).query = function (this: pg.Client, ...args: unknown[]) {
  if (!counting) return originalQuery.apply(this, args);
  const first = args[0] as string | { text?: string } | undefined;
  const sql = typeof first === "string" ? first : (first?.text ?? "");
  const key = keyOf(context.getStore());
  const started = performance.now();
  const last = args.length - 1;
  const callback = args[last];
  if (typeof callback === "function") {
    // The pool's own query() passes a callback.
    args[last] = (...result: unknown[]) => {
      record(sql, performance.now() - started, key);
      return (callback as (...r: unknown[]) => unknown)(...result);
    };
    return originalQuery.apply(this, args);
  }
  const answer = originalQuery.apply(this, args);
  if (answer instanceof Promise) {
    return answer.finally(() => record(sql, performance.now() - started, key));
  }
  record(sql, 0, key);
  return answer;
};

// pg-pool calls a waiting connect's callback from the client released to it, in the async context
// of whoever released it: bind the callback to the caller's (the pool's query() uses one).
type TConnectFn = (this: pg.Pool, ...args: unknown[]) => unknown;
const originalConnect = pg.Pool.prototype.connect as unknown as TConnectFn;
(pg.Pool.prototype as unknown as { connect: TConnectFn }).connect = function (this: pg.Pool, ...args: unknown[]) {
  const key = keyOf(context.getStore());
  const asked = performance.now();
  const waited = () => {
    if (!counting) return;
    const count = byPhase.get(key) ?? { statements: 0, transactions: 0, ms: 0, poolWaitMs: 0 };
    count.poolWaitMs += performance.now() - asked;
    byPhase.set(key, count);
  };
  const callback = args[0];
  if (typeof callback === "function") {
    const bound = AsyncResource.bind(callback as (...a: unknown[]) => unknown);
    args[0] = (...result: unknown[]) => {
      waited();
      return bound(...result);
    };
    return originalConnect.apply(this, args);
  }
  const answer = originalConnect.apply(this, args);
  return answer instanceof Promise ? answer.finally(waited) : answer;
};

/** Wall time of the current part of a phase, charged when the part changes or the phase ends. */
const partTime = new Map<string, number>();
function switchPart(store: TPhaseStore | undefined, part: string | null): void {
  if (!store) return;
  const now = performance.now();
  const key = keyOf(store);
  partTime.set(key, (partTime.get(key) ?? 0) + (now - store.since));
  store.part = part;
  store.since = now;
}

async function inPhase<T>(phase: string, work: () => Promise<T>): Promise<T> {
  const store: TPhaseStore = { phase, part: null, since: performance.now() };
  const started = store.since;
  try {
    return await context.run(store, work);
  } finally {
    switchPart(store, null);
    const b = busy.get(phase) ?? { ms: 0, runs: 0 };
    b.ms += performance.now() - started;
    b.runs++;
    busy.set(phase, b);
  }
}

// ── Machine load: CPU time of this process and of the whole machine ──
function machineCpu(): { busy: number; total: number } {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  const total = fields.reduce((s, x) => s + x, 0);
  return { busy: total - idle, total };
}

/** Runs `work` on every item, `concurrency` at a time. */
async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: OPTIONS });
  if (process.env.NODE_ENV === "production") {
    console.error("Refusing to run the benchmark with NODE_ENV=production.");
    return 1;
  }
  const n = Number(values.bookings);
  const warmUp = values["warm-up"] === undefined ? n : Number(values["warm-up"]);
  const concurrency = Number(values.concurrency);
  const providerCount = Math.max(1, Math.min(Number(values.providers), n));
  const writesPerSecond = Number(values["stripe-writes-per-second"]);
  const top = Number(values.top);
  for (const [name, value] of [
    ["--bookings", n],
    ["--concurrency", concurrency],
    ["--providers", providerCount],
    ["--stripe-writes-per-second", writesPerSecond],
  ] as const) {
    if (!Number.isFinite(value) || value < 1) {
      console.error(`${name} must be a number, 1 or more.`);
      return 1;
    }
  }
  if (!Number.isInteger(warmUp) || warmUp < 0) {
    console.error("--warm-up must be a whole number, 0 or more.");
    return 1;
  }

  const name = uniqueDatabaseName("payouts_pipe");
  const url = databaseUrl(name);
  await ensureDatabase(url);
  await runMigrations(url, path.resolve("prisma/migrations"));
  if (values["async-commit"]) await withAdminClient((c) => c.query(`ALTER DATABASE "${name}" SET synchronous_commit = off`));
  const receiver = await startInngestReceiver();
  let now = () => new Date();
  const fake = await startFakeStripe({ port: Number(values.port), now: () => now() });
  Object.assign(process.env, {
    NODE_ENV: "test",
    DATABASE_URL: url,
    INNGEST_DEV: "1",
    INNGEST_BASE_URL: receiver.url,
    ...fake.env(),
    STRIPE_MAX_NETWORK_RETRIES: "0",
    STRIPE_TIMEOUT_MS: "2000",
  });

  const { startWorld } = await import("../test/sim/play.ts");
  const { createInngestStandIn, describe } = await import("../test/sim/inngest-stand-in.ts");
  const { checkInvariants } = await import("../test/sim/invariants.ts");
  const { HOUR, MINUTE } = await import("../test/sim/model.ts");
  const { bookingCompletedEvent } = await import("../test/support/booking-webhook.ts");
  const { db } = await import("../lib/db.ts");
  const { getEnv } = await import("../lib/env.ts");
  const { receiveBookingWebhook } = await import("../lib/ingest/receive-booking-webhook.ts");
  const { receiveStripeWebhook } = await import("../lib/ingest/receive-stripe-webhook.ts");
  const { stripeEvent } = await import("../test/support/stripe-fixtures.ts");
  const { default: Stripe } = await import("stripe");
  const { stripeWriteGate } = await import("../lib/stripe/write-gate.ts");
  const { signBookingWebhook } = await import("../lib/webhooks/booking-signature.ts");
  type THistory = import("../test/sim/model.ts").THistory;
  type TPlayLog = import("../test/sim/play.ts").TPlayLog;
  type TQueued = import("../test/sim/inngest-stand-in.ts").TQueued;

  const quiet = { log: console.log, warn: console.warn, error: console.error };
  const engineLogs: string[] = [];
  let exitCode = 0;
  try {
    const world = await startWorld(fake, receiver);
    now = () => world.clock.now();
    const t0 = new Date(Math.floor(Date.now() / MINUTE) * MINUTE);
    world.clock.set(t0);
    fake.setBalance("usd", 1_000_000_000_000);

    // The write gate production uses, at a rate that does not limit the benchmark (the fake Stripe has no rate limit).
    const gate = stripeWriteGate(db, { perSecond: writesPerSecond, baseBackoffMs: 1 });
    world.deps.stripeWrites = {
      ...gate,
      acquire: async () => {
        const store = context.getStore();
        const part = store?.part ?? null;
        switchPart(store, "write gate");
        try {
          await gate.acquire();
        } finally {
          switchPart(store, part);
        }
      },
    };
    // The simulation's client times out after 400 ms (its timeout faults cost real time); a loaded
    // event loop answers slower than that. Production's timeout here.
    const stripe = fake.stripe({ maxNetworkRetries: 0, timeout: 10_000 });
    world.deps.stripe = () => stripe;
    world.webhookDeps.stripe = () => stripe;
    // Within the transfer step: before Stripe's transfer, Stripe's answer, after it (recording the outcome).
    const transfers = stripe.transfers as unknown as { create: (...args: unknown[]) => Promise<unknown> };
    const createTransfer = transfers.create.bind(transfers);
    transfers.create = async (...args: unknown[]) => {
      const store = context.getStore();
      switchPart(store, "Stripe POST /v1/transfers");
      try {
        return await createTransfer(...args);
      } finally {
        switchPart(store, "after Stripe");
      }
    };

    const problems: string[] = [];
    const stepErrors = new Map<string, number>();
    const standIn = createInngestStandIn({
      receiver,
      clock: world.clock,
      deps: world.deps,
      onProblem: (what) => problems.push(what),
      aroundStep: (run, stepId, work) =>
        inPhase(`${run.fn}:${stepId}`, async () => {
          if (run.fn === "transfer" && stepId === "transfer") switchPart(context.getStore(), "before Stripe");
          try {
            return await work();
          } catch (error) {
            // Inngest retries the run; the benchmark says how often and why.
            // The first line and the last (Prisma's say where, then why), ids left out so that they group.
            const lines = describe(error)
              .split("\n")
              .map((line) => line.trim())
              .filter(Boolean);
            const text = [...new Set([lines[0], lines.at(-1)])].join(" … ");
            const what = `${run.fn}:${stepId} threw ${text
              .replace(/\b(ch|acct|tr|py|pi|txn|evt)_[A-Za-z0-9]+/g, "$1_…")
              .replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "…")
              .slice(0, 300)}`;
            stepErrors.set(what, (stepErrors.get(what) ?? 0) + 1);
            throw error;
          }
        }),
    });

    // The world before anything happens (not measured): the providers' accounts, one charge per booking.
    const history: THistory = { seed: 0, mode: "chaos", providers: [], bookings: [], ops: [] };
    const log: TPlayLog = {
      problems: [],
      t0,
      accounts: new Map(),
      charges: new Map(),
      intents: new Map(),
      bookingIds: new Map(),
      stripeObjects: new Map(),
      ran: 0,
    };
    const tag = Date.now().toString(36);
    for (let p = 0; p < providerCount; p++) {
      const key = `p${p}`;
      history.providers.push({ key, readyAtStart: true });
      log.accounts.set(key, fake.addAccount({ payoutsEnabled: true, transfersCapability: "active" }));
    }
    // The warm-up's bookings complete at t0, the measured ones once the warm-up's transfers are done (t1).
    const t1 = new Date(t0.getTime() + 48 * HOUR + 2 * MINUTE);
    const warmUpBodies: string[] = [];
    const bodies: string[] = [];
    for (let b = 0; b < warmUp + n; b++) {
      const measured = b >= warmUp;
      const key = `b${b}`;
      const provider = `p${b % providerCount}`;
      const providerShare = 5_000 + ((b * 37) % 20_000);
      const fee = 1_000;
      const bookingId = `bk_${tag}_${key}`;
      const charge = fake.createCharge({ amount: providerShare + fee, currency: "usd", metadata: { bookingId } });
      history.bookings.push({ key, provider, providerShare, fee, payment: "charge", fundsAfterMs: 0, completedAtMs: 0, tips: [] });
      history.ops.push({ op: "deliver_platform", fact: { kind: "completed", booking: key, atMs: 0 }, id: `evt_${key}` });
      log.bookingIds.set(key, bookingId);
      log.charges.set(key, charge.id);
      log.intents.set(key, charge.payment_intent as string);
      const event = bookingCompletedEvent({
        bookingId,
        providerId: `prov_${tag}_${provider}`,
        stripeAccountId: log.accounts.get(provider)!,
        providerShare,
        chargeId: charge.id,
        completedAt: measured ? t1 : t0,
      });
      (measured ? bodies : warmUpBodies).push(JSON.stringify({ ...event, id: `evt_${tag}_${key}` }));
    }
    log.ran = warmUp + n;
    const secret = getEnv().BOOKING_WEBHOOK_SECRETS[0]!;
    // Stripe has told us the providers' accounts can receive payouts (account.updated, before their
    // bookings: onboarding comes first), through the Stripe webhook.
    for (const account of log.accounts.values()) {
      const event = fake.addEvent(
        stripeEvent({
          type: "account.updated",
          object: await stripe.accounts.retrieve(account),
          account,
          created: Math.floor(t0.getTime() / 1000) - 3600,
        }),
      );
      const payload = JSON.stringify(event);
      const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: getEnv().STRIPE_WEBHOOK_SECRET[0]! });
      const { apply } = await receiveStripeWebhook(
        new Request("http://localhost/api/webhooks/stripe", {
          method: "POST",
          headers: { "content-type": "application/json", "stripe-signature": header },
          body: payload,
        }),
        { deps: world.webhookDeps },
      );
      await apply?.(); // what the route runs with after()
    }
    const accountsKept = await db.stripeAccount.count({ where: { payoutsEnabled: true, transfersActive: true } });
    if (accountsKept !== providerCount) throw new Error(`account.updated: ${accountsKept} of ${providerCount} accounts recorded as ready`);

    if (!values.verbose) {
      const keep = (...args: unknown[]) => engineLogs.push(args.map((a) => (a instanceof Error ? describe(a) : String(a))).join(" "));
      console.log = console.warn = console.error = keep;
    }

    // ── The stages, one after the other, each `concurrency` at a time ──
    type TStage = { name: string; ms: number; cpuMs: number; pgCpuMs: number; machineBusy: number; runs: number };
    /** CPU time (ms) of the PostgreSQL backends serving the scratch database, by pid (from /proc). */
    const backendCpu = async (): Promise<Map<number, number>> => {
      counting = false;
      try {
        const { rows } = await withAdminClient((c) =>
          c.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = $1", [name]),
        );
        const cpu = new Map<number, number>();
        for (const { pid } of rows) {
          try {
            const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
            cpu.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1000) / 100);
          } catch {
            // Ended meanwhile.
          }
        }
        return cpu;
      } finally {
        counting = true;
      }
    };
    const stages: TStage[] = [];
    let recording = true;
    const stage = async (stageName: string, work: () => Promise<number>) => {
      if (!recording) {
        await work();
        return;
      }
      const backendsBefore = await backendCpu();
      const cpu = process.cpuUsage();
      const machine = machineCpu();
      const started = performance.now();
      const runs = await work();
      const ms = performance.now() - started;
      const used = process.cpuUsage(cpu);
      const after = machineCpu();
      const backendsAfter = await backendCpu();
      let pgCpuMs = 0;
      for (const [pid, total] of backendsAfter) pgCpuMs += total - (backendsBefore.get(pid) ?? 0);
      stages.push({
        name: stageName,
        ms,
        cpuMs: (used.user + used.system) / 1000,
        pgCpuMs,
        machineBusy: (after.busy - machine.busy) / Math.max(1, after.total - machine.total),
        runs,
      });
    };

    /** Executes the runs that are due (and those that become due while it runs), `concurrency` at a time. */
    const drain = async (which: (run: TQueued) => boolean): Promise<number> => {
      const taken = new Set<TQueued>();
      let executed = 0;
      let cursor = 0;
      let inFlight = 0;
      // Workers with nothing to take wait for a run in flight to end (it may have queued more).
      let waiting: (() => void)[] = [];
      const wakeAll = () => {
        const woken = waiting;
        waiting = [];
        for (const resolve of woken) resolve();
      };
      const take = (): TQueued | null => {
        standIn.pull();
        const at = world.clock.now().getTime();
        for (let i = cursor; i < standIn.queue.length; i++) {
          const run = standIn.queue[i]!;
          if (run.done || taken.has(run) || run.notBefore > at || !which(run)) {
            if (i === cursor && (run.done || taken.has(run))) cursor++;
            continue;
          }
          taken.add(run);
          return run;
        }
        return null;
      };
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          for (;;) {
            const run = take();
            if (!run) {
              if (inFlight === 0) break;
              await new Promise<void>((resolve) => waiting.push(resolve));
              continue;
            }
            inFlight++;
            await standIn.execute(run, null);
            inFlight--;
            executed++;
            wakeAll();
          }
          wakeAll();
        }),
      );
      return executed;
    };

    /** The pipeline for `which` bookings (their webhooks, completed at `completedAt`): each stage waits for the previous one. */
    const pipeline = async (which: readonly string[], completedAt: Date) => {
      await stage("receive + apply (webhook)", () => receive(which));
      await stage("schedule (schedule-payout until its sleep)", () => drain((run) => run.fn === "schedule"));
      world.clock.set(new Date(completedAt.getTime() + 48 * HOUR + MINUTE));
      await stage("request transfer (schedule-payout after 48 h)", () => drain((run) => run.fn === "schedule"));
      await stage("transfer + complete (transfer-payout)", () => drain((run) => run.fn === "transfer"));
    };
    /** Runs left (a retry after its backoff, a follow-up) until none is: not part of a measured pipeline. */
    const drainTheRest = async () => {
      let ran = 0;
      for (let round = 0; round < 10; round++) {
        ran += await drain(() => true);
        const waiting = standIn.queue.filter((q) => !q.done);
        if (waiting.length === 0) break;
        world.clock.set(new Date(Math.max(world.clock.now().getTime(), Math.min(...waiting.map((q) => q.notBefore)))));
      }
      return ran;
    };

    // The warm-up (not measured): a history in every table, then statistics for the planner, as
    // autovacuum keeps them in production (ANALYZE also invalidates the plans cached meanwhile).
    if (warmUp > 0) {
      recording = false;
      await pipeline(warmUpBodies, t0);
      await drainTheRest();
      await db.$executeRawUnsafe("ANALYZE");
      // The table statistics of the scratch database (pg_stat_user_tables: scans, rows read) count
      // the measured bookings only, for --keep-db.
      await db.$executeRawUnsafe("SELECT pg_stat_reset()");
      recording = true;
    }
    world.clock.set(t1);
    const transferredBefore = await db.payout.count({ where: { status: "transferred" } });
    const leftoverBefore = standIn.queue.length;

    const stripeRequestsBefore = fake.requests().length;
    const eventsBefore = receiver.events().length;
    counting = true;
    const started = performance.now();
    const loadBefore = readFileSync("/proc/loadavg", "utf8").trim();

    async function receive(which: readonly string[]): Promise<number> {
      await pool(which, concurrency, async (raw) => {
        const signature = signBookingWebhook(raw, secret, Math.floor(world.clock.now().getTime() / 1000));
        const request = new Request("http://localhost/api/webhooks/booking", {
          method: "POST",
          headers: { "content-type": "application/json", "payouts-signature": signature },
          body: raw,
        });
        try {
          // The one call site of receiveBookingWebhook: it answers once stored; `apply` is what the
          // route runs with after(), measured as its own phase.
          const { apply } = await inPhase("webhook", () => receiveBookingWebhook(request, { deps: world.webhookDeps, clock: world.clock }));
          if (apply) await inPhase("webhook apply (after the answer)", apply);
        } catch (error) {
          log.problems.push({ op: 0, what: `POST /api/webhooks/booking failed: ${describe(error)}` });
        }
      });
      return which.length;
    }
    await pipeline(bodies, t1);
    const seconds = (performance.now() - started) / 1000;
    const loadAfter = readFileSync("/proc/loadavg", "utf8").trim();
    // Anything left (a retry after its backoff, a follow-up): not part of the measured pipeline.
    counting = false;
    const leftover = standIn.queue
      .slice(leftoverBefore)
      .filter((q) => !q.done || q.attempt > 0)
      .map((q) => `${q.fn} ${q.event.name} attempt ${q.attempt}`);
    const rest = await drainTheRest();
    Object.assign(console, quiet);

    // ── The figures ──
    const statuses = await db.payout.groupBy({ by: ["status"], _count: { _all: true } });
    const transferred = (statuses.find((s) => s.status === "transferred")?._count._all ?? 0) - transferredBefore;
    const fmt = (x: number, digits = 1) => x.toFixed(digits);
    const pad = (s: string, w: number) => s.padEnd(w);
    const lpad = (s: string, w: number) => s.padStart(w);
    console.log(
      `\n${n} bookings (after a warm-up of ${warmUp}, then ANALYZE), concurrency ${concurrency}, ${providerCount} providers, write gate ${writesPerSecond}/s, ` +
        `synchronous_commit ${values["async-commit"] ? "off" : "on (server default)"}, Prisma pool 10 (lib/db.ts)`,
    );
    console.log(`payouts, the warm-up's with the measured: ${statuses.map((s) => `${s._count._all} ${s.status}`).join(", ")}`);
    console.log(`\n${fmt(n / seconds)} payouts/s end to end (${n} in ${fmt(seconds, 2)} s wall; ${transferred} transferred)`);
    console.log(`/proc/loadavg before: ${loadBefore}; after: ${loadAfter}`);

    console.log(`\nwall time by stage (each stage waits for the previous one):`);
    console.log(
      `  ${pad("stage", 48)} ${lpad("wall s", 7)} ${lpad("share", 6)} ${lpad("per s", 7)} ${lpad("node CPU", 9)} ${lpad("PG CPU", 7)} ${lpad("machine", 8)}`,
    );
    for (const s of stages) {
      console.log(
        `  ${pad(s.name, 48)} ${lpad(fmt(s.ms / 1000, 2), 7)} ${lpad(`${fmt((100 * s.ms) / (seconds * 1000), 0)}%`, 6)} ` +
          `${lpad(fmt(s.runs / (s.ms / 1000), 0), 7)} ${lpad(`${fmt((100 * s.cpuMs) / s.ms, 0)}%`, 9)} ${lpad(`${fmt((100 * s.pgCpuMs) / s.ms, 0)}%`, 7)} ${lpad(`${fmt(100 * s.machineBusy, 0)}%`, 8)}`,
      );
    }
    const cpuMs = stages.reduce((t, x) => t + x.cpuMs, 0);
    const pgCpuMs = stages.reduce((t, x) => t + x.pgCpuMs, 0);
    console.log(
      `  (node CPU: this process's CPU time / wall, of one core; PG CPU: the scratch database's backends, of one core; ` +
        `machine: both cores busy, any other work included)`,
    );
    console.log(
      `  CPU per payout: ${fmt(cpuMs / n, 2)} ms in this process (the engine, Prisma, pg, and the in-process fake Stripe and Inngest ` +
        `receiver) + ${fmt(pgCpuMs / n, 2)} ms in PostgreSQL = ${fmt((cpuMs + pgCpuMs) / n, 2)} ms: ` +
        `at most ≈ ${fmt((2 * 1000 * n) / (cpuMs + pgCpuMs), 0)} payouts/s on 2 idle cores at this cost`,
    );

    const totals = [...byPhase.values()].reduce(
      (t, c) => ({ statements: t.statements + c.statements, transactions: t.transactions + c.transactions }),
      {
        statements: 0,
        transactions: 0,
      },
    );
    console.log(
      `\ndatabase round trips per payout: ${fmt(totals.statements / n)} statements, ${fmt(totals.transactions / n, 2)} transactions ` +
        `(${totals.statements} and ${totals.transactions} in all)`,
    );
    console.log(
      `  ${pad("phase / part", 62)} ${lpad("stmts", 7)} ${lpad("tx", 6)} ${lpad("busy ms", 8)} ${lpad("in SQL", 8)} ${lpad("pool wait", 9)}`,
    );
    const phaseKeys = [...new Set([...byPhase.keys(), ...partTime.keys()])].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
    for (const key of phaseKeys) {
      const c = byPhase.get(key) ?? { statements: 0, transactions: 0, ms: 0, poolWaitMs: 0 };
      console.log(
        `  ${pad(key, 62)} ${lpad(fmt(c.statements / n, 2), 7)} ${lpad(fmt(c.transactions / n, 2), 6)} ` +
          `${lpad(fmt((partTime.get(key) ?? 0) / n, 1), 8)} ${lpad(fmt(c.ms / n, 1), 8)} ${lpad(fmt(c.poolWaitMs / n, 1), 9)}`,
      );
    }
    console.log(
      `  (per payout; busy: wall time of the phase in each run, summed over the runs; in SQL: from sending each statement to its answer; pool wait: for one of the Prisma pool's 10 connections)`,
    );

    console.log(`\ntop ${top} statements per payout (normalised SQL; ms: time from sending to the answer, pool wait excluded):`);
    const statements = [...byStatement.values()].sort((a, b) => b.count - a.count);
    console.log(`  ${lpad("/payout", 7)} ${lpad("ms avg", 7)}  statement  [phases]`);
    for (const s of statements.slice(0, top)) {
      const phases = [...s.phases].sort((a, b) => b[1] - a[1]).map(([k, c]) => `${k} ${fmt(c / n, 2)}`);
      console.log(`  ${lpad(fmt(s.count / n, 2), 7)} ${lpad(fmt(s.ms / s.count, 2), 7)}  ${s.text.slice(0, 220)}  [${phases.join("; ")}]`);
    }

    if (values["by-phase"]) {
      for (const key of phaseKeys) {
        const mine = statements
          .map((st) => ({ text: st.text, count: st.phases.get(key) ?? 0 }))
          .filter((st) => st.count / n >= 0.05)
          .sort((a, b) => b.count - a.count);
        if (mine.length === 0) continue;
        console.log(`\n${key}: ${fmt((byPhase.get(key)?.statements ?? 0) / n, 2)} statements per payout`);
        for (const st of mine) console.log(`  ${lpad(fmt(st.count / n, 2), 6)}  ${st.text.slice(0, 160)}`);
      }
    }

    const requests = fake.requests().slice(stripeRequestsBefore);
    const sent = receiver.events().slice(eventsBefore);
    const sentByName = new Map<string, number>();
    for (const e of sent) sentByName.set(e.name, (sentByName.get(e.name) ?? 0) + 1);
    const stripeCalls = new Map<string, number>();
    for (const r of requests) {
      const route = `${r.method} ${r.path.replace(/\/(acct|ch|py|tr|pi|txn)_[A-Za-z0-9]+/g, "/$1_…")}`;
      stripeCalls.set(route, (stripeCalls.get(route) ?? 0) + 1);
    }
    console.log(
      `\nStripe requests per payout: ${[...stripeCalls].map(([route, count]) => `${route} ${fmt(count / n, 2)}`).join(", ")}; ` +
        `Inngest: ${fmt(sent.length / n, 2)} events sent per payout, ${fmt(new Set(sent.map((e) => e.id)).size / n, 2)} distinct ` +
        `(${[...sentByName].map(([eventName, count]) => `${eventName} ${fmt(count / n, 2)}`).join(", ")})`,
    );
    for (const [what, count] of stepErrors) console.log(`step error (the run is retried): ${count} × ${what}`);
    if (rest > 0)
      console.log(
        `after the measured stages: ${rest} more runs until nothing was left (${leftover.slice(0, 5).join("; ")}${leftover.length > 5 ? "; …" : ""})`,
      );
    if (engineLogs.length > 0)
      console.log(`the engine logged ${engineLogs.length} lines (--verbose shows them); the first: ${engineLogs[0]!.slice(0, 300)}`);

    // ── The simulation's invariants on the benchmark's data ──
    for (const what of problems) log.problems.push({ op: 0, what });
    const checkStarted = performance.now();
    const { violations } = await checkInvariants(world, history, log);
    const byInvariant = new Map<string, number>();
    for (const v of violations) byInvariant.set(v.invariant, (byInvariant.get(v.invariant) ?? 0) + 1);
    console.log(
      `\ninvariants I0–I7 on the benchmark's data (${fmt((performance.now() - checkStarted) / 1000, 1)} s): ` +
        (violations.length === 0
          ? "all hold"
          : `${violations.length} violations (${[...byInvariant].map(([k, c]) => `${k} ${c}`).join(", ")}); the first: ${violations
              .slice(0, 5)
              .map((v) => `${v.invariant} ${v.message}`)
              .join(" | ")}`),
    );
    if (violations.length > 0 || transferred !== n) exitCode = 1;
  } finally {
    Object.assign(console, quiet);
    counting = false;
    if (values.plans) await printPlans(db);
    await db.$disconnect();
    await fake.stop();
    await receiver.stop();
    if (values["keep-db"]) console.log(`kept the database ${name} (${url})`);
    else await dropDatabase(name);
  }
  return exitCode;
}

/**
 * Per prepared statement, summed over every connection of the client's pools: how often PostgreSQL
 * planned it for the call's values (a custom plan) and how often it ran the one plan made without
 * them (a generic plan). The first 5 calls on a connection are always custom.
 */
async function printPlans(db: import("../generated/prisma/client").PrismaClient): Promise<void> {
  const { directPools } = await import("../lib/direct-sql.ts");
  const byText = new Map<string, { custom: number; generic: number }>();
  for (const pool of directPools(db)) {
    // Every connection at once (nothing else runs now), so that each is asked.
    const clients = await Promise.all(Array.from({ length: pool.totalCount }, () => pool.connect()));
    try {
      for (const client of clients) {
        const { rows } = await client.query<{ statement: string; custom: number; generic: number }>(
          "SELECT statement, custom_plans::int AS custom, generic_plans::int AS generic FROM pg_prepared_statements",
        );
        for (const row of rows) {
          const seen = byText.get(row.statement) ?? { custom: 0, generic: 0 };
          byText.set(row.statement, { custom: seen.custom + row.custom, generic: seen.generic + row.generic });
        }
      }
    } finally {
      for (const client of clients) client.release();
    }
  }
  const planned = [...byText].filter(([, c]) => c.custom > c.generic).sort((a, b) => b[1].custom - a[1].custom);
  console.log(`\nprepared statements planned for their values on most calls: ${planned.length} of ${byText.size}`);
  console.log(`  ${"custom".padStart(7)} ${"generic".padStart(7)}  statement`);
  for (const [text, c] of planned)
    console.log(`  ${String(c.custom).padStart(7)} ${String(c.generic).padStart(7)}  ${text.replace(/\s+/g, " ").trim().slice(0, 200)}`);
}

/** Phases in the pipeline's order. */
function order(key: string): number {
  const ranks = [
    "webhook",
    "webhook apply",
    "schedule:schedule",
    "schedule:request",
    "schedule:publish",
    "transfer:transfer",
    "transfer:publish",
  ];
  const rank = ranks.findIndex((r) => key.startsWith(r));
  const part = ["before Stripe", "write gate", "Stripe POST", "after Stripe"].findIndex((p) => key.includes(p));
  return (rank < 0 ? ranks.length : rank) * 10 + (part < 0 ? 0 : part);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
