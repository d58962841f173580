// Adversarial review of the batches' gathered writes (lib/gathered-rows.ts): a claim batch's new
// legs and started attempts, a record batch's succeeded attempts, written in one statement before
// the batch commits. Oracle: claimTransfer / recordTransferOutcome alone. Pairs of identical payouts,
// A alone, every B in ONE batch; legs, attempts, payouts, audit, alerts, platform events and results
// compared after normalising ids.
import { AsyncResource } from "node:async_hooks";
import { randomUUID } from "node:crypto";

import { beforeAll, describe, expect, it } from "vitest";

import type { Provider } from "@/generated/prisma/client";
import { ENGINE_ACTOR, type TServiceContext } from "@/lib/context";
import { db } from "@/lib/db";
import { claimTransfer, claimTransfers } from "@/lib/payouts/transfer-claim";
import { recordTransferOutcome, recordTransferOutcomes } from "@/lib/payouts/transfer-outcome";
import { claimTogether } from "@/lib/payouts/transfer-together";
import {
  PROCESSING_LEASE_MS,
  type TClaim,
  type TClaimResult,
  type TTransferOutcome,
  type TTransferResult,
} from "@/lib/payouts/transfer-types";
import { addTip } from "@/lib/tips/add-tip";

import { engineHarness, HOUR, payoutOf } from "../../support/engine";
import {
  createBooking,
  createPayout,
  createPayoutTransfer,
  createProvider,
  createStripeCharge,
  createTransferAttempt,
  inBatch,
  knowPlatformCurrencies,
} from "../../support/factories";
import { idsNormaliser } from "../../support/normalise-ids";
import { stepScope, type TStepScope } from "../../support/step-scope";
import { claimAndExecuteTransfer, normTransferResult } from "../../support/transfer-runs";

const h = engineHarness();

beforeAll(async () => {
  await db.platformWebhookEndpoint.create({ data: { url: "http://127.0.0.1:9/hook", eventTypes: [], source: "admin" } });
});

const uid = () => randomUUID().replaceAll("-", "").slice(0, 12);
const ago = (ms: number) => new Date(h.clock.now().getTime() - ms);
const engineCtx = (runId = `run_${uid()}`): TServiceContext => ({ db, actor: ENGINE_ACTOR, clock: h.clock, runId });
const norm = idsNormaliser(["tr", "req", "py", "acct", "ch", "pi", "txn", "po", "evt", "dsp", "tip", "bk", "prov", "run"]);

// ---------------------------------------------------------------------------------------------
// Worlds built with the factories (every fact under the test's control)

type TWorld = { payoutId: string; bookingId: string; charges: Record<string, string>; runId?: string };

async function readyProvider(): Promise<Provider> {
  return createProvider({ stripeAccountId: h.account(), payoutsEnabled: true });
}

/** A due payout paid by a known booking charge, and (multi) tips on a charge settled in EUR and on none. */
async function multiLeg(
  options: {
    provider?: Provider;
    multi?: boolean;
    payout?: Record<string, unknown>;
    currency?: string;
  } = {},
): Promise<TWorld> {
  const provider = options.provider ?? (await readyProvider());
  const bookingCharge = `ch_${uid()}`;
  const tipCharge = `ch_${uid()}`;
  await createStripeCharge(bookingCharge, 20_000);
  const currency = options.currency ?? "USD";
  const booking = await createBooking({
    provider,
    currency,
    stripeChargeId: bookingCharge,
    providerShare: 10_000,
    completedAt: ago(60 * HOUR),
  });
  const multi = options.multi ?? true;
  if (multi) await createStripeCharge(tipCharge, 3_000, { currency: "EUR", amount: 2_700, rate: "0.9" });
  const payout = await createPayout({ booking, eligibleAt: ago(HOUR), tipAmount: multi ? 1_500 : 0, ...(options.payout ?? {}) });
  if (multi) {
    for (const [amount, charge] of [
      [1_000, tipCharge],
      [500, null],
    ] as const) {
      await db.tip.create({
        data: {
          externalId: `tip_${uid()}`,
          bookingId: booking.id,
          payoutId: payout.id,
          amount,
          currency,
          status: "accepted",
          stripeChargeId: charge,
          tippedAt: ago(50 * HOUR - amount),
        },
      });
    }
  }
  return { payoutId: payout.id, bookingId: booking.id, charges: { [bookingCharge]: "booking", [tipCharge]: "tip" } };
}

// ---------------------------------------------------------------------------------------------
// Normalised state

async function stateOf(world: TWorld, claimRunId?: string, scope?: TStepScope) {
  const payoutId = world.payoutId;
  const p = await db.payout.findUniqueOrThrow({ where: { id: payoutId } });
  const ids = (s: string | null) => (s === null ? null : norm(s.replaceAll(payoutId, "<payout>")));
  const attempts = await db.transferAttempt.findMany({ where: { payoutId }, orderBy: { attemptNumber: "asc" } });
  const transfers = await db.payoutTransfer.findMany({
    where: { payoutId },
    orderBy: [{ kind: "asc" }, { amountVersion: "asc" }, { leg: "asc" }],
  });
  const alerts = await db.alert.findMany({ where: { payoutId }, orderBy: [{ kind: "asc" }] });
  const audits = await db.auditLog.findMany({ where: { entityId: payoutId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
  const platform = await db.platformWebhookEvent.findMany({ where: { subjectId: payoutId }, orderBy: { sequence: "asc" } });
  const outbox = await db.$queryRaw<{ name: string; eventId: string }[]>`
    SELECT name, "eventId" FROM "OutboxEvent" WHERE data->>'payoutId' = ${payoutId} ORDER BY name, "eventId"`;
  const recoveries = await db.debtRecovery.findMany({ where: { payoutId }, orderBy: { amount: "asc" } });
  const state: Record<string, unknown> = {
    payout: {
      status: p.status,
      amount: p.amount,
      amountVersion: p.amountVersion,
      attempts: p.attempts,
      holdReason: p.holdReason,
      holdNote: ids(p.holdNote),
      lastError: ids(p.lastError),
      debtRecoveredAmount: p.debtRecoveredAmount,
      processing: p.processingStartedAt !== null,
      transferred: p.stripeTransferId !== null,
      version: p.version,
    },
    attempts: attempts.map((a) => ({
      n: a.attemptNumber,
      status: a.status,
      amount: a.amount,
      currency: a.currency,
      v: a.amountVersion,
      key: ids(a.idempotencyKey),
      counted: a.counted,
      retryable: a.retryable,
      errorType: a.errorType,
      made: a.stripeTransferId !== null,
      finished: a.finishedAt !== null,
      run: a.runId === null ? null : a.runId === claimRunId ? "claim's" : a.runId === world.runId ? "world's" : "other",
    })),
    transfers: transfers.map((t) => ({
      kind: t.kind,
      v: t.amountVersion,
      leg: t.leg,
      src: t.sourceChargeId === null ? null : (world.charges[t.sourceChargeId] ?? "?"),
      payoutAmount: t.payoutAmount,
      amount: t.amount,
      currency: t.currency,
      rate: t.exchangeRate,
      status: t.status,
      refusals: t.refusals,
      key: ids(t.idempotencyKey),
      made: t.stripeTransferId !== null,
      dest: t.destinationPaymentId !== null,
      sameTimes: t.createdAt.getTime() === t.updatedAt.getTime(),
    })),
    audit: audits.map((a) => `${a.action} ${ids(a.reason) ?? ""}`),
    alerts: alerts.map((a) => `${a.kind} ${ids(a.dedupeKey)}`),
    platform: platform.map((e) => `${e.type} ${ids(JSON.stringify(e.payload))}`),
    outbox: outbox.map((o) => `${o.name} ${ids(o.eventId)}`),
    recoveries: recoveries.map((r) => `${r.status} ${r.amount}`),
  };
  if (scope) {
    state.notedPlatform = scope.platformNoted().length;
    state.notedOutbox = scope.outboxNoted().length;
  }
  return state;
}

/** The claim's result, normalised, and checked against the rows: its legs and attempt exist as it says. */
async function normClaim(world: TWorld, r: TClaimResult) {
  if (r.kind === "skipped") return { kind: r.kind, reason: r.reason, status: r.status, detail: norm(r.detail) };
  const c = r.claim;
  const attempt = await db.transferAttempt.findUnique({ where: { id: c.attemptId } });
  const legRows = await db.payoutTransfer.findMany({ where: { id: { in: c.legs.map((l) => l.legId) } } });
  return {
    kind: r.kind,
    attemptRow: attempt ? { n: attempt.attemptNumber, payout: attempt.payoutId === world.payoutId, status: attempt.status } : null,
    attemptNumber: c.attemptNumber,
    amount: c.amount,
    currency: c.currency,
    v: c.amountVersion,
    legs: c.legs.map((l) => {
      const row = legRows.find((x) => x.id === l.legId);
      return {
        leg: l.leg,
        amount: l.amount,
        currency: l.currency,
        v: l.amountVersion,
        key: l.idempotencyKey.replaceAll(world.payoutId, "<payout>"),
        src: l.sourceChargeId === null ? null : (world.charges[l.sourceChargeId] ?? "?"),
        row: row ? { leg: row.leg, amount: row.amount, status: row.status, payout: row.payoutId === world.payoutId } : null,
      };
    }),
    recorded: c.recordedTransferIds.length,
    lookupFirst: c.lookupFirst,
    lookupOnly: c.lookupOnly,
    stopBecause: c.stopBecause,
  };
}

// ---------------------------------------------------------------------------------------------
// Claim scenarios

type TScenario = { name: string; make: () => Promise<TWorld> };

const SCENARIOS: TScenario[] = [
  { name: "one known charge, one leg", make: () => multiLeg({ multi: false }) },
  { name: "multi-leg: booking charge + tip on a charge settled in EUR + tip without charge", make: () => multiLeg() },
  {
    name: "multi-leg with an open debt of the provider (netted at the claim)",
    make: async () => {
      const provider = await readyProvider();
      const earlier = await createPayout({ provider });
      const w = await multiLeg({ provider });
      await db.providerDebt.create({
        data: { providerId: provider.id, payoutId: earlier.id, amount: 2_500, currency: "USD", reason: "review debt" },
      });
      return w;
    },
  },
  {
    name: "earlier attempts, counted and not counted (numbered after the last)",
    make: async () => {
      const w = await multiLeg();
      const p = await db.payout.update({ where: { id: w.payoutId }, data: { attempts: 1 } });
      await createTransferAttempt(p, 1, { status: "failed", counted: true, finishedAt: ago(HOUR) });
      await createTransferAttempt(p, 2, { status: "failed", counted: false, errorType: "rate_limited", finishedAt: ago(HOUR) });
      await createTransferAttempt(p, 3, { status: "failed", counted: false, errorType: "deferred", finishedAt: ago(HOUR) });
      return w;
    },
  },
  {
    name: "earlier plan partly made, then the amount changed (the rest planned after every leg number used)",
    make: async () => {
      const w = await multiLeg({ payout: { amountVersion: 2 } });
      const p = await db.payout.findUniqueOrThrow({ where: { id: w.payoutId } });
      await createPayoutTransfer(p, 1, { amountVersion: 1, status: "succeeded", stripeTransferId: `tr_${uid()}`, amount: 4_000 });
      await createPayoutTransfer(p, 2, { amountVersion: 1, status: "superseded", amount: 7_500 });
      await createTransferAttempt(p, 1, { status: "failed", counted: true, finishedAt: ago(HOUR), amountVersion: 1 });
      await db.payout.update({ where: { id: w.payoutId }, data: { attempts: 1 } });
      return w;
    },
  },
  {
    name: "processing, lease expired, no plan yet (the re-claim plans it)",
    make: async () => {
      const w = await multiLeg({ payout: { status: "processing", processingStartedAt: ago(PROCESSING_LEASE_MS + 60_000), attempts: 1 } });
      const p = await db.payout.findUniqueOrThrow({ where: { id: w.payoutId } });
      await createTransferAttempt(p, 1, { runId: `run_${uid()}` });
      return w;
    },
  },
  {
    name: "processing by this very run, no plan yet (it continues and plans)",
    make: async () => {
      const runId = `run_${uid()}`;
      const w = await multiLeg({ payout: { status: "processing", processingStartedAt: ago(60_000), attempts: 1 } });
      const p = await db.payout.findUniqueOrThrow({ where: { id: w.payoutId } });
      await createTransferAttempt(p, 1, { runId });
      return { ...w, runId };
    },
  },
  {
    name: "processing, lease expired, a dispute open since (stopBecause), no plan yet",
    make: async () => {
      const w = await multiLeg({ payout: { status: "processing", processingStartedAt: ago(PROCESSING_LEASE_MS + 60_000), attempts: 1 } });
      const p = await db.payout.findUniqueOrThrow({ where: { id: w.payoutId } });
      await createTransferAttempt(p, 1, { runId: `run_${uid()}`, status: "failed", counted: false, finishedAt: ago(HOUR) });
      await db.dispute.create({
        data: { externalId: `dsp_${uid()}`, bookingId: w.bookingId, currency: "USD", openedAt: ago(HOUR), status: "open" },
      });
      return w;
    },
  },
  {
    name: "overpaid by an earlier plan (held for review after others gathered legs)",
    make: async () => {
      const w = await multiLeg({ multi: false, payout: { amountVersion: 2 } });
      const p = await db.payout.findUniqueOrThrow({ where: { id: w.payoutId } });
      await createPayoutTransfer(p, 1, { amountVersion: 1, status: "succeeded", stripeTransferId: `tr_${uid()}`, amount: 12_000 });
      return w;
    },
  },
  {
    name: "currency the platform cannot transfer (JPY: held + alert)",
    make: () => multiLeg({ multi: false, currency: "JPY" }),
  },
];

describe("claimTransfers (every B in one batch) against claimTransfer (each A alone)", () => {
  const pairs: {
    s: TScenario;
    a: TWorld;
    b: TWorld;
    ra: TClaimResult;
    rb?: TClaimResult;
    runA: string;
    runB: string;
    sa: TStepScope;
    sb: TStepScope;
  }[] = [];
  let batchError: unknown = null;

  beforeAll(async () => {
    await knowPlatformCurrencies(["USD", "EUR"]);
    for (const s of SCENARIOS) {
      const a = await s.make();
      const b = await s.make();
      const runA = a.runId ?? `run_${uid()}`;
      const runB = b.runId ?? `run_${uid()}`;
      const sa = await stepScope();
      const ra = await sa.resource.runInAsyncScope(() => claimTransfer(engineCtx(runA), { payoutId: a.payoutId }));
      pairs.push({ s, a, b, ra, runA, runB, sa, sb: await stepScope() });
    }
    try {
      const results = await claimTransfers(
        db,
        pairs.map((p) => ({ context: engineCtx(p.runB), input: { payoutId: p.b.payoutId } })),
        pairs.map((p) => p.sb.resource),
      );
      pairs.forEach((p, i) => (p.rb = inBatch(results[i]!)));
    } catch (error) {
      batchError = error;
    }
  }, 120_000);

  it("the batch commits", () => {
    expect(batchError).toBeNull();
  });

  it.each(SCENARIOS.map((s) => [s.name]))("%s: same result, same rows", async (name) => {
    expect(batchError).toBeNull();
    const p = pairs.find((x) => x.s.name === name)!;
    const a = { result: await normClaim(p.a, p.ra), ...(await stateOf(p.a, p.runA, p.sa)) };
    const b = { result: await normClaim(p.b, p.rb!), ...(await stateOf(p.b, p.runB, p.sb)) };
    expect(b).toEqual(a);
  });
});

// ---------------------------------------------------------------------------------------------
// A member that throws after others gathered rows; two batches at once

describe("a claim batch that rolls back, and two at once", () => {
  /** A processing payout (lease expired, no stop) whose plan is overpaid: its claim throws. */
  async function thrower(provider: Provider): Promise<TWorld> {
    const w = await multiLeg({
      provider,
      multi: false,
      payout: { status: "processing", processingStartedAt: ago(PROCESSING_LEASE_MS + 60_000), attempts: 1, amountVersion: 2 },
    });
    const p = await db.payout.findUniqueOrThrow({ where: { id: w.payoutId } });
    await createPayoutTransfer(p, 1, { amountVersion: 1, status: "succeeded", stripeTransferId: `tr_${uid()}`, amount: 12_000 });
    await createTransferAttempt(p, 1, { runId: `run_${uid()}` });
    return w;
  }

  it("directly: the batch rejects and nothing of the members that gathered rows before the thrower is written", async () => {
    await knowPlatformCurrencies(["USD", "EUR"]);
    const provider = await readyProvider();
    const goods = [await multiLeg({ provider }), await multiLeg({ provider })];
    const bad = await thrower(provider);
    await expect(
      claimTransfers(
        db,
        [...goods, bad].map((w) => ({ context: engineCtx(), input: { payoutId: w.payoutId } })),
        [0, 1, 2].map(() => new AsyncResource("x")),
      ),
    ).rejects.toThrow(/processing without a transfer plan/);
    for (const w of goods) {
      expect(await db.payoutTransfer.count({ where: { payoutId: w.payoutId } })).toBe(0);
      expect(await db.transferAttempt.count({ where: { payoutId: w.payoutId } })).toBe(0);
      expect((await db.payout.findUniqueOrThrow({ where: { id: w.payoutId } })).status).toBe("scheduled");
    }
    // And then each alone leaves exactly one plan and one attempt.
    const oracle = await multiLeg({ provider });
    const ro = await claimTransfer(engineCtx(), { payoutId: oracle.payoutId });
    for (const w of goods) {
      const r = await claimTransfer(engineCtx(), { payoutId: w.payoutId });
      expect(await normClaim(w, r)).toEqual(await normClaim(oracle, ro));
      expect(await stateOf(w)).toEqual(await stateOf(oracle));
    }
  });

  it("through claimTogether: the rolled-back batch is redone one by one; no gathered row leaks into the redo (one plan, one attempt each)", async () => {
    await knowPlatformCurrencies(["USD", "EUR"]);
    const provider = await readyProvider();
    const fillers = [await multiLeg(), await multiLeg()];
    const goods = [await multiLeg({ provider }), await multiLeg({ provider }), await multiLeg({ provider })];
    const bad = await thrower(provider);
    const runs = new Map<string, string>();
    const call = (w: TWorld) => {
      const runId = `run_${uid()}`;
      runs.set(w.payoutId, runId);
      return claimTogether(engineCtx(runId), { payoutId: w.payoutId });
    };
    const settled = await Promise.allSettled([...fillers, goods[0]!, goods[1]!, bad, goods[2]!].map(call));
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "fulfilled", "rejected", "fulfilled"]);
    const oracle = await multiLeg();
    const oracleRun = `run_${uid()}`;
    const ro = await claimTransfer(engineCtx(oracleRun), { payoutId: oracle.payoutId });
    const expected = { result: await normClaim(oracle, ro), ...(await stateOf(oracle, oracleRun)) };
    const all = [...fillers, goods[0]!, goods[1]!, goods[2]!];
    const values = [settled[0], settled[1], settled[2], settled[3], settled[5]].map(
      (s) => (s as PromiseFulfilledResult<TClaimResult>).value,
    );
    for (const [i, w] of all.entries()) {
      expect({ result: await normClaim(w, values[i]!), ...(await stateOf(w, runs.get(w.payoutId))) }, `member ${i}`).toEqual(expected);
    }
  });

  it("two batches at once (disjoint members, one provider's payouts split across both): every member as alone", async () => {
    await knowPlatformCurrencies(["USD", "EUR"]);
    const provider = await readyProvider();
    const ws = [];
    for (let i = 0; i < 8; i++) ws.push(await multiLeg(i % 2 === 0 ? { provider } : {}));
    const batch = (members: TWorld[]) =>
      claimTransfers(
        db,
        members.map((w) => ({ context: engineCtx(), input: { payoutId: w.payoutId } })),
        members.map(() => new AsyncResource("x")),
      );
    const [r1, r2] = await Promise.all([batch(ws.slice(0, 4)), batch(ws.slice(4))]);
    const oracle = await multiLeg();
    const ro = await claimTransfer(engineCtx(), { payoutId: oracle.payoutId });
    const expected = { result: await normClaim(oracle, ro), ...(await stateOf(oracle)) };
    const results = [...r1, ...r2];
    for (const [i, w] of ws.entries()) {
      expect({ result: await normClaim(w, inBatch(results[i]!)), ...(await stateOf(w)) }, `member ${i}`).toEqual(expected);
    }
  });

  it("one payout in both of two batches at once: claimed once, one plan, one attempt", async () => {
    await knowPlatformCurrencies(["USD", "EUR"]);
    const shared = await multiLeg();
    const others = [await multiLeg(), await multiLeg()];
    const batch = (members: TWorld[]) =>
      claimTransfers(
        db,
        members.map((w) => ({ context: engineCtx(), input: { payoutId: w.payoutId } })),
        members.map(() => new AsyncResource("x")),
      );
    const [r1, r2] = await Promise.all([batch([others[0]!, shared]), batch([shared, others[1]!])]);
    const forShared = [r1[1], r2[0]];
    // One batch claims it; the other passes it over (SKIP LOCKED: GO_ALONE) or finds it in flight.
    const claimed = forShared.filter((r) => r !== undefined && typeof r === "object" && r.kind === "claimed");
    expect(claimed).toHaveLength(1);
    expect(await db.transferAttempt.count({ where: { payoutId: shared.payoutId } })).toBe(1);
    const c = claimed[0] as TClaimResult & { kind: "claimed" };
    expect(await db.payoutTransfer.count({ where: { payoutId: shared.payoutId } })).toBe(c.claim.legs.length);
    expect(c.claim.legs.length).toBeGreaterThan(1);
  });
});

// ---------------------------------------------------------------------------------------------
// The record batch: succeeded attempts written together

type TRun = TWorld & { ctx: TServiceContext; claim: TClaim; outcome: TTransferOutcome };

async function duePayout(options: Parameters<typeof h.completeBooking>[0] = {}): Promise<TWorld> {
  const completedAt = ago(49 * HOUR);
  const { bookingId } = await h.completeBooking({ providerReady: true, completedAt, ...options });
  const payout = await payoutOf(bookingId);
  return { payoutId: payout.id, bookingId, charges: {} };
}

async function multiLegDue(): Promise<TWorld> {
  const charge = h.fake.createCharge({ amount: 5_000, currency: "usd" });
  const world = await duePayout({ stripeChargeId: charge.id, providerShare: 8_000 });
  const tipCharge = h.fake.createCharge({ amount: 700, currency: "usd" });
  await addTip(h.ctx(), {
    tipExternalId: `tip_${uid()}`,
    bookingId: world.bookingId,
    amount: 700,
    currency: "USD",
    tippedAt: ago(48 * HOUR),
    stripeChargeId: tipCharge.id,
  });
  return { ...world, charges: { [charge.id]: "booking", [tipCharge.id]: "tip" } };
}

async function claimAndExecute(world: TWorld, runId = `run_${uid()}`): Promise<TRun> {
  return { ...world, runId, ...(await claimAndExecuteTransfer(h, world.payoutId, runId)) };
}

const normResult = (result: TTransferResult) => normTransferResult(result, norm);

type TRecordScenario = { name: string; make: () => Promise<TRun>; before?: (run: TRun) => Promise<void> };

const RECORD_SCENARIOS: TRecordScenario[] = [
  {
    name: "multi-leg success, a tip accepted while in flight (settled after: a top-up leg)",
    make: async () => claimAndExecute(await multiLegDue()),
    before: async (run) => {
      await addTip(h.ctx(), {
        tipExternalId: `tip_${uid()}`,
        bookingId: run.bookingId,
        amount: 300,
        currency: "USD",
        tippedAt: ago(47 * HOUR),
      });
    },
  },
  {
    name: "multi-leg success, booking cancelled while in flight (synced after the success)",
    make: async () => claimAndExecute(await multiLegDue()),
    before: async (run) => {
      await db.booking.update({
        where: { id: run.bookingId },
        data: { cancelledAt: ago(60_000), cancellationReason: "customer cancelled" },
      });
    },
  },
  { name: "multi-leg success", make: async () => claimAndExecute(await multiLegDue()) },
  {
    name: "success of an attempt whose claim was lost (another run re-claimed after the lease)",
    make: async () => {
      const run = await claimAndExecute(await duePayout());
      await db.payout.update({ where: { id: run.payoutId }, data: { processingStartedAt: ago(PROCESSING_LEASE_MS + 60_000) } });
      const again = await claimTransfer(engineCtx(), { payoutId: run.payoutId });
      expect(again.kind).toBe("claimed");
      return run;
    },
  },
  {
    name: "success recorded twice (the second record)",
    make: async () => claimAndExecute(await duePayout()),
    before: async (run) => {
      expect((await recordTransferOutcome(run.ctx, run.claim, run.outcome)).kind).toBe("transferred");
    },
  },
  {
    name: "success after earlier failed attempts (counted and not)",
    make: async () => {
      const w = await duePayout();
      const p = await db.payout.findUniqueOrThrow({ where: { id: w.payoutId } });
      await createTransferAttempt(p, 1, { status: "failed", counted: true, finishedAt: ago(HOUR) });
      await createTransferAttempt(p, 2, { status: "failed", counted: false, finishedAt: ago(HOUR) });
      await db.payout.update({ where: { id: w.payoutId }, data: { attempts: 1 } });
      return claimAndExecute(w);
    },
  },
];

describe("recordTransferOutcomes (every B in one batch) against recordTransferOutcome (each A alone)", () => {
  const pairs: { s: TRecordScenario; a: TRun; b: TRun; ra: TTransferResult; rb?: TTransferResult }[] = [];
  let batchError: unknown = null;

  beforeAll(async () => {
    for (const s of RECORD_SCENARIOS) {
      const a = await s.make();
      const b = await s.make();
      await s.before?.(a);
      await s.before?.(b);
      const ra = await recordTransferOutcome(a.ctx, a.claim, a.outcome);
      pairs.push({ s, a, b, ra });
    }
    try {
      const results = await recordTransferOutcomes(
        db,
        pairs.map((p) => ({ context: p.b.ctx, claim: p.b.claim, outcome: p.b.outcome })),
        pairs.map(() => new AsyncResource("x")),
      );
      pairs.forEach((p, i) => (p.rb = inBatch(results[i]!)));
    } catch (error) {
      batchError = error;
    }
  }, 120_000);

  it("the batch commits", () => {
    expect(batchError).toBeNull();
  });

  it.each(RECORD_SCENARIOS.map((s) => [s.name]))("%s: same result, same rows", async (name) => {
    expect(batchError).toBeNull();
    const p = pairs.find((x) => x.s.name === name)!;
    const a = { result: normResult(p.ra), ...(await stateOf(p.a, p.a.runId)) };
    const b = { result: normResult(p.rb!), ...(await stateOf(p.b, p.b.runId)) };
    expect(b).toEqual(a);
  });
});
