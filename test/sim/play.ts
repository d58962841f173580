// Plays a history through the entry points production uses: the booking and Stripe webhook
// receivers (signed requests), the Inngest functions (run by a small stand-in for Inngest's
// scheduler: queued events, sleeps, retries with the functions' own limits, the failure
// handler, crashes between steps and re-runs), the admin services and the reconciliation
// sweep. The fake Stripe plays Stripe, with faults. Nothing here writes a row itself.
import { randomUUID } from "node:crypto";

import Stripe from "stripe";

import type { TEngineDeps } from "@/inngest/deps";
import { approveForceRelease } from "@/lib/approvals/approve-force-release";
import { requestForceRelease } from "@/lib/approvals/request-force-release";
import { adminActorOf } from "@/lib/audit/admin-actor";
import type { TActor } from "@/lib/audit/record-audit";
import type { TServiceContext } from "@/lib/context";
import { db } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { receiveBookingWebhook } from "@/lib/ingest/receive-booking-webhook";
import { receiveStripeWebhook } from "@/lib/ingest/receive-stripe-webhook";
import { publishOutbox } from "@/lib/outbox/publish-outbox";
import { cancelPayout } from "@/lib/payouts/cancel-payout";
import { holdPayout } from "@/lib/payouts/hold-payout";
import { releasePayout } from "@/lib/payouts/release-payout";
import { retryPayout } from "@/lib/payouts/retry-payout";
import { createRandom } from "@/lib/seed/prng";
import { stripeWriteGate } from "@/lib/stripe/write-gate";
import { upsertAdminUser } from "@/lib/users/upsert-admin-user";
import { signBookingWebhook } from "@/lib/webhooks/booking-signature";
import type { TWebhookDeps } from "@/lib/webhooks/types";

import { createInngestStandIn, describe, type TQueued } from "./inngest-stand-in";
import { HOUR, MINUTE, type THistory, type TOp, type TPlatformFact, type TSimBooking, type TStripeFact } from "./model";
import type { TFakeStripe } from "../support/fake-stripe";
import type { TInngestReceiver } from "../support/inngest-receiver";
import { stripeEvent } from "../support/stripe-fixtures";

export type TSimClock = { now(): Date; set(at: Date): void };

export type TSimWorld = {
  fake: TFakeStripe;
  receiver: TInngestReceiver;
  clock: TSimClock;
  stripe: Stripe;
  deps: TEngineDeps & { clock: TSimClock };
  webhookDeps: TWebhookDeps;
  admins: [TActor, TActor];
};

/** What went wrong while playing that no history may cause: an entry point answered 5xx or threw something unexpected. */
export type TPlayProblem = { op: number; what: string };

export type TPlayLog = {
  problems: TPlayProblem[];
  /** The history's start (T0): booking times are offsets from it. */
  t0: Date;
  /** Logical names → Stripe ids. */
  accounts: Map<string, string>;
  charges: Map<string, string>;
  intents: Map<string, string>;
  /** Booking key → the platform's booking id. */
  bookingIds: Map<string, string>;
  /** Refunds and disputes created at the fake Stripe, by fact key. */
  stripeObjects: Map<string, { kind: "refund" | "dispute"; id: string; charge: string }>;
  /** How many operations actually ran (a shrunk history may skip some whose fact is gone). */
  ran: number;
};

const SECRET = () => getEnv().BOOKING_WEBHOOK_SECRETS[0]!;

/** Starts the fake Stripe's clients and the admins once; histories then share the world, reset in between. */
export async function startWorld(fake: TFakeStripe, receiver: TInngestReceiver): Promise<TSimWorld> {
  let current = Date.now();
  const clock: TSimClock = { now: () => new Date(current), set: (at) => (current = at.getTime()) };
  // A short timeout: a "timeout" fault costs real time.
  const stripe = fake.stripe({ maxNetworkRetries: 0, timeout: 400 });
  const stripeWrites = stripeWriteGate(db, { perSecond: 100, baseBackoffMs: 1 });
  const deps = { db, stripe: () => stripe, clock, stripeWrites };
  const system: TActor = { type: "system", id: "simulation", label: "Simulation" };
  const admins = [] as unknown as [TActor, TActor];
  for (const [i, name] of ["Ada Admin", "Grace Admin"].entries()) {
    const email = `sim-admin-${i}@payouts.test`;
    const user = await upsertAdminUser(db, { email, name, role: "admin", password: "simulation-password" }, system);
    admins.push(adminActorOf({ id: user.id, name, email }));
  }
  return { fake, receiver, clock, stripe, deps, webhookDeps: { db, stripe: () => stripe, clock }, admins };
}

let tables: string[] | null = null;

/**
 * Empties every table but the admins, and the fake Stripe. DELETE with triggers and foreign keys
 * off for the transaction (session_replication_role; the test user is a superuser): on tables
 * this small it is several times faster than TRUNCATE, which makes new files for every table.
 * With the triggers off, deleting the payouts appends no negative deltas to the overview's kept
 * totals: PayoutTotalDelta is emptied as one of the tables (overview-totals.test.ts checks it).
 */
export async function resetWorld(world: TSimWorld): Promise<void> {
  tables ??= (
    await db.$queryRaw<{ tablename: string }[]>`
      SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('AdminUser', '_migrations', '_prisma_migrations')`
  ).map((t) => t.tablename);
  await db.$transaction([
    db.$executeRawUnsafe("SET LOCAL session_replication_role = replica"),
    ...tables.map((table) => db.$executeRawUnsafe(`DELETE FROM "${table}"`)),
  ]);
  world.fake.reset();
  world.receiver.clear();
}

export async function playHistory(world: TSimWorld, history: THistory): Promise<TPlayLog> {
  const { fake, clock } = world;
  const playStarted = performance.now();
  await resetWorld(world);
  if (process.env.SIM_TIMING) process.stderr.write(`[sim] reset took ${(performance.now() - playStarted).toFixed(0)} ms\n`);
  const t0 = new Date(Math.floor(Date.now() / MINUTE) * MINUTE);
  clock.set(t0);
  fake.setBalance("usd", 1_000_000_000);
  const at = (ms: number) => new Date(t0.getTime() + ms);
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
  const tag = `s${history.seed}_${randomUUID().slice(0, 6)}`;
  // The world Stripe holds before anything happens: the providers' accounts, the charges.
  for (const p of history.providers) {
    log.accounts.set(
      p.key,
      fake.addAccount({ payoutsEnabled: p.readyAtStart, transfersCapability: p.readyAtStart ? "active" : "inactive" }),
    );
  }
  for (const b of history.bookings) {
    log.bookingIds.set(b.key, `bk_${tag}_${b.key}`);
    const availableOn = at(b.completedAtMs + b.fundsAfterMs);
    if (b.payment !== "none") {
      const charge = fake.createCharge({
        amount: b.providerShare + b.fee,
        currency: "usd",
        metadata: { bookingId: log.bookingIds.get(b.key)! },
        availableOn,
      });
      log.charges.set(b.key, charge.id);
      log.intents.set(b.key, charge.payment_intent as string);
    }
    for (const t of b.tips.filter((tip) => tip.charge)) {
      const charge = fake.createCharge({
        amount: t.amount,
        currency: "usd",
        metadata: { bookingId: log.bookingIds.get(b.key)! },
        availableOn,
      });
      log.charges.set(t.key, charge.id);
    }
  }

  let currentOp = 0;
  const problem = (what: string) => log.problems.push({ op: currentOp, what });
  // Inngest's side: events sent by the app are queued as runs (test/sim/inngest-stand-in.ts).
  const { queue, pull, execute } = createInngestStandIn({ receiver: world.receiver, clock, deps: world.deps, onProblem: problem });

  async function runInngest(op: Extract<TOp, { op: "inngest" }>): Promise<void> {
    pull();
    const r = createRandom(op.seed);
    if (process.env.SIM_CONCURRENT_RUNS) return runInngestAtOnce(op, r);
    for (let i = 0; i < op.runs; i++) {
      if (process.env.SIM_TRACE) process.stderr.write(`[sim]   iteration ${i}\n`);
      const due = queue.filter((q) => !q.done && q.notBefore <= clock.now().getTime());
      const rerunnable = queue.filter((q) => q.done && q.fn !== "reconcile");
      if (rerunnable.length > 0 && r.int(0, 99) < op.rerun) {
        // A finished run runs again with the same run id: every step's side effect happens twice.
        const again = r.pick(rerunnable);
        await execute({ ...again, done: false, memo: new Map() }, null);
        continue;
      }
      if (due.length === 0) return;
      const run = r.pick(due);
      const crashAfter = r.int(0, 99) < op.crash ? r.int(1, 3) : null;
      await execute(run, crashAfter);
      if (process.env.SIM_TRACE) console.log(`[sim]   executed`);
      pull();
    }
  }

  /**
   * SIM_CONCURRENT_RUNS: up to `op.runs` due runs executed at the same moment, as a busy process
   * serves them (the engine's group commit, lib/together.ts, then batches their claims, records and
   * refreshes); one transfer run per payout at a time, as the function's concurrency key keeps it.
   * The order their statements interleave in is the machine's: a seed no longer replays exactly.
   */
  async function runInngestAtOnce(op: Extract<TOp, { op: "inngest" }>, r: ReturnType<typeof createRandom>): Promise<void> {
    const due = queue.filter((q) => !q.done && q.notBefore <= clock.now().getTime());
    const picked: TQueued[] = [];
    const transferring = new Set<string>();
    while (due.length > 0 && picked.length < op.runs) {
      const run = due.splice(r.int(0, due.length - 1), 1)[0]!;
      const payoutId = String((run.event.data as { payoutId?: unknown }).payoutId ?? "");
      if (run.fn === "transfer" && transferring.has(payoutId)) continue;
      if (run.fn === "transfer") transferring.add(payoutId);
      picked.push(run);
    }
    const crashes = picked.map(() => (r.int(0, 99) < op.crash ? r.int(1, 3) : null));
    await Promise.all(picked.map((run, i) => execute(run, crashes[i]!)));
    pull();
  }

  /** Runs everything due until nothing is left (bounded), without faults of Inngest's own. */
  async function drain(maxRuns = 400): Promise<number> {
    let ran = 0;
    for (; ran < maxRuns; ran++) {
      pull();
      const due = queue.find((q) => !q.done && q.notBefore <= clock.now().getTime());
      if (!due) break;
      await execute(due, null);
    }
    return ran;
  }

  // ── Stripe ──
  const stripeFacts = new Map<string, TStripeFact>();
  const stripeEvents = new Map<string, Stripe.Event[]>();
  const concluded = new Set<string>();
  const seconds = () => Math.floor(clock.now().getTime() / 1000);
  const chargeOf = (logical: string) => log.charges.get(logical);

  async function performStripe(fact: TStripeFact): Promise<void> {
    stripeFacts.set(fact.key, fact);
    const events: Stripe.Event[] = [];
    const emit = (type: string, object: object, extra: { account?: string; previousAttributes?: Record<string, unknown> } = {}) => {
      const event = stripeEvent({ type, object, created: seconds(), ...extra });
      fake.addEvent(event);
      events.push(event);
    };
    if (fact.kind === "account") {
      const account = log.accounts.get(fact.provider)!;
      fake.addAccount({ id: account, payoutsEnabled: fact.ready, transfersCapability: fact.ready ? "active" : "inactive" });
      emit("account.updated", await readPastFaults(() => world.stripe.accounts.retrieve(account)), { account });
    } else if (fact.kind === "refund") {
      const chargeId = chargeOf(fact.charge);
      if (!chargeId) return;
      const charge = fake.charge(chargeId);
      const amount = Math.min(fact.amount, charge.amount - charge.amount_refunded);
      // Stripe refuses to refund a charge that was charged back (error `charge_disputed`): no refund happens.
      if (amount <= 0 || charge.disputed) return;
      const refund = fake.refundCharge(chargeId, { amount, status: fact.fate === "succeeded" ? "succeeded" : "pending" });
      log.stripeObjects.set(fact.key, { kind: "refund", id: refund.id, charge: fact.charge });
      emit("charge.refunded", fake.charge(chargeId));
      emit("refund.created", refund);
    } else {
      const chargeId = chargeOf(fact.charge);
      if (!chargeId) return;
      const dispute = fake.disputeCharge(chargeId, { amount: fact.amount, status: "needs_response" });
      log.stripeObjects.set(fact.key, { kind: "dispute", id: dispute.id, charge: fact.charge });
      emit("charge.dispute.created", dispute);
    }
    stripeEvents.set(fact.key, events);
  }

  /** The event #n of a fact, once it has happened at Stripe (null before, or when it never does). */
  function stripeEventOf(key: string, n: number): Stripe.Event | null {
    return stripeEvents.get(key)?.[n] ?? null;
  }

  /** A fact's outcome happens at Stripe (once): a pending refund fails or succeeds, a dispute closes. */
  function concludeStripe(key: string): boolean {
    const events = stripeEvents.get(key);
    const fact = stripeFacts.get(key);
    const object = log.stripeObjects.get(key);
    if (!events || !fact || !object || concluded.has(key)) return false;
    let event: Stripe.Event;
    if (fact.kind === "refund" && fact.fate !== "succeeded") {
      const failed = fact.fate === "pending_then_failed";
      const refund = fake.setRefundStatus(object.id, failed ? "failed" : "succeeded", failed ? "expired_or_canceled_card" : undefined);
      event = stripeEvent({
        type: failed ? "refund.failed" : "refund.updated",
        object: refund,
        created: seconds(),
        previousAttributes: { status: "pending" },
      });
    } else if (fact.kind === "dispute" && fact.outcome !== "open") {
      const dispute = fake.setDisputeStatus(object.id, fact.outcome);
      event = stripeEvent({
        type: "charge.dispute.closed",
        object: dispute,
        created: seconds(),
        previousAttributes: { status: "needs_response" },
      });
    } else {
      return false;
    }
    concluded.add(key);
    fake.addEvent(event);
    events.push(event);
    return true;
  }

  async function deliverStripe(event: Stripe.Event): Promise<void> {
    if (process.env.SIM_TRACE) process.stderr.write(`[sim]   deliver ${event.type} ${event.id}\n`);
    const payload = JSON.stringify(event);
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: getEnv().STRIPE_WEBHOOK_SECRET[0]! });
    try {
      const { apply } = await receiveStripeWebhook(
        new Request("http://localhost/api/webhooks/stripe", {
          method: "POST",
          headers: { "content-type": "application/json", "stripe-signature": header },
          body: payload,
        }),
        { deps: world.webhookDeps },
      );
      // What the route runs with after() once the answer is sent.
      await apply?.();
    } catch (error) {
      problem(`POST /api/webhooks/stripe ${event.type} ${event.id} failed: ${describe(error)}`);
    }
    pull();
  }

  // ── The booking platform ──
  const bookingOf = (key: string): TSimBooking => history.bookings.find((b) => b.key === key)!;

  function platformBody(fact: TPlatformFact, id: string) {
    const b = bookingOf(fact.booking);
    const bookingId = log.bookingIds.get(b.key)!;
    const when = at(fact.atMs).toISOString();
    let type: string;
    let data: Record<string, unknown>;
    switch (fact.kind) {
      case "completed": {
        const p = history.providers.find((x) => x.key === b.provider)!;
        type = "booking.completed";
        data = {
          bookingId,
          completedAt: at(b.completedAtMs).toISOString(),
          currency: "USD",
          providerShare: b.providerShare,
          ...(b.payment === "charge" ? { chargeId: log.charges.get(b.key) } : {}),
          ...(b.payment === "intent" ? { paymentIntentId: log.intents.get(b.key) } : {}),
          provider: {
            id: `prov_${tag}_${p.key}`,
            name: `Provider ${p.key}`,
            email: `${p.key}-${tag}@example.test`,
            stripeAccountId: log.accounts.get(p.key),
          },
        };
        break;
      }
      case "tip": {
        const tip = b.tips.find((t) => t.key === fact.tip)!;
        type = "tip.created";
        data = {
          tipId: `tip_${tag}_${tip.key}`,
          bookingId,
          amount: tip.amount,
          currency: "USD",
          createdAt: when,
          ...(tip.charge ? { chargeId: log.charges.get(tip.key) } : {}),
        };
        break;
      }
      case "cancelled":
        type = "booking.cancelled";
        data = { bookingId, cancelledAt: when, reason: "customer cancelled" };
        break;
      case "dispute_opened":
        type = "dispute.opened";
        data = { disputeId: `dsp_${tag}_${fact.dispute}`, bookingId, reason: "service not as described", openedAt: when, scope: "both" };
        break;
      case "dispute_resolved":
        type = "dispute.resolved";
        data = {
          disputeId: `dsp_${tag}_${fact.dispute}`,
          bookingId,
          resolvedAt: when,
          outcome: fact.outcome,
          refundedAmount: fact.refundedAmount,
        };
        break;
    }
    return { id: `${id}_${tag}`, type, createdAt: when, data };
  }

  async function deliverPlatform(fact: TPlatformFact, id: string): Promise<void> {
    const raw = JSON.stringify(platformBody(fact, id));
    const signature = signBookingWebhook(raw, SECRET(), Math.floor(clock.now().getTime() / 1000));
    try {
      const { apply } = await receiveBookingWebhook(
        new Request("http://localhost/api/webhooks/booking", {
          method: "POST",
          headers: { "content-type": "application/json", "payouts-signature": signature },
          body: raw,
        }),
        { deps: world.webhookDeps, clock },
      );
      await apply?.();
    } catch (error) {
      problem(`POST /api/webhooks/booking ${fact.kind} ${id} failed: ${describe(error)}`);
    }
    pull();
  }

  // ── Admins ──
  async function admin(op: Extract<TOp, { op: "admin" }>): Promise<void> {
    const bookingId = log.bookingIds.get(op.booking)!;
    const payout = await db.payout.findFirst({ where: { booking: { externalId: bookingId } }, select: { id: true } });
    if (!payout) return;
    const actor = world.admins[op.admin];
    const ctx: TServiceContext = { db, actor, clock, stripeWrites: world.deps.stripeWrites! };
    const input = { payoutId: payout.id, reason: `simulated ${op.action}` };
    try {
      switch (op.action) {
        case "hold":
          await holdPayout(ctx, input);
          break;
        case "release":
          await releasePayout(ctx, input);
          break;
        case "force_release":
          await requestForceRelease(ctx, input);
          break;
        case "approve": {
          const pending = await db.payoutApproval.findFirst({
            where: { payoutId: payout.id, status: "pending" },
            select: { id: true, requestedById: true },
          });
          if (!pending) return;
          // The second pair of eyes: whichever admin did not ask.
          const approver = world.admins.find((a) => a.id !== pending.requestedById)!;
          await approveForceRelease({ ...ctx, actor: approver }, { approvalId: pending.id, reason: "simulated approval" });
          break;
        }
        case "retry":
          await retryPayout(ctx, input);
          break;
        case "cancel":
          await cancelPayout(ctx, input);
          break;
      }
    } catch (error) {
      // Refusals (409, 400, 403) and "Stripe could not be asked, try again" (503) are answers; anything else is a bug.
      if (!(error instanceof AppError) || (error.status >= 500 && error.status !== 503))
        problem(`admin ${op.action} on ${op.booking} threw: ${describe(error)}`);
    }
    // The route publishes after answering.
    await publishOutbox(db);
    pull();
  }

  const TRANSFERS = { method: "POST", path: "/v1/transfers" } as const;
  function arm(fault: Extract<TOp, { op: "fault" }>["fault"]): void {
    switch (fault.kind) {
      case "transfer_5xx":
        return fake.failNext(TRANSFERS, { kind: "status", status: 500 });
      case "transfer_429":
        return fake.failNext(TRANSFERS, { kind: "rate_limit", shouldRetry: true });
      case "transfer_lock_timeout":
        return fake.failNext(TRANSFERS, { kind: "lock_timeout" });
      case "transfer_answer_lost":
        return fake.failNext(TRANSFERS, { kind: "drop_response" });
      case "transfer_timeout":
        return fake.failNext(TRANSFERS, { kind: "timeout", process: true });
      case "transfer_no_balance":
        return fake.failNext(TRANSFERS, {
          kind: "error",
          status: 400,
          type: "invalid_request_error",
          code: "balance_insufficient",
          message: "You have insufficient available funds in your Stripe account.",
        });
      case "lookup_429":
        return fake.failNext({ method: "GET", path: "/v1/transfers" }, { kind: "rate_limit" }, 2);
      case "reversal_no_balance":
        return fake.failNext(
          { method: "POST", path: /^\/v1\/transfers\/[^/]+\/reversals$/ },
          {
            kind: "error",
            status: 400,
            type: "invalid_request_error",
            code: "balance_insufficient",
            message: "The connected account has insufficient funds to cover this reversal.",
          },
        );
      case "reversal_5xx":
        return fake.failNext({ method: "POST", path: /^\/v1\/transfers\/[^/]+\/reversals$/ }, { kind: "status", status: 503 });
      case "stripe_read_5xx":
        return fake.failNext(
          { method: "GET", path: /^\/v1\/(charges|refunds|accounts|payment_intents)/ },
          { kind: "status", status: 500 },
          2,
        );
    }
  }

  async function sweep(): Promise<void> {
    const run: TQueued = {
      fn: "reconcile",
      event: { id: randomUUID(), name: "inngest/scheduled.timer", data: {} },
      runId: `run_${randomUUID()}`,
      attempt: 0,
      notBefore: 0,
      done: false,
      memo: new Map(),
    };
    await execute(run, null);
    pull();
  }

  const opTimes = new Map<string, number>();
  let lastOpStarted = performance.now();
  for (const [index, op] of history.ops.entries()) {
    const opStarted = performance.now();
    if (index > 0) {
      const previous = history.ops[index - 1]!.op;
      opTimes.set(previous, (opTimes.get(previous) ?? 0) + (opStarted - lastOpStarted));
    }
    lastOpStarted = opStarted;
    currentOp = index;
    log.ran++;
    if (process.env.SIM_TRACE) console.log(`[sim] op ${index} ${JSON.stringify(op)}`);
    switch (op.op) {
      case "stripe":
        await performStripe(op.fact);
        break;
      case "stripe_outcome":
        if (!concludeStripe(op.fact)) log.ran--;
        break;
      case "deliver_stripe": {
        const event = stripeEventOf(op.fact, op.event);
        if (event) await deliverStripe(event);
        else log.ran--;
        break;
      }
      case "deliver_platform":
        await deliverPlatform(op.fact, op.id);
        break;
      case "advance":
        clock.set(new Date(clock.now().getTime() + op.ms));
        break;
      case "inngest":
        await runInngest(op);
        break;
      case "admin":
        await admin(op);
        break;
      case "fault":
        arm(op.fault);
        break;
      case "sweep":
        await sweep();
        break;
      case "balance":
        fake.setBalance("usd", op.low ? 0 : 1_000_000_000);
        break;
    }
  }

  // Quiescence: the faults heal, every Stripe event that was never delivered is (Stripe retries
  // for three days), time passes in day-long steps past every due date, and Inngest and the sweep run
  // until nothing is left to do.
  currentOp = history.ops.length;
  const quiescenceStarted = performance.now();
  if (process.env.SIM_TIMING) {
    process.stderr.write(
      `[sim] ops took ${(performance.now() - playStarted).toFixed(0)} ms: ${[...opTimes].map(([k, v]) => `${k} ${v.toFixed(0)}`).join(", ")}\n`,
    );
  }
  fake.clearFaults();
  fake.setBalance("usd", 1_000_000_000);
  for (const key of stripeFacts.keys()) {
    for (let n = 0; ; n++) {
      const event = stripeEventOf(key, n);
      if (!event) break;
      if (
        !(await db.webhookEvent.findUnique({
          where: { source_externalId: { source: "stripe", externalId: event.id } },
          select: { id: true },
        }))
      ) {
        await deliverStripe(event);
      }
    }
  }
  let last = "";
  for (let round = 0; round < 12; round++) {
    clock.set(new Date(clock.now().getTime() + 24 * HOUR));
    const ran = (await drain()) + (await sweep().then(() => drain()));
    const now = await fingerprint();
    if (process.env.SIM_TIMING)
      process.stderr.write(`[sim] round ${round}: ${ran} runs, ${(performance.now() - quiescenceStarted).toFixed(0)} ms\n`);
    // Four days at least: past every due date, every wait for funds, every retry's backoff.
    if (round >= 3 && ran === 0 && now === last) break;
    last = now;
  }
  return log;
}

/** What changes when anything happens: the audit log, the deliveries' states, the Stripe objects. */
async function fingerprint(): Promise<string> {
  const [audit, deliveries, outbox] = await Promise.all([
    db.auditLog.count(),
    db.webhookEvent.groupBy({ by: ["status"], _count: { _all: true }, _sum: { applyAttempts: true } }),
    db.outboxEvent.count({ where: { sentAt: null } }),
  ]);
  return JSON.stringify([audit, deliveries, outbox]);
}

/** The simulation's own read of Stripe's state (the event's object) goes past the faults armed for the engine. */
async function readPastFaults<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }
}
