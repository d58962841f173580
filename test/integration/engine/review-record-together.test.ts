// Adversarial review of the group commit of the transfer step's record (recordTransferOutcomes,
// lockPayoutsAndBookings, readOutcomeFactsOfMany, the group-commit front). The per-payout path,
// recordTransferOutcome, is the oracle: pairs of identical payouts are claimed and executed against
// the fake Stripe, the facts changed between execute and record where the scenario needs it, then
// member A of each pair is recorded alone and every B member together in ONE recordTransferOutcomes
// call. Their normalised states and results must be the same. The review found two lock bugs, fixed
// since and kept here as tests: the batch waited for any member's booking lock (every member then
// waited for one held elsewhere), and locking several bookings in id order deadlocked with an
// account update, which takes a provider's bookings one by one (now SKIP LOCKED: a member whose rows
// are held goes alone, without holding up the others).
import { AsyncResource } from "node:async_hooks";
import { randomUUID } from "node:crypto";

import { beforeAll, describe, expect, it } from "vitest";

import { cancelBooking } from "@/lib/bookings/cancel-booking";
import type { TServiceContext } from "@/lib/context";
import { db } from "@/lib/db";
import { openDispute } from "@/lib/disputes/open-dispute";
import { readOutcomeFacts, readOutcomeFactsOfMany } from "@/lib/payouts/completion-facts";
import { claimTransfer } from "@/lib/payouts/transfer-claim";
import { recordTransferOutcome, recordTransferOutcomes } from "@/lib/payouts/transfer-outcome";
import { recordOutcomeTogether } from "@/lib/payouts/transfer-together";
import { PROCESSING_LEASE_MS, type TClaim, type TTransferOutcome, type TTransferResult } from "@/lib/payouts/transfer-types";
import { addTip } from "@/lib/tips/add-tip";

import { engineHarness, HOUR, payoutOf } from "../../support/engine";
import { createPayout, createPayoutTransfer, createTransferAttempt, inBatch } from "../../support/factories";
import { idsNormaliser } from "../../support/normalise-ids";
import { stepScope, type TStepScope } from "../../support/step-scope";
import { claimAndExecuteTransfer, normTransferResult } from "../../support/transfer-runs";

const h = engineHarness();

const uid = () => randomUUID().slice(0, 8);
const ago = (ms: number) => new Date(h.clock.now().getTime() - ms);

// ---------------------------------------------------------------------------------------------
// Worlds and steps

type TWorld = { payoutId: string; bookingId: string; completedAt: Date };

/** A booking completed 49 h ago (its payout due now), of a new ready provider. */
async function duePayout(options: Parameters<typeof h.completeBooking>[0] = {}): Promise<TWorld> {
  const completedAt = ago(49 * HOUR);
  const { bookingId } = await h.completeBooking({ providerReady: true, completedAt, ...options });
  const payout = await payoutOf(bookingId);
  return { payoutId: payout.id, bookingId, completedAt };
}

type TRun = TWorld & { ctx: TServiceContext; claim: TClaim; outcome: TTransferOutcome };

/** What transferPayout does before its record (the account is ready): funding, stale legs, claim, Stripe. */
async function claimAndExecute(world: TWorld, runId = `run_${randomUUID()}`): Promise<TRun> {
  return { ...world, ...(await claimAndExecuteTransfer(h, world.payoutId, runId)) };
}

// ---------------------------------------------------------------------------------------------
// The normalised state

const norm = idsNormaliser(["tr", "req", "py", "acct", "ch", "pi", "txn", "po", "evt", "dsp", "tip", "bk", "prov"]);

const normResult = (result: TTransferResult) => normTransferResult(result, norm);

async function stateOf(payoutId: string, scope?: TStepScope): Promise<Record<string, unknown>> {
  const p = await db.payout.findUniqueOrThrow({ where: { id: payoutId } });
  const attempts = await db.transferAttempt.findMany({ where: { payoutId }, orderBy: { attemptNumber: "asc" } });
  const transfers = await db.payoutTransfer.findMany({
    where: { payoutId },
    orderBy: [{ kind: "asc" }, { amountVersion: "asc" }, { leg: "asc" }],
  });
  const alerts = await db.alert.findMany({ where: { payoutId }, orderBy: [{ kind: "asc" }, { createdAt: "asc" }] });
  const audits = await db.auditLog.findMany({
    where: { entityId: { in: [payoutId, ...alerts.map((a) => a.id)] } },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  const outbox = await db.$queryRaw<{ name: string; eventId: string }[]>`
    SELECT name, "eventId" FROM "OutboxEvent" WHERE data->>'payoutId' = ${payoutId} ORDER BY name, "eventId"`;
  const platform = await db.platformWebhookEvent.findMany({ where: { subjectId: payoutId }, orderBy: { sequence: "asc" } });
  const state: Record<string, unknown> = {
    payout: {
      status: p.status,
      amount: p.amount,
      attempts: p.attempts,
      lastError: norm(p.lastError),
      holdReason: p.holdReason,
      tipAmount: p.tipAmount,
      debtRecoveredAmount: p.debtRecoveredAmount,
      hasStripeTransferId: p.stripeTransferId !== null,
    },
    attempts: attempts.map((a) => ({ status: a.status, counted: a.counted, errorType: a.errorType, retryable: a.retryable })),
    transfers: transfers.map((t) => ({ kind: t.kind, status: t.status, amount: t.amount, made: t.stripeTransferId !== null })),
    audit: audits.map((a) => a.action),
    alerts: alerts.map((a) => `${a.kind}${a.acknowledgedAt ? " (resolved)" : ""}`),
    outbox: outbox.map((o) => `${o.name} ${norm(o.eventId)}`),
    platform: platform.map((e) => e.type),
  };
  if (scope) {
    // What the record wrote was noted in its caller's scope, and only its own payout's.
    const noted = scope.outboxNoted();
    const notedRows = noted.length
      ? await db.outboxEvent.findMany({ where: { eventId: { in: noted } }, select: { name: true, eventId: true, data: true } })
      : [];
    state.notedOutbox = notedRows.map((o) => `${o.name} ${norm(o.eventId)}`).sort();
    state.notedOutboxForeign = notedRows.filter((o) => (o.data as { payoutId?: string }).payoutId !== payoutId).length;
    state.notedOutboxMissing = noted.length - notedRows.length;
    const platformNoted = scope.platformNoted();
    const platformRows = platformNoted.length ? await db.platformWebhookEvent.findMany({ where: { id: { in: platformNoted } } }) : [];
    state.notedPlatform = platformRows.map((e) => e.type).sort();
    state.notedPlatformForeign = platformRows.filter((e) => e.subjectId !== payoutId).length;
  }
  return state;
}

// ---------------------------------------------------------------------------------------------
// Scenarios

type TScenario = {
  name: string;
  make: () => Promise<TWorld>;
  /** Before each member's claim and execute (faults, balance). */
  beforeExecute?: () => void;
  afterExecute?: () => void;
  /** Between execute and record, for each member. */
  inFlight?: (run: TRun) => Promise<TRun>;
};

const SCENARIOS: TScenario[] = [
  { name: "plain success", make: () => duePayout() },
  {
    name: "retryable Stripe failure (500)",
    make: () => duePayout(),
    beforeExecute: () => h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "status", status: 500 }),
  },
  {
    name: "no answer (timeout)",
    make: () => duePayout(),
    beforeExecute: () => h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "timeout" }),
  },
  {
    name: "permanent refusal (400)",
    make: () => duePayout(),
    beforeExecute: () =>
      h.fake.failNext(
        { method: "POST", path: "/v1/transfers" },
        { kind: "error", status: 400, type: "invalid_request_error", message: "Something about this transfer is invalid." },
      ),
  },
  {
    name: "tip accepted while the transfer was in flight",
    make: () => duePayout(),
    inFlight: async (run) => {
      const { tip } = await addTip(h.ctx(), {
        tipExternalId: `tip_${uid()}`,
        bookingId: run.bookingId,
        amount: 700,
        currency: "USD",
        tippedAt: new Date(run.completedAt.getTime() + HOUR),
      });
      expect(tip).toMatchObject({ status: "accepted", payoutId: null });
      return run;
    },
  },
  {
    name: "tip accepted while a retryable failure was in flight",
    make: () => duePayout(),
    beforeExecute: () => h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "status", status: 500 }),
    inFlight: async (run) => {
      await addTip(h.ctx(), {
        tipExternalId: `tip_${uid()}`,
        bookingId: run.bookingId,
        amount: 700,
        currency: "USD",
        tippedAt: new Date(run.completedAt.getTime() + HOUR),
      });
      return run;
    },
  },
  {
    name: "booking cancelled while in flight",
    make: () => duePayout(),
    inFlight: async (run) => {
      await cancelBooking(h.ctx(), { bookingId: run.bookingId, cancelledAt: h.clock.now(), reason: "customer cancelled" });
      return run;
    },
  },
  {
    name: "open failure alerts of earlier attempts resolved by the success",
    make: () => duePayout(),
    inFlight: async (run) => {
      for (const kind of ["payout_failed", "transfer_outcome_unknown"]) {
        await db.alert.create({
          data: { kind, severity: "critical", title: kind, message: kind, payoutId: run.payoutId, dedupeKey: `${kind}:${run.payoutId}:0` },
        });
      }
      return run;
    },
  },
  {
    name: "late outcome of an attempt whose claim was lost",
    make: () => duePayout(),
    inFlight: async (run) => {
      h.clock.advance(PROCESSING_LEASE_MS + 60_000);
      const claimed = await claimTransfer({ ...h.ctx(), runId: `run_${randomUUID()}` }, { payoutId: run.payoutId });
      expect(claimed.kind).toBe("claimed");
      return run;
    },
  },
  {
    name: "dispute opened while in flight",
    make: () => duePayout(),
    inFlight: async (run) => {
      await openDispute(h.ctx(), { bookingId: run.bookingId, externalId: `dsp_${uid()}`, openedAt: h.clock.now() });
      return run;
    },
  },
  {
    name: "multi-leg payout (booking charge + a tip with its own charge + balance), the balance leg refused for funds",
    make: async () => {
      const charge = h.fake.createCharge({ amount: 5_000, currency: "usd" });
      const world = await duePayout({ stripeChargeId: charge.id, providerShare: 8_000 });
      const tipCharge = h.fake.createCharge({ amount: 700, currency: "usd" });
      await addTip(h.ctx(), {
        tipExternalId: `tip_${uid()}`,
        bookingId: world.bookingId,
        amount: 700,
        currency: "USD",
        tippedAt: new Date(world.completedAt.getTime() + HOUR),
        stripeChargeId: tipCharge.id,
      });
      return world;
    },
    beforeExecute: () => h.fake.setBalance("usd", 0),
    afterExecute: () => h.fake.setBalance("usd", 1_000_000_000),
  },
  {
    name: "debts recovered at the claim, applied by the success",
    make: async () => {
      const world = await duePayout();
      const payout = await db.payout.findUniqueOrThrow({ where: { id: world.payoutId } });
      await db.providerDebt.create({
        data: {
          providerId: payout.providerId,
          payoutId: payout.id,
          amount: 3_000,
          currency: "USD",
          reason: "review: an earlier reversal failed",
        },
      });
      return world;
    },
  },
  // Two payouts of ONE provider (with an open debt) in the same batch (B side), against two of another
  // provider recorded one after the other (A side): a provider's rows, its debts and its alerts shared.
  {
    name: "same provider, first payout (debt reserved at its claim), success",
    make: async () => {
      const world = await duePayout();
      const payout = await db.payout.findUniqueOrThrow({ where: { id: world.payoutId } });
      const provider = await db.provider.findUniqueOrThrow({ where: { id: payout.providerId } });
      await db.providerDebt.create({
        data: { providerId: payout.providerId, payoutId: payout.id, amount: 3_000, currency: "USD", reason: "review: a reversal failed" },
      });
      shared.push({
        externalId: provider.externalId,
        name: provider.name,
        email: provider.email!,
        stripeAccountId: provider.stripeAccountId!,
      });
      return world;
    },
  },
  {
    name: "same provider, second payout, permanent refusal",
    make: () => {
      const provider = shared.shift()!;
      return duePayout({ provider, stripeAccountId: provider.stripeAccountId });
    },
    beforeExecute: () =>
      h.fake.failNext(
        { method: "POST", path: "/v1/transfers" },
        { kind: "error", status: 400, type: "invalid_request_error", message: "Something about this transfer is invalid." },
      ),
  },
];
const shared: { externalId: string; name: string; email: string; stripeAccountId: string }[] = [];

// ---------------------------------------------------------------------------------------------
// The differential

type TPair = { scenario: TScenario; a: TRun; b: TRun };
const pairs: TPair[] = [];
const resultsA = new Map<string, TTransferResult>();
const resultsB = new Map<string, TTransferResult>();
const scopes = new Map<string, TStepScope>();
let batchError: unknown = null;

describe("differential: recordTransferOutcomes (all B members in one call) against recordTransferOutcome (each A alone)", () => {
  beforeAll(async () => {
    // An endpoint, so that the platform events are noted for delivery after commit.
    await db.platformWebhookEndpoint.create({ data: { url: "http://127.0.0.1:9/review", eventTypes: [], source: "admin" } });
    for (const scenario of SCENARIOS) {
      const worlds = [await scenario.make(), await scenario.make()];
      const runs: TRun[] = [];
      for (const world of worlds) {
        scenario.beforeExecute?.();
        runs.push(await claimAndExecute(world));
        scenario.afterExecute?.();
      }
      const [a, b] = [await (scenario.inFlight ?? (async (r) => r))(runs[0]!), await (scenario.inFlight ?? (async (r) => r))(runs[1]!)];
      pairs.push({ scenario, a: a!, b: b! });
    }
    for (const { a } of pairs) {
      const scope = await stepScope();
      scopes.set(a.payoutId, scope);
      resultsA.set(a.payoutId, await scope.resource.runInAsyncScope(() => recordTransferOutcome(a.ctx, a.claim, a.outcome)));
    }
    const members = [];
    const memberScopes = [];
    for (const { b } of pairs) {
      const scope = await stepScope();
      scopes.set(b.payoutId, scope);
      members.push({ context: b.ctx, claim: b.claim, outcome: b.outcome });
      memberScopes.push(scope.resource);
    }
    try {
      const results = await recordTransferOutcomes(db, members, memberScopes);
      pairs.forEach(({ b }, i) => resultsB.set(b.payoutId, inBatch(results[i]!)));
    } catch (error) {
      batchError = error;
    }
  }, 120_000);

  it("the batch of every scenario commits", () => {
    expect(batchError).toBeNull();
  });

  it.each(SCENARIOS.map((s) => [s.name]))("%s: same result and same state", async (name) => {
    const pair = pairs.find((p) => p.scenario.name === name)!;
    expect(batchError).toBeNull();
    const a: Record<string, unknown> = {
      result: normResult(resultsA.get(pair.a.payoutId)!),
      ...(await stateOf(pair.a.payoutId, scopes.get(pair.a.payoutId))),
    };
    const b: Record<string, unknown> = {
      result: normResult(resultsB.get(pair.b.payoutId)!),
      ...(await stateOf(pair.b.payoutId, scopes.get(pair.b.payoutId))),
    };
    expect(b).toEqual(a);
    expect(a.notedOutboxForeign).toBe(0);
    expect(a.notedPlatformForeign).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// The group-commit front (recordOutcomeTogether, lib/together.ts): with nothing in flight the first
// two calls go alone (maxInFlight 2); the calls made meanwhile go together in the next batch.

const member = (run: TRun) => () => recordOutcomeTogether(run.ctx, run.claim, run.outcome);

describe("the front: a batch that rolls back is recorded one by one, each caller hearing its own answer", () => {
  it("a member that throws (no such attempt): the others are recorded as alone, the thrower hears its own error", async () => {
    const fillers = [await claimAndExecute(await duePayout()), await claimAndExecute(await duePayout())];
    const goods = [await claimAndExecute(await duePayout()), await claimAndExecute(await duePayout())];
    const bad = await claimAndExecute(await duePayout());
    const badClaim = { ...bad.claim, attemptId: randomUUID() };
    const settled = await Promise.allSettled([
      ...fillers.map((r) => member(r)()),
      member(goods[0]!)(),
      recordOutcomeTogether(bad.ctx, badClaim, bad.outcome),
      member(goods[1]!)(),
    ]);
    expect(settled.map((s) => (s.status === "fulfilled" ? s.value.kind : "rejected"))).toEqual([
      "transferred",
      "transferred",
      "transferred",
      "rejected",
      "transferred",
    ]);
    expect(String((settled[3] as PromiseRejectedResult).reason)).toContain(`Transfer attempt ${badClaim.attemptId} does not exist`);
    const expected = await stateOf(fillers[0]!.payoutId);
    for (const r of [...goods, fillers[1]!]) expect(await stateOf(r.payoutId)).toEqual(expected);
    // Nothing of the thrower's was written.
    expect(await db.payout.findUniqueOrThrow({ where: { id: bad.payoutId } })).toMatchObject({ status: "processing" });
  });

  it("two members whose outcomes name the same Stripe transfer: as one after the other (the second is 'elsewhere', nothing written)", async () => {
    // Oracle: X then Y, alone.
    async function pairOf() {
      const x = await claimAndExecute(await duePayout());
      const yWorld = await duePayout();
      const claimed = await claimTransfer({ ...h.ctx(), runId: `run_${randomUUID()}` }, { payoutId: yWorld.payoutId });
      if (claimed.kind !== "claimed") throw new Error("not claimed");
      const y: TRun = {
        ...yWorld,
        ctx: h.ctx(),
        claim: claimed.claim,
        outcome: {
          made: [{ legId: claimed.claim.legs[0]!.legId, transfer: x.outcome.made[0]!.transfer, recovered: false }],
          result: { kind: "succeeded" },
        },
      };
      return { x, y };
    }
    const oracle = await pairOf();
    const oracleResults = [await member(oracle.x)(), await member(oracle.y)()];
    const batched = await pairOf();
    // The batch itself is all or nothing: the second write of the transfer id breaks its unique key.
    await expect(
      recordTransferOutcomes(
        db,
        [
          { context: batched.x.ctx, claim: batched.x.claim, outcome: batched.x.outcome },
          { context: batched.y.ctx, claim: batched.y.claim, outcome: batched.y.outcome },
        ],
        [new AsyncResource("x"), new AsyncResource("x")],
      ),
    ).rejects.toThrow();
    const fillers = [await claimAndExecute(await duePayout()), await claimAndExecute(await duePayout())];
    const results = await Promise.all([...fillers.map((r) => member(r)()), member(batched.x)(), member(batched.y)()]);
    expect(results.slice(2).map(normResult)).toEqual(oracleResults.map(normResult));
    expect(await stateOf(batched.x.payoutId)).toEqual(await stateOf(oracle.x.payoutId));
    expect(await stateOf(batched.y.payoutId)).toEqual(await stateOf(oracle.y.payoutId));
  });
});

describe("the front: two outcomes of one payout at the same moment", () => {
  /** Attempt 1 made the transfer but its lease ran out; attempt 2 claimed and found it at Stripe. */
  async function lateAndNew() {
    const world = await duePayout();
    const first = await claimAndExecute(world);
    h.clock.advance(PROCESSING_LEASE_MS + 60_000);
    const second = await claimAndExecute(world);
    expect(second.outcome.made.map((m) => m.recovered)).toEqual([true]);
    return { first, second };
  }

  it("the second goes alone after the batch committed: as one after the other", async () => {
    const oracle = await lateAndNew();
    const oracleResults = [await recordTransferOutcome(oracle.first.ctx, oracle.first.claim, oracle.first.outcome)];
    oracleResults.push(await recordTransferOutcome(oracle.second.ctx, oracle.second.claim, oracle.second.outcome));
    const batched = await lateAndNew();
    const fillers = [await claimAndExecute(await duePayout()), await claimAndExecute(await duePayout())];
    const other = await claimAndExecute(await duePayout());
    const results = await Promise.all([
      ...fillers.map((r) => member(r)()),
      member(batched.first)(),
      member(other)(),
      member(batched.second)(),
    ]);
    expect([results[2]!, results[4]!].map(normResult)).toEqual(oracleResults.map(normResult));
    expect(await stateOf(batched.first.payoutId)).toEqual(await stateOf(oracle.first.payoutId));
  });
});

// ---------------------------------------------------------------------------------------------
// Bugs

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A transaction elsewhere that takes `bookingIds`' locks one after the other, then waits for `until`. */
function holdBookings(bookingIds: string[], between: () => Promise<void>, until: Promise<void>) {
  let taken!: () => void;
  const first = new Promise<void>((resolve) => (taken = resolve));
  const done = db.$transaction(
    async (tx) => {
      for (const [i, id] of bookingIds.entries()) {
        if (i > 0) await between();
        await tx.$queryRaw`SELECT id FROM "Booking" WHERE id = ${id}::uuid FOR UPDATE`;
        if (i === 0) taken();
      }
      await until;
    },
    { timeout: 60_000, maxWait: 10_000 },
  );
  return { first, done };
}

/** Until a backend waits for a row lock in a statement that contains `fragment`. */
async function untilWaiting(fragment: string) {
  for (let i = 0; i < 500; i++) {
    const [row] = await db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE ${`%${fragment}%`}`;
    if (row!.n > 0) return;
    await sleep(10);
  }
  throw new Error(`no backend waits in a statement with ${fragment}`);
}

describe("no head-of-line blocking: a booking another transaction holds is passed over", () => {
  it("an outcome batched with another payout's outcome does not wait for THAT payout's booking lock (that one goes alone)", async () => {
    const fillers = [await claimAndExecute(await duePayout()), await claimAndExecute(await duePayout())];
    const blocked = await claimAndExecute(await duePayout());
    const free = await claimAndExecute(await duePayout());
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    // Some transaction (a webhook's apply, an admin action) holds the blocked payout's booking for 6 s.
    const holder = holdBookings([blocked.bookingId], async () => {}, released);
    await holder.first;
    const releaseTimer = setTimeout(release, 6_000);
    try {
      const started = Date.now();
      const calls = [...fillers.map((r) => member(r)()), member(blocked)()];
      const freeResult = await member(free)();
      const freeMs = Date.now() - started;
      expect(freeResult.kind).toBe("transferred");
      await Promise.all(calls);
      // One by one (recordTransferOutcome), `free` is recorded in milliseconds: nothing of it is locked.
      expect(freeMs, `the free payout's record took ${freeMs} ms, waiting for another payout's booking`).toBeLessThan(2_000);
    } finally {
      clearTimeout(releaseTimer);
      release();
      await holder.done;
    }
  }, 30_000);
});

describe("lock order against a transaction that takes several bookings in another order", () => {
  /**
   * updateProviderAccount (an account.updated, a look-up) locks the bookings of a provider's payouts
   * one after the other in the payouts' createdAt order, in one transaction; the batch locks its
   * bookings in id order. For two payouts of one provider whose booking ids sort the other way, the
   * two wait for each other: PostgreSQL aborts one (the batch, which waited first).
   */
  async function twoPayoutsOfOneProvider() {
    const first = await duePayout();
    const payout = await db.payout.findUniqueOrThrow({ where: { id: first.payoutId } });
    const provider = await db.provider.findUniqueOrThrow({ where: { id: payout.providerId } });
    const second = await duePayout({
      provider: {
        externalId: provider.externalId,
        name: provider.name,
        email: provider.email!,
        stripeAccountId: provider.stripeAccountId!,
      },
      stripeAccountId: provider.stripeAccountId!,
    });
    const runs = [await claimAndExecute(first), await claimAndExecute(second)];
    // The account update's order: payouts by createdAt (first, second); the batch's: bookings by id.
    const [low, high] = [...runs].sort((a, b) => (a.bookingId < b.bookingId ? -1 : 1));
    return { accountOrder: [high!.bookingId, low!.bookingId], runs };
  }

  it("control: one by one, the records queue behind it and nothing deadlocks", async () => {
    const { accountOrder, runs } = await twoPayoutsOfOneProvider();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const holder = holdBookings(accountOrder, () => sleep(300), released);
    await holder.first;
    const records = runs.map((r) => recordTransferOutcome(r.ctx, r.claim, r.outcome));
    await sleep(1_500);
    release();
    await holder.done;
    expect((await Promise.all(records)).map((r) => r.kind)).toEqual(["transferred", "transferred"]);
  });

  it("the batch passes over the booking it holds and does not deadlock with it", async () => {
    const { accountOrder, runs } = await twoPayoutsOfOneProvider();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    // Takes the first booking, then the second once the batch waits for the first.
    const holder = holdBookings(accountOrder, () => untilWaiting(`ORDER BY id FOR UPDATE`), released);
    await holder.first;
    const batch = recordTransferOutcomes(
      db,
      runs.map((r) => ({ context: r.ctx, claim: r.claim, outcome: r.outcome })),
      runs.map(() => new AsyncResource("x")),
    ).then(
      (results) => ({ error: null, results }),
      (error: unknown) => ({ error: String(error), results: null }),
    );
    const settled = await Promise.race([batch, sleep(3_000).then(() => null)]);
    release();
    await holder.done.catch(() => undefined);
    const outcome = settled ?? (await batch);
    expect(outcome.error).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// readOutcomeFactsOfMany against readOutcomeFacts

describe("readOutcomeFactsOfMany", () => {
  it("reads, for each input, what readOutcomeFacts reads (legs and Stripe ids of other payouts, empty arrays, no attempt)", async () => {
    const trId = () => `tr_${randomUUID().replaceAll("-", "").slice(0, 20)}`;
    const p1 = await createPayout({ status: "processing", providerShare: 10_000, attempts: 2, processingStartedAt: new Date() });
    const p2 = await createPayout({ status: "processing", providerShare: 10_000, attempts: 1, processingStartedAt: new Date() });
    const p3 = await createPayout({ status: "processing", providerShare: 5_000, attempts: 1, processingStartedAt: new Date() });
    const a1 = await createTransferAttempt(p1, 1, { status: "failed" });
    await createTransferAttempt(p1, 2);
    const a2 = await createTransferAttempt(p2, 1);
    const l1 = await createPayoutTransfer(p1, 1, { amount: 6_000 });
    await createPayoutTransfer(p1, 2, { amount: 4_000, status: "succeeded", stripeTransferId: trId() });
    const held = trId();
    const l2 = await createPayoutTransfer(p2, 1, { status: "succeeded", stripeTransferId: held });
    await db.alert.create({
      data: { kind: "payout_failed", severity: "critical", title: "t", message: "m", payoutId: p1.id, dedupeKey: `pf:${randomUUID()}` },
    });
    await db.tip.create({
      data: {
        externalId: `tip_${randomUUID()}`,
        bookingId: p3.bookingId,
        amount: 100,
        currency: "USD",
        status: "accepted",
        tippedAt: new Date(),
      },
    });
    const inputs = [
      { payoutId: p1.id, bookingId: p1.bookingId, attemptId: a1.id, legIds: [l1.id, l2.id], stripeTransferIds: [held, trId()] },
      { payoutId: p2.id, bookingId: p2.bookingId, attemptId: a2.id, legIds: [], stripeTransferIds: [] },
      { payoutId: p3.id, bookingId: p3.bookingId, attemptId: randomUUID(), legIds: [], stripeTransferIds: [] },
    ];
    await db.$transaction(async (tx) => {
      const many = await readOutcomeFactsOfMany(tx, inputs);
      expect([...many.keys()].sort()).toEqual(inputs.map((i) => i.payoutId).sort());
      for (const input of inputs) expect(many.get(input.payoutId)).toEqual(await readOutcomeFacts(tx, input));
      expect((await readOutcomeFactsOfMany(tx, [])).size).toBe(0);
    });
  });
});
