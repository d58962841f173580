// Adversarial review of the gathered payout changes and leg writes of the transfer step's batches
// (changePayoutGathered / gatheredPayoutChanges in lib/payouts/change-payout.ts, gatheredLegWrites in
// lib/payouts/gathered-leg-writes.ts, isPlainSuccess in lib/payouts/transfer-outcome.ts, audit entries
// dated when the change is prepared). Oracle: claimTransfer / recordTransferOutcome alone. Pairs of
// identical payouts: A done alone (in its own step scope), every B in ONE claimTransfers /
// recordTransferOutcomes call (each in its own scope); their normalised states must be the same:
// payout row, attempts, legs, alerts, debts, the audit timeline in (createdAt, id) order with its
// snapshots, outbox rows, the platform events' payloads (sequence, transferIds) and which scope noted
// them. Then targeted tests: a version conflict at the flush (the batch must roll back entirely and be
// redone alone), two members naming one Stripe transfer, the gathered event's payload read against
// the rows, the fronts (each caller's scope), a batch of 30 and two batches at once, the overview
// totals. Every differential also checks which members the batch gathered (whatWasGathered), so a
// scenario cannot pass by taking the immediate path. No defect found in the gathered writes; one
// harmless, older trait is pinned: a member whose immediate change wrote a platform event in a batch
// that then rolls back keeps that (vanished) event's id in its scope beside the redo's.
import { AsyncResource } from "node:async_hooks";
import { randomUUID } from "node:crypto";

import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

import { ENGINE_ACTOR, type TServiceContext } from "@/lib/context";
import { db } from "@/lib/db";
import type { TGatheredRows } from "@/lib/gathered-rows";
import { changePayout, gatheredPayoutChanges, lockPayout, PayoutVersionConflictError } from "@/lib/payouts/change-payout";
import { gatheredLegWrites } from "@/lib/payouts/gathered-leg-writes";
import { claimTransfer, claimTransfers } from "@/lib/payouts/transfer-claim";
import { executeTransfer } from "@/lib/payouts/transfer-execute";
import { recordTransferOutcome, recordTransferOutcomes } from "@/lib/payouts/transfer-outcome";
import { claimTogether, recordOutcomeTogether } from "@/lib/payouts/transfer-together";
import {
  PROCESSING_LEASE_MS,
  type TClaim,
  type TClaimResult,
  type TTransferOutcome,
  type TTransferResult,
} from "@/lib/payouts/transfer-types";
import type { TStripeFailure } from "@/lib/stripe/classify-error";
import { addTip } from "@/lib/tips/add-tip";

import { engineHarness, HOUR, payoutOf } from "../../support/engine";
import { createPayoutTransfer, inBatch, knowPlatformCurrencies } from "../../support/factories";
import { idsNormaliser } from "../../support/normalise-ids";
import { stepScope, type TStepScope } from "../../support/step-scope";
import { claimAndExecuteTransfer, normTransferResult } from "../../support/transfer-runs";

const h = engineHarness();

// An enabled endpoint: every platform event written is noted in its writer's scope (never delivered here).
beforeAll(async () => {
  await db.platformWebhookEndpoint.create({ data: { url: "http://127.0.0.1:9/hook", eventTypes: [], source: "admin" } });
  await knowPlatformCurrencies(["USD", "EUR"]);
});

const uid = () => randomUUID().replaceAll("-", "").slice(0, 12);
const ago = (ms: number) => new Date(h.clock.now().getTime() - ms);
const engineCtx = (runId = `run_${uid()}`): TServiceContext => ({ db, actor: ENGINE_ACTOR, clock: h.clock, runId });
const norm = idsNormaliser(["tr", "req", "py", "acct", "ch", "pi", "txn", "po", "evt", "dsp", "tip", "bk", "prov", "run"]);

// Odd text: quotes, a backslash, a line separator, an emoji, U+FFFF and a lone surrogate (stored as U+FFFD).
const ODD = `He said "no" \\ \u2028 😀 \uffff \ud800 end`;

// ---------------------------------------------------------------------------------------------
// Worlds

type TSide = "a" | "b";
type TWorld = { payoutId: string; bookingId: string; completedAt: Date; runId?: string };
type TProviderInfo = { externalId: string; name: string; email: string; stripeAccountId: string };

/** Providers shared by the scenarios of one group, one per side (A's alone, B's in the batch). */
const groups = new Map<string, TProviderInfo>();

async function providerInfoOf(payoutId: string): Promise<TProviderInfo> {
  const payout = await db.payout.findUniqueOrThrow({ where: { id: payoutId } });
  const p = await db.provider.findUniqueOrThrow({ where: { id: payout.providerId } });
  return { externalId: p.externalId, name: p.name, email: p.email!, stripeAccountId: p.stripeAccountId! };
}

/** A booking completed 49 h ago (its payout due now), of a new ready provider or of the group's. */
async function duePayout(options: Parameters<typeof h.completeBooking>[0] & { group?: string; side?: TSide } = {}): Promise<TWorld> {
  const { group, side, ...rest } = options;
  const key = group ? `${group}:${side}` : null;
  const known = key ? groups.get(key) : undefined;
  const completedAt = rest.completedAt ?? ago(49 * HOUR);
  const { bookingId } = await h.completeBooking({
    providerReady: true,
    completedAt,
    ...(known ? { provider: known, stripeAccountId: known.stripeAccountId } : {}),
    ...rest,
  });
  const payout = await payoutOf(bookingId);
  if (key && !known) groups.set(key, await providerInfoOf(payout.id));
  return { payoutId: payout.id, bookingId, completedAt };
}

/** Three legs: the booking's charge (5,000), a tip's own charge (700), the rest from the balance. */
async function multiLegDue(options: { group?: string; side?: TSide } = {}): Promise<TWorld> {
  const charge = h.fake.createCharge({ amount: 5_000, currency: "usd" });
  const world = await duePayout({ ...options, stripeChargeId: charge.id, providerShare: 8_000 });
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
}

async function addDebt(payoutId: string, amount: number): Promise<void> {
  const payout = await db.payout.findUniqueOrThrow({ where: { id: payoutId } });
  await db.providerDebt.create({
    data: { providerId: payout.providerId, payoutId: payout.id, amount, currency: "USD", reason: "review: a reversal failed" },
  });
}

/** Held and released (two platform events, three with its creation's) before anything else happens to it. */
async function holdAndRelease(payoutId: string): Promise<void> {
  await db.$transaction(async (tx) => {
    const payout = await lockPayout(tx, payoutId);
    const held = await changePayout(tx, payout, {
      event: "hold",
      data: { holdReason: "admin_hold", holdNote: ODD },
      audit: { actor: ENGINE_ACTOR, action: "payout.held", reason: ODD },
    });
    await changePayout(tx, held, { event: "release", audit: { actor: ENGINE_ACTOR, action: "payout.released", reason: "released" } });
  });
}

type TRun = TWorld & { ctx: TServiceContext; claim: TClaim; outcome: TTransferOutcome };

/** What transferPayout does before its record: funding, stale legs, claim, Stripe. */
async function claimAndExecute(world: TWorld, runId = world.runId ?? `run_${uid()}`): Promise<TRun> {
  return { ...world, runId, ...(await claimAndExecuteTransfer(h, world.payoutId, runId)) };
}

/** A due payout whose transfer Stripe refused for good (its record fails it: payout.failed). */
async function refusedRun(): Promise<TRun> {
  const w = await duePayout();
  h.fake.failNext(
    { method: "POST", path: "/v1/transfers" },
    { kind: "error", status: 400, type: "invalid_request_error", message: "Something about this transfer is invalid." },
  );
  return claimAndExecute(w);
}

const RETRYABLE: TStripeFailure = {
  retry: "now",
  counts: true,
  outcomeUnknown: false,
  type: "StripeAPIError",
  reason: "server_error",
  message: "Stripe had a problem (review)",
  statusCode: 500,
};

/**
 * Records, while `work` runs, which payouts' changes and leg writes the batches gathered (read from
 * the kinds' rows right before they are written), to check that the batch took the gathered path.
 */
async function whatWasGathered<T>(work: () => Promise<T>): Promise<{ result: T; changes: Set<string>; legs: Set<string> }> {
  const changes = new Set<string>();
  const legs = new Set<string>();
  const wrap = <R>(kind: TGatheredRows<R>, sink: (rows: readonly R[]) => void) => {
    const original = kind.around;
    return vi.spyOn(kind, "around").mockImplementation((tx, inner) =>
      original(tx, async () => {
        const result = await inner();
        sink(kind.of(tx) ?? []);
        return result;
      }),
    );
  };
  const spies = [
    wrap(gatheredPayoutChanges, (rows) => rows.forEach((r) => changes.add((r as unknown as { payout: { id: string } }).payout.id))),
    wrap(gatheredLegWrites, (rows) => rows.forEach((r) => legs.add(r.payoutId))),
  ];
  try {
    return { result: await work(), changes, legs };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

// ---------------------------------------------------------------------------------------------
// The normalised state

async function stateOf(payoutId: string, scope?: TStepScope): Promise<Record<string, unknown>> {
  const ids = (s: string | null | undefined) => (s == null ? null : norm(s.replaceAll(payoutId, "<payout>")));
  const p = await db.payout.findUniqueOrThrow({ where: { id: payoutId } });
  const attempts = await db.transferAttempt.findMany({ where: { payoutId }, orderBy: { attemptNumber: "asc" } });
  const transfers = await db.payoutTransfer.findMany({
    where: { payoutId },
    orderBy: [{ kind: "asc" }, { amountVersion: "asc" }, { leg: "asc" }],
  });
  const alerts = await db.alert.findMany({ where: { payoutId }, orderBy: [{ kind: "asc" }, { dedupeKey: "asc" }] });
  const audits = await db.auditLog.findMany({
    where: { entityId: { in: [payoutId, ...alerts.map((a) => a.id)] } },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  const outbox = await db.$queryRaw<{ name: string; eventId: string }[]>`
    SELECT name, "eventId" FROM "OutboxEvent" WHERE data->>'payoutId' = ${payoutId} ORDER BY name, "eventId"`;
  const platform = await db.platformWebhookEvent.findMany({ where: { subjectId: payoutId }, orderBy: { sequence: "asc" } });
  const recoveries = await db.debtRecovery.findMany({ where: { payoutId }, orderBy: { amount: "asc" } });
  const debts = await db.providerDebt.findMany({ where: { providerId: p.providerId }, orderBy: { createdAt: "asc" } });
  const state: Record<string, unknown> = {
    payout: {
      status: p.status,
      amount: p.amount,
      amountVersion: p.amountVersion,
      attempts: p.attempts,
      version: p.version,
      holdReason: p.holdReason,
      holdNote: ids(p.holdNote),
      lastError: ids(p.lastError),
      tipAmount: p.tipAmount,
      debtRecoveredAmount: p.debtRecoveredAmount,
      processing: p.processingStartedAt !== null,
      transferred: p.stripeTransferId !== null,
      transferredAt: p.transferredAt !== null,
      fundsExpectedAt: p.fundsExpectedAt !== null,
      fundsWaitingSince: p.fundsWaitingSince !== null,
    },
    attempts: attempts.map((a) => ({
      n: a.attemptNumber,
      status: a.status,
      counted: a.counted,
      retryable: a.retryable,
      errorType: a.errorType,
      made: a.stripeTransferId !== null,
      finished: a.finishedAt !== null,
    })),
    transfers: transfers.map((t) => ({
      kind: t.kind,
      v: t.amountVersion,
      leg: t.leg,
      status: t.status,
      amount: t.amount,
      refusals: t.refusals,
      made: t.stripeTransferId !== null,
      dest: t.destinationPaymentId !== null,
      transferredAt: t.transferredAt !== null,
    })),
    // The timeline as the audit log lists it, each entry whole (snapshots, details, who, which run).
    audit: audits.map((a) =>
      [
        a.action,
        a.entityType,
        ids(a.reason),
        a.actorLabel,
        ids(a.runId),
        a.requestId,
        ids(JSON.stringify(a.before)),
        ids(JSON.stringify(a.after)),
      ].join(" | "),
    ),
    // Two entries of one payout in the same millisecond sort by their random ids.
    auditTies: audits.filter((a, i) => i > 0 && a.createdAt.getTime() === audits[i - 1]!.createdAt.getTime()).length,
    alerts: alerts.map((a) => `${a.kind} ${ids(a.dedupeKey)}${a.acknowledgedAt ? " (resolved)" : ""}`),
    outbox: outbox.map((o) => `${o.name} ${ids(o.eventId)}`),
    platform: platform.map((e) => `${e.sequence} ${e.type} ${ids(JSON.stringify(e.payload))}`),
    recoveries: recoveries.map((r) => `${r.status} ${r.amount}`),
    debts: debts.map((d) => `${d.status} ${d.amount} ${d.recoveredAmount}`),
  };
  if (scope) {
    const noted = scope.platformNoted();
    const rows = noted.length ? await db.platformWebhookEvent.findMany({ where: { id: { in: noted } } }) : [];
    state.notedPlatform = rows.map((e) => `${e.sequence} ${e.type}`).sort();
    state.notedPlatformForeign = rows.filter((e) => e.subjectId !== payoutId).length;
    state.notedPlatformMissing = noted.length - rows.length;
    state.notedPlatformTwice = noted.length - new Set(noted).size;
    const outboxNoted = scope.outboxNoted();
    const outboxRows = outboxNoted.length ? await db.outboxEvent.findMany({ where: { eventId: { in: outboxNoted } } }) : [];
    state.notedOutbox = outboxRows.map((o) => `${o.name} ${ids(o.eventId)}`).sort();
    state.notedOutboxMissing = outboxNoted.length - outboxRows.length;
  }
  return state;
}

const normResult = (result: TTransferResult) => normTransferResult(result, norm);

async function normClaim(payoutId: string, r: TClaimResult) {
  if (r.kind === "skipped") return { kind: r.kind, reason: r.reason, status: r.status, detail: norm(r.detail) };
  const c = r.claim;
  const attempt = await db.transferAttempt.findUnique({ where: { id: c.attemptId } });
  const legRows = await db.payoutTransfer.findMany({ where: { id: { in: c.legs.map((l) => l.legId) } } });
  return {
    kind: r.kind,
    attemptRow: attempt ? { n: attempt.attemptNumber, own: attempt.payoutId === payoutId, status: attempt.status } : null,
    attemptNumber: c.attemptNumber,
    amount: c.amount,
    currency: c.currency,
    v: c.amountVersion,
    legs: c.legs.map((l) => {
      const row = legRows.find((x) => x.id === l.legId);
      return {
        leg: l.leg,
        amount: l.amount,
        v: l.amountVersion,
        key: l.idempotencyKey.replaceAll(payoutId, "<payout>"),
        row: row ? { leg: row.leg, amount: row.amount, status: row.status, own: row.payoutId === payoutId } : null,
      };
    }),
    recorded: c.recordedTransferIds.length,
    lookupFirst: c.lookupFirst,
    lookupOnly: c.lookupOnly,
    stopBecause: c.stopBecause,
  };
}

/** The payload of the payout's last platform event, against the rows it describes. */
async function lastEventAgainstRows(payoutId: string) {
  const [event] = await db.platformWebhookEvent.findMany({ where: { subjectId: payoutId }, orderBy: { sequence: "desc" }, take: 1 });
  const count = await db.platformWebhookEvent.count({ where: { subjectId: payoutId } });
  const payout = await db.payout.findUniqueOrThrow({ where: { id: payoutId } });
  const legs = await db.payoutTransfer.findMany({
    where: { payoutId, stripeTransferId: { not: null } },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  const payload = event!.payload as { sequence: number; status: string; stripe: { transferId: string | null; transferIds: string[] } };
  return {
    got: {
      sequence: payload.sequence,
      status: payload.status,
      transferId: payload.stripe.transferId,
      transferIds: payload.stripe.transferIds,
    },
    want: { sequence: count, status: payout.status, transferId: payout.stripeTransferId, transferIds: legs.map((l) => l.stripeTransferId) },
  };
}

// ---------------------------------------------------------------------------------------------
// The record batch: a mixed batch of plain successes (gathered) and every other kind of outcome

type TRecordScenario = {
  name: string;
  make: (side: TSide) => Promise<TRun>;
  /** The record's own context (default: the claim's). */
  recordCtx?: (run: TRun) => TServiceContext;
  /** Whether the batch gathers it (a check on the scenario: isPlainSuccess). */
  plain?: boolean;
};

const withOutcome = (run: TRun, outcome: TTransferOutcome): TRun => ({ ...run, outcome });

const RECORD_SCENARIOS: TRecordScenario[] = [
  { name: "plain success, one leg", plain: true, make: async () => claimAndExecute(await duePayout()) },
  { name: "plain success, three legs made by one attempt", plain: true, make: async () => claimAndExecute(await multiLegDue()) },
  {
    name: "plain success resolving open failure alerts of earlier attempts",
    plain: true,
    make: async () => {
      const run = await claimAndExecute(await duePayout());
      for (const kind of ["payout_failed", "transfer_outcome_unknown", "transfer_turned_away"]) {
        await db.alert.create({
          data: { kind, severity: "critical", title: kind, message: kind, payoutId: run.payoutId, dedupeKey: `${kind}:${run.payoutId}:0` },
        });
      }
      return run;
    },
  },
  {
    name: "plain success of a payout with earlier platform events (created, held, released: the transfer is the 4th)",
    plain: true,
    make: async () => {
      const w = await duePayout();
      await holdAndRelease(w.payoutId);
      return claimAndExecute(w);
    },
  },
  {
    name: "plain success, leg 1 made by an earlier attempt that failed on leg 2; legs 2 and 3 found at Stripe by attempt 2",
    plain: true,
    make: async () => {
      const w = { ...(await multiLegDue()), runId: `run_${uid()}` };
      const first = await claimAndExecute(w);
      expect(first.outcome.made).toHaveLength(3);
      const r1 = await recordTransferOutcome(
        first.ctx,
        first.claim,
        withOutcome(first, {
          made: [first.outcome.made[0]!],
          result: { kind: "failed", legId: first.outcome.made[1]!.legId, failure: RETRYABLE },
        }).outcome,
      );
      expect(r1.kind).toBe("retry");
      // The same run continues its claim (attempt 2) and finds the rest at Stripe.
      const claimed = await claimTransfer(first.ctx, { payoutId: w.payoutId });
      if (claimed.kind !== "claimed") throw new Error(`not claimed: ${JSON.stringify(claimed)}`);
      const outcome = await executeTransfer(first.ctx, h.stripe, claimed.claim);
      expect(outcome.result.kind).toBe("succeeded");
      expect(outcome.made.length).toBe(2);
      return { ...first, claim: claimed.claim, outcome };
    },
  },
  {
    name: "plain success, lastError of an earlier failure in odd text, recorded by a context with odd text (actor, request id)",
    plain: true,
    make: async () => {
      const run = await claimAndExecute(await duePayout());
      await db.payout.update({ where: { id: run.payoutId }, data: { lastError: ODD } });
      return run;
    },
    recordCtx: (run) => ({
      ...run.ctx,
      actor: { type: "system", id: "payout-engine", label: `Engine ${ODD}` },
      requestId: `req ${ODD}`,
    }),
  },
  {
    name: "plain success of a payout that waited for funds before (its funds dates cleared)",
    plain: true,
    make: async () => {
      const run = await claimAndExecute(await duePayout());
      await db.payout.update({ where: { id: run.payoutId }, data: { fundsWaitingSince: ago(3 * HOUR), fundsExpectedAt: ago(HOUR) } });
      return run;
    },
  },
  {
    name: "success whose every transfer the sweep recorded meanwhile (nothing made by the outcome)",
    plain: true,
    make: async () => {
      const run = await claimAndExecute(await multiLegDue());
      for (const m of run.outcome.made) {
        await db.payoutTransfer.update({
          where: { id: m.legId },
          data: { status: "succeeded", stripeTransferId: m.transfer.id, transferredAt: h.clock.now() },
        });
      }
      return withOutcome(run, { made: [], result: { kind: "succeeded" } });
    },
  },
  {
    name: "success making leg 1 only (two legs still pending: retry, not counted)",
    plain: true,
    make: async () => {
      const run = await claimAndExecute(await multiLegDue());
      return withOutcome(run, { made: [run.outcome.made[0]!], result: { kind: "succeeded" } });
    },
  },
  {
    name: "two legs of one outcome name one Stripe transfer (the second is 'elsewhere')",
    plain: true,
    make: async () => {
      const run = await claimAndExecute(await multiLegDue());
      const [m1, m2, m3] = run.outcome.made;
      const leg2 = run.claim.legs.find((l) => l.legId === m2!.legId)!;
      return withOutcome(run, {
        made: [m1!, { legId: m2!.legId, transfer: { ...m1!.transfer, amount: leg2.amount }, recovered: false }, m3!],
        result: { kind: "succeeded" },
      });
    },
  },
  {
    name: "the transfer already recorded on another leg of the payout",
    make: async () => {
      const run = await claimAndExecute(await multiLegDue());
      const [m1, m2, m3] = run.outcome.made;
      await db.payoutTransfer.update({
        where: { id: m1!.legId },
        data: { status: "succeeded", stripeTransferId: m1!.transfer.id, transferredAt: h.clock.now() },
      });
      return withOutcome(run, {
        made: [m1!, { legId: m2!.legId, transfer: m1!.transfer, recovered: false }, m3!],
        result: { kind: "succeeded" },
      });
    },
  },
  {
    name: "plain success whose Stripe transfer id is odd text (quotes, backslash, non-ASCII)",
    plain: true,
    make: async () => {
      const run = await claimAndExecute(await duePayout());
      const m = run.outcome.made[0]!;
      return withOutcome(run, {
        made: [{ ...m, transfer: { ...m.transfer, id: `${m.transfer.id}_"q"\\_é😀\u2028` } }],
        result: { kind: "succeeded" },
      });
    },
  },
  {
    name: "leg 1 made, leg 2 refused (retry): a made leg beside a failure, not gathered",
    make: async () => {
      const run = await claimAndExecute(await multiLegDue());
      return withOutcome(run, {
        made: [run.outcome.made[0]!],
        result: { kind: "failed", legId: run.outcome.made[1]!.legId, failure: RETRYABLE },
      });
    },
  },
  {
    name: "the transfer already recorded on another payout's leg",
    make: async () => {
      const other = await claimAndExecute(await duePayout());
      expect((await recordTransferOutcome(other.ctx, other.claim, other.outcome)).kind).toBe("transferred");
      const run = await claimAndExecute(await duePayout());
      return withOutcome(run, {
        made: [{ legId: run.outcome.made[0]!.legId, transfer: other.outcome.made[0]!.transfer, recovered: false }],
        result: { kind: "succeeded" },
      });
    },
  },
  {
    name: "a transfer made for a leg replaced meanwhile (unexpected: recorded, held for review)",
    make: async () => {
      const run = await claimAndExecute(await duePayout());
      await db.payoutTransfer.update({ where: { id: run.outcome.made[0]!.legId }, data: { status: "superseded" } });
      return run;
    },
  },
  {
    name: "amount mismatch (a transfer for another amount than planned)",
    make: async () => {
      const run = await claimAndExecute(await duePayout());
      const m = run.outcome.made[0]!;
      return withOutcome(run, {
        made: [{ ...m, transfer: { ...m.transfer, amount: m.transfer.amount - 1 } }],
        result: { kind: "succeeded" },
      });
    },
  },
  {
    name: "retryable Stripe failure (500)",
    make: async () => {
      const w = await duePayout();
      h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "status", status: 500 });
      return claimAndExecute(w);
    },
  },
  {
    name: "permanent refusal (400)",
    make: async () => {
      const w = await duePayout();
      h.fake.failNext(
        { method: "POST", path: "/v1/transfers" },
        { kind: "error", status: 400, type: "invalid_request_error", message: "Something about this transfer is invalid." },
      );
      return claimAndExecute(w);
    },
  },
  {
    name: "no answer (timeout)",
    make: async () => {
      const w = await duePayout();
      h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "timeout" });
      return claimAndExecute(w);
    },
  },
  {
    name: "lack of funds (waits for them, on hold)",
    make: async () => {
      const w = await duePayout();
      h.fake.setBalance("usd", 0);
      try {
        return await claimAndExecute(w);
      } finally {
        h.fake.setBalance("usd", 1_000_000_000);
      }
    },
  },
  {
    name: "deferred for a dispute opened before the send",
    make: async () => {
      const run = await claimAndExecute(await duePayout());
      await db.dispute.create({
        data: { externalId: `dsp_${uid()}`, bookingId: run.bookingId, currency: "USD", openedAt: ago(60_000), status: "open" },
      });
      return withOutcome(run, { made: [], result: { kind: "deferred_for_dispute" } });
    },
  },
  {
    name: "late outcome of an attempt whose claim was lost",
    make: async () => {
      const run = await claimAndExecute(await duePayout());
      await db.payout.update({ where: { id: run.payoutId }, data: { processingStartedAt: ago(PROCESSING_LEASE_MS + 60_000) } });
      const again = await claimTransfer(engineCtx(), { payoutId: run.payoutId });
      expect(again.kind).toBe("claimed");
      return run;
    },
  },
  {
    name: "tip accepted while the transfer was in flight (settled after the success)",
    make: async () => {
      const run = await claimAndExecute(await duePayout());
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
    name: "booking cancelled while in flight (synced after the success)",
    make: async () => {
      const run = await claimAndExecute(await duePayout());
      await db.booking.update({ where: { id: run.bookingId }, data: { cancelledAt: ago(60_000), cancellationReason: "customer" } });
      return run;
    },
  },
  {
    name: "dispute opened while in flight, success",
    plain: true,
    make: async () => {
      const run = await claimAndExecute(await duePayout());
      await db.dispute.create({
        data: { externalId: `dsp_${uid()}`, bookingId: run.bookingId, currency: "USD", openedAt: ago(60_000), status: "open" },
      });
      return run;
    },
  },
  {
    name: "deferred for a dispute already resolved (put back, a transfer asked again)",
    make: async () => withOutcome(await claimAndExecute(await duePayout()), { made: [], result: { kind: "deferred_for_dispute" } }),
  },
  {
    name: "stopped before the send: the booking was cancelled (put back, then cancelled)",
    make: async () => {
      const run = await claimAndExecute(await duePayout());
      await db.booking.update({ where: { id: run.bookingId }, data: { cancelledAt: ago(60_000), cancellationReason: "customer" } });
      return withOutcome(run, { made: [], result: { kind: "stopped", reasons: ["booking_cancelled"] } });
    },
  },
  {
    name: "no answer on the last allowed attempt (outcome unknown, alerted)",
    make: async () => {
      const w = await duePayout();
      await db.payout.update({ where: { id: w.payoutId }, data: { attempts: 2 } });
      h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "timeout" });
      return claimAndExecute(w);
    },
  },
  // Three payouts of ONE provider with an open debt (the first reserves it at its claim).
  {
    name: "provider P, 1st: debt reserved at the claim, success (applied, not gathered)",
    make: async (side) => {
      const w = await duePayout({ group: "record-P", side });
      await addDebt(w.payoutId, 3_000);
      return claimAndExecute(w);
    },
  },
  {
    name: "provider P, 2nd: plain success",
    plain: true,
    make: async (side) => claimAndExecute(await multiLegDue({ group: "record-P", side })),
  },
  {
    name: "provider P, 3rd: permanent refusal",
    make: async (side) => {
      const w = await duePayout({ group: "record-P", side });
      h.fake.failNext(
        { method: "POST", path: "/v1/transfers" },
        { kind: "error", status: 400, type: "invalid_request_error", message: "Something about this transfer is invalid." },
      );
      return claimAndExecute(w);
    },
  },
  {
    name: "provider P, 4th: plain success",
    plain: true,
    make: async (side) => claimAndExecute(await duePayout({ group: "record-P", side })),
  },
];

describe("recordTransferOutcomes (every B in one batch) against recordTransferOutcome (each A alone)", () => {
  type TPair = { s: TRecordScenario; a: TRun; b: TRun; ra: TTransferResult; rb?: TTransferResult; sa: TStepScope; sb: TStepScope };
  const pairs: TPair[] = [];
  let batchError: unknown = null;
  let gathered = { changes: new Set<string>(), legs: new Set<string>() };

  beforeAll(async () => {
    const made: { s: TRecordScenario; a: TRun; b: TRun }[] = [];
    for (const s of RECORD_SCENARIOS) made.push({ s, a: await s.make("a"), b: await s.make("b") });
    // Every A alone, in the scenarios' order (a provider's payouts one after the other, as in the batch).
    for (const { s, a, b } of made) {
      const sa = await stepScope();
      const ra = await sa.resource.runInAsyncScope(() => recordTransferOutcome(s.recordCtx?.(a) ?? a.ctx, a.claim, a.outcome));
      pairs.push({ s, a, b, ra, sa, sb: await stepScope() });
    }
    try {
      const { result: results, ...seen } = await whatWasGathered(() =>
        recordTransferOutcomes(
          db,
          pairs.map((p) => ({ context: p.s.recordCtx?.(p.b) ?? p.b.ctx, claim: p.b.claim, outcome: p.b.outcome })),
          pairs.map((p) => p.sb.resource),
        ),
      );
      gathered = seen;
      pairs.forEach((p, i) => (p.rb = inBatch(results[i]!)));
    } catch (error) {
      batchError = error;
    }
  }, 120_000);

  it("the batch gathered the plain successes' writes, and only theirs", () => {
    expect(batchError).toBeNull();
    const plain = pairs.filter((p) => p.s.plain).map((p) => p.s.name);
    const seen = pairs.filter((p) => gathered.changes.has(p.b.payoutId) || gathered.legs.has(p.b.payoutId)).map((p) => p.s.name);
    expect(seen).toEqual(plain);
    // A change gathered for each plain success that ended transferred; legs for each that made any.
    for (const p of pairs.filter((x) => x.s.plain)) {
      expect(gathered.changes.has(p.b.payoutId), p.s.name).toBe(p.rb?.kind === "transferred");
      expect(gathered.legs.has(p.b.payoutId), p.s.name).toBe(p.b.outcome.made.length > 0);
    }
  });

  it("the batch commits", () => {
    expect(batchError).toBeNull();
  });

  it.each(RECORD_SCENARIOS.map((s) => [s.name]))("%s: same result, same state, same notes", async (name) => {
    expect(batchError).toBeNull();
    const p = pairs.find((x) => x.s.name === name)!;
    const a: Record<string, unknown> = { result: normResult(p.ra), ...(await stateOf(p.a.payoutId, p.sa)) };
    const b: Record<string, unknown> = { result: normResult(p.rb!), ...(await stateOf(p.b.payoutId, p.sb)) };
    expect(b).toEqual(a);
    expect(a.notedPlatformForeign).toBe(0);
    expect(a.notedPlatformMissing).toBe(0);
    expect(a.notedOutboxMissing).toBe(0);
    expect(a.auditTies).toBe(0);
  });

  it("the platform event of every member transferred in the batch names its rows: sequence, status, transfer ids", async () => {
    expect(batchError).toBeNull();
    const transferred = pairs.filter((p) => p.rb?.kind === "transferred");
    expect(transferred.length).toBeGreaterThanOrEqual(8);
    for (const p of transferred) {
      const { got, want } = await lastEventAgainstRows(p.b.payoutId);
      expect(got, p.s.name).toEqual(want);
      expect(got.status).toBe("transferred");
    }
  });

  it("the audit timeline of each member is in the order its work wrote it: legs made, then transferred, then alerts resolved", async () => {
    expect(batchError).toBeNull();
    for (const name of [
      "plain success resolving open failure alerts of earlier attempts",
      "plain success, leg 1 made by an earlier attempt that failed on leg 2; legs 2 and 3 found at Stripe by attempt 2",
    ]) {
      const p = pairs.find((x) => x.s.name === name)!;
      const alertIds = (await db.alert.findMany({ where: { payoutId: p.b.payoutId } })).map((a) => a.id);
      const entries = await db.auditLog.findMany({
        where: { entityId: { in: [p.b.payoutId, ...alertIds] } },
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      });
      const transferred = entries.findIndex((e) => e.action === "payout.transferred");
      expect(transferred, name).toBeGreaterThan(0);
      for (const [i, e] of entries.entries()) {
        if (e.action === "payout.transfer_made" || e.action === "payout.transfer_started") expect(i, name).toBeLessThan(transferred);
        if (e.action === "alert.acknowledged") expect(i, name).toBeGreaterThan(transferred);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The claim batch: gathered claims beside holds, settled payouts, continued claims, debts

type TClaimScenario = {
  name: string;
  /** Whether the batch gathers its claim (scheduled, claimed, no debt kept). */
  gathered?: boolean;
  make: (side: TSide) => Promise<TWorld>;
  ctx?: (runId: string) => TServiceContext;
};

const CLAIM_SCENARIOS: TClaimScenario[] = [
  { name: "due, one leg (gathered)", gathered: true, make: () => duePayout() },
  { name: "due, three legs (gathered)", gathered: true, make: () => multiLegDue() },
  {
    name: "due, with earlier platform events (held, released)",
    gathered: true,
    make: async () => {
      const w = await duePayout();
      await holdAndRelease(w.payoutId);
      return w;
    },
  },
  {
    name: "due, a holdNote left in odd text; claimed by a context with odd text (actor, request id)",
    gathered: true,
    make: async () => {
      const w = await duePayout();
      await db.payout.update({ where: { id: w.payoutId }, data: { holdNote: ODD, lastError: ODD } });
      return w;
    },
    ctx: (runId) => ({
      ...engineCtx(runId),
      actor: { type: "system", id: "payout-engine", label: `Engine ${ODD}` },
      requestId: `req ${ODD}`,
    }),
  },
  {
    name: "account not ready (held)",
    make: async () => {
      const w = await duePayout();
      const payout = await db.payout.findUniqueOrThrow({ where: { id: w.payoutId } });
      await db.provider.update({ where: { id: payout.providerId }, data: { payoutsEnabled: false } });
      return w;
    },
  },
  {
    name: "dispute open (held)",
    make: async () => {
      const w = await duePayout();
      await db.dispute.create({
        data: { externalId: `dsp_${uid()}`, bookingId: w.bookingId, currency: "USD", openedAt: ago(HOUR), status: "open" },
      });
      return w;
    },
  },
  {
    name: "booking cancelled while scheduled (cancelled)",
    make: async () => {
      const w = await duePayout();
      await db.booking.update({ where: { id: w.bookingId }, data: { cancelledAt: ago(HOUR), cancellationReason: "customer" } });
      return w;
    },
  },
  { name: "not due yet", make: () => duePayout({ completedAt: ago(HOUR) }) },
  {
    name: "already transferred",
    make: async () => {
      const run = await claimAndExecute(await duePayout());
      expect((await recordTransferOutcome(run.ctx, run.claim, run.outcome)).kind).toBe("transferred");
      return run;
    },
  },
  {
    name: "processing, this very run continues (changed at once)",
    make: async () => {
      const runId = `run_${uid()}`;
      const w = { ...(await duePayout()), runId };
      expect((await claimTransfer(engineCtx(runId), { payoutId: w.payoutId })).kind).toBe("claimed");
      return w;
    },
  },
  {
    name: "processing, lease expired (re-claimed by another run)",
    make: async () => {
      const w = await duePayout();
      expect((await claimTransfer(engineCtx(), { payoutId: w.payoutId })).kind).toBe("claimed");
      await db.payout.update({ where: { id: w.payoutId }, data: { processingStartedAt: ago(PROCESSING_LEASE_MS + 60_000) } });
      return w;
    },
  },
  {
    name: "scheduled again with its debt reservation kept (stopped: not due), claimed again",
    make: async () => {
      const runId = `run_${uid()}`;
      const w = await duePayout();
      await addDebt(w.payoutId, 2_000);
      const claimed = await claimTransfer(engineCtx(runId), { payoutId: w.payoutId });
      if (claimed.kind !== "claimed") throw new Error("not claimed");
      const stopped = await recordTransferOutcome(engineCtx(runId), claimed.claim, {
        made: [],
        result: { kind: "stopped", reasons: ["not_due"] },
      });
      expect(stopped.kind).toBe("skipped");
      const p = await db.payout.findUniqueOrThrow({ where: { id: w.payoutId } });
      expect(p).toMatchObject({ status: "scheduled", debtRecoveredAmount: 2_000 });
      return w;
    },
  },
  {
    name: "the provider's debts take all of it (applied to debt)",
    make: async () => {
      const w = await duePayout();
      await addDebt(w.payoutId, 50_000);
      return w;
    },
  },
  {
    name: "transfers planned for an earlier amount still pending (stale legs: skipped)",
    make: async () => {
      const w = await duePayout();
      const p = await db.payout.update({ where: { id: w.payoutId }, data: { amountVersion: 2 } });
      await createPayoutTransfer(p, 1, { amountVersion: 1 });
      return w;
    },
  },
  {
    name: "processing, lease expired, a dispute open since (continued with stopBecause)",
    make: async () => {
      const w = await duePayout();
      expect((await claimTransfer(engineCtx(), { payoutId: w.payoutId })).kind).toBe("claimed");
      await db.payout.update({ where: { id: w.payoutId }, data: { processingStartedAt: ago(PROCESSING_LEASE_MS + 60_000) } });
      await db.dispute.create({
        data: { externalId: `dsp_${uid()}`, bookingId: w.bookingId, currency: "USD", openedAt: ago(HOUR), status: "open" },
      });
      return w;
    },
  },
  {
    name: "due, after an earlier wait for funds (its dates kept by the claim)",
    gathered: true,
    make: async () => {
      const w = await duePayout();
      await db.payout.update({ where: { id: w.payoutId }, data: { fundsWaitingSince: ago(3 * HOUR), fundsExpectedAt: ago(HOUR) } });
      return w;
    },
  },
  // Three payouts of ONE provider with one open debt: the first's claim takes it, the others are gathered.
  {
    name: "provider Q, 1st: its claim reserves the open debt (changed at once)",
    make: async (side) => {
      const w = await duePayout({ group: "claim-Q", side });
      await addDebt(w.payoutId, 3_000);
      return w;
    },
  },
  { name: "provider Q, 2nd (gathered)", gathered: true, make: (side) => multiLegDue({ group: "claim-Q", side }) },
  {
    name: "provider Q, 3rd (gathered)",
    gathered: true,
    make: async (side) => duePayout({ group: "claim-Q", side }),
  },
];

describe("claimTransfers (every B in one batch) against claimTransfer (each A alone)", () => {
  type TPair = {
    s: TClaimScenario;
    a: TWorld;
    b: TWorld;
    ra: TClaimResult;
    rb?: TClaimResult;
    runA: string;
    runB: string;
    sa: TStepScope;
    sb: TStepScope;
  };
  const pairs: TPair[] = [];
  let batchError: unknown = null;
  let gatheredClaims = new Set<string>();
  const ctxOf = (s: TClaimScenario, runId: string) => s.ctx?.(runId) ?? engineCtx(runId);

  beforeAll(async () => {
    const made: { s: TClaimScenario; a: TWorld; b: TWorld }[] = [];
    for (const s of CLAIM_SCENARIOS) made.push({ s, a: await s.make("a"), b: await s.make("b") });
    for (const { s, a, b } of made) {
      const runA = a.runId ?? `run_${uid()}`;
      const runB = b.runId ?? `run_${uid()}`;
      const sa = await stepScope();
      const ra = await sa.resource.runInAsyncScope(() => claimTransfer(ctxOf(s, runA), { payoutId: a.payoutId }));
      pairs.push({ s, a, b, ra, runA, runB, sa, sb: await stepScope() });
    }
    try {
      const { result: results, changes } = await whatWasGathered(() =>
        claimTransfers(
          db,
          pairs.map((p) => ({ context: ctxOf(p.s, p.runB), input: { payoutId: p.b.payoutId } })),
          pairs.map((p) => p.sb.resource),
        ),
      );
      gatheredClaims = changes;
      pairs.forEach((p, i) => (p.rb = inBatch(results[i]!)));
    } catch (error) {
      batchError = error;
    }
  }, 120_000);

  it("the batch gathered the claims of the scheduled payouts claimed without a debt, and only those", () => {
    expect(batchError).toBeNull();
    const want = pairs.filter((p) => p.s.gathered).map((p) => p.s.name);
    expect(pairs.filter((p) => gatheredClaims.has(p.b.payoutId)).map((p) => p.s.name)).toEqual(want);
  });

  it("the batch commits", () => {
    expect(batchError).toBeNull();
  });

  it.each(CLAIM_SCENARIOS.map((s) => [s.name]))("%s: same result, same state, same notes", async (name) => {
    expect(batchError).toBeNull();
    const p = pairs.find((x) => x.s.name === name)!;
    const a: Record<string, unknown> = { result: await normClaim(p.a.payoutId, p.ra), ...(await stateOf(p.a.payoutId, p.sa)) };
    const b: Record<string, unknown> = { result: await normClaim(p.b.payoutId, p.rb!), ...(await stateOf(p.b.payoutId, p.sb)) };
    expect(b).toEqual(a);
    expect(a.notedPlatformForeign).toBe(0);
    expect(a.notedPlatformMissing).toBe(0);
    expect(a.auditTies).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// A version conflict at the flush: the batch rolls back entirely, each member is then done alone.
//
// The batch holds its members' rows locked, so no other transaction can change them before the flush;
// a change made in the batch's own transaction can (another writer of the row in the member's work).
// A statement-level trigger stands for it: when a gathered flush (a statement of more than one row)
// writes the legs (record) or the attempts (claim) of a payout listed in review_bump, that payout's
// version moves, once (a sequence, which a rollback does not give back).

async function installBumpTrigger(table: "PayoutTransfer" | "TransferAttempt") {
  await db.$executeRawUnsafe(`CREATE TABLE IF NOT EXISTS review_bump (payout_id uuid PRIMARY KEY)`);
  await db.$executeRawUnsafe(`DELETE FROM review_bump`);
  await db.$executeRawUnsafe(`DROP SEQUENCE IF EXISTS review_bump_seq`);
  await db.$executeRawUnsafe(`CREATE SEQUENCE review_bump_seq`);
  await db.$executeRawUnsafe(`
    CREATE OR REPLACE FUNCTION review_bump_fn() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (SELECT count(*) FROM new_rows) > 1 THEN
        IF EXISTS (SELECT 1 FROM new_rows n JOIN review_bump b ON b.payout_id = n."payoutId") THEN
          IF nextval('review_bump_seq') = 1 THEN
            UPDATE "Payout" SET version = version + 1 WHERE id IN (SELECT payout_id FROM review_bump);
          END IF;
        END IF;
      END IF;
      RETURN NULL;
    END $$`);
  const event = table === "PayoutTransfer" ? "UPDATE" : "INSERT";
  await db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS review_bump_trigger ON "${table}"`);
  await db.$executeRawUnsafe(
    `CREATE TRIGGER review_bump_trigger AFTER ${event} ON "${table}" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION review_bump_fn()`,
  );
  return {
    target: (payoutId: string) => db.$executeRaw`INSERT INTO review_bump (payout_id) VALUES (${payoutId}::uuid)`,
    fired: async () => {
      const [row] = await db.$queryRawUnsafe<{ last_value: bigint; is_called: boolean }[]>(
        `SELECT last_value, is_called FROM review_bump_seq`,
      );
      return row!.is_called ? Number(row!.last_value) : 0;
    },
    drop: async () => {
      await db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS review_bump_trigger ON "${table}"`);
      await db.$executeRawUnsafe(`DELETE FROM review_bump`);
    },
  };
}

describe("a version conflict at the flush of the gathered changes", () => {
  afterAll(async () => {
    await db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS review_bump_trigger ON "PayoutTransfer"`);
    await db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS review_bump_trigger ON "TransferAttempt"`);
  });

  it("record, directly: the batch rejects with the version conflict and writes nothing of any member", async () => {
    const runs = [
      await claimAndExecute(await duePayout()),
      await claimAndExecute(await multiLegDue()),
      await claimAndExecute(await duePayout()),
    ];
    const bump = await installBumpTrigger("PayoutTransfer");
    try {
      await bump.target(runs[1]!.payoutId);
      const before = await Promise.all(runs.map((r) => stateOf(r.payoutId)));
      const error = await recordTransferOutcomes(
        db,
        runs.map((r) => ({ context: r.ctx, claim: r.claim, outcome: r.outcome })),
        runs.map(() => new AsyncResource("x")),
      ).then(
        () => null,
        (e: unknown) => e,
      );
      expect(await bump.fired()).toBe(1);
      expect(error).toBeInstanceOf(PayoutVersionConflictError);
      expect(await Promise.all(runs.map((r) => stateOf(r.payoutId)))).toEqual(before);
    } finally {
      await bump.drop();
    }
  });

  it("record, through recordOutcomeTogether: every member ends as alone, each caller hears its own result, nothing twice", async () => {
    const oracle = await claimAndExecute(await multiLegDue());
    const oracleScope = await stepScope();
    const oracleResult = await oracleScope.resource.runInAsyncScope(() => recordTransferOutcome(oracle.ctx, oracle.claim, oracle.outcome));
    const expected: Record<string, unknown> = { result: normResult(oracleResult), ...(await stateOf(oracle.payoutId, oracleScope)) };

    const fillers = [await claimAndExecute(await multiLegDue()), await claimAndExecute(await multiLegDue())];
    const members = [
      await claimAndExecute(await multiLegDue()),
      await claimAndExecute(await multiLegDue()),
      await claimAndExecute(await multiLegDue()),
    ];
    // A member whose record writes its platform event at once (payout.failed), before the flush fails.
    const refusedOracle = await refusedRun();
    const refusedScope = await stepScope();
    const rr = await refusedScope.resource.runInAsyncScope(() =>
      recordTransferOutcome(refusedOracle.ctx, refusedOracle.claim, refusedOracle.outcome),
    );
    const refusedExpected = { result: normResult(rr), ...(await stateOf(refusedOracle.payoutId, refusedScope)) };
    const refused = await refusedRun();
    members.push(refused);
    const bump = await installBumpTrigger("PayoutTransfer");
    try {
      await bump.target(members[1]!.payoutId);
      const scopes = await Promise.all([...fillers, ...members].map(() => stepScope()));
      const results = await Promise.all(
        [...fillers, ...members].map((r, i) => scopes[i]!.resource.runInAsyncScope(() => recordOutcomeTogether(r.ctx, r.claim, r.outcome))),
      );
      // The batch of the three members was tried once (and rolled back), then each was done alone.
      expect(await bump.fired()).toBe(1);
      for (const [i, r] of [...fillers, ...members].entries()) {
        const state: Record<string, unknown> = { result: normResult(results[i]!), ...(await stateOf(r.payoutId, scopes[i])) };
        if (r !== refused) expect(state, `member ${i}`).toEqual(expected);
        else {
          // Its scope also keeps the id of the event the rolled-back batch wrote (gone with it): harmless,
          // the delivery after the commit finds no such event (deliverPlatformWebhooks selects by id).
          expect({ ...state, notedPlatformMissing: 0 }, "refused").toEqual(refusedExpected);
          expect(state.notedPlatformMissing).toBeLessThanOrEqual(1);
        }
      }
    } finally {
      await bump.drop();
    }
  });

  it("claim, through claimTogether: every member ends as alone, nothing twice", async () => {
    const oracle = await multiLegDue();
    const oracleScope = await stepScope();
    const oracleRun = `run_${uid()}`;
    const ro = await oracleScope.resource.runInAsyncScope(() => claimTransfer(engineCtx(oracleRun), { payoutId: oracle.payoutId }));
    const expected: Record<string, unknown> = {
      result: await normClaim(oracle.payoutId, ro),
      ...(await stateOf(oracle.payoutId, oracleScope)),
    };

    const worlds = [];
    for (let i = 0; i < 5; i++) worlds.push(await multiLegDue());
    const bump = await installBumpTrigger("TransferAttempt");
    try {
      await bump.target(worlds[3]!.payoutId);
      const scopes = await Promise.all(worlds.map(() => stepScope()));
      const results = await Promise.all(
        worlds.map((w, i) => scopes[i]!.resource.runInAsyncScope(() => claimTogether(engineCtx(), { payoutId: w.payoutId }))),
      );
      expect(await bump.fired()).toBe(1);
      for (const [i, w] of worlds.entries()) {
        expect({ result: await normClaim(w.payoutId, results[i]!), ...(await stateOf(w.payoutId, scopes[i])) }, `member ${i}`).toEqual(
          expected,
        );
      }
    } finally {
      await bump.drop();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Two members whose outcomes name one Stripe transfer: both gathered, their one leg UPDATE breaks the
// unique key; the batch rolls back, and one after the other the second is 'elsewhere'.

describe("two plain successes of two payouts naming one Stripe transfer", () => {
  it("the gathered leg writes refuse it (unique key): redone alone, as one after the other", async () => {
    async function pairOf() {
      const x = await claimAndExecute(await duePayout());
      const yWorld = await duePayout();
      const claimed = await claimTransfer(engineCtx(), { payoutId: yWorld.payoutId });
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
    const oracleResults = [
      await recordTransferOutcome(oracle.x.ctx, oracle.x.claim, oracle.x.outcome),
      await recordTransferOutcome(oracle.y.ctx, oracle.y.claim, oracle.y.outcome),
    ];
    const batched = await pairOf();
    await expect(
      recordTransferOutcomes(
        db,
        [batched.x, batched.y].map((r) => ({ context: r.ctx, claim: r.claim, outcome: r.outcome })),
        [new AsyncResource("x"), new AsyncResource("y")],
      ),
    ).rejects.toThrow();
    const fillers = [await claimAndExecute(await duePayout()), await claimAndExecute(await duePayout())];
    const results = await Promise.all([...fillers, batched.x, batched.y].map((r) => recordOutcomeTogether(r.ctx, r.claim, r.outcome)));
    expect(results.slice(2).map(normResult)).toEqual(oracleResults.map(normResult));
    expect(await stateOf(batched.x.payoutId)).toEqual(await stateOf(oracle.x.payoutId));
    expect(await stateOf(batched.y.payoutId)).toEqual(await stateOf(oracle.y.payoutId));
  });
});

// ---------------------------------------------------------------------------------------------
// The overview's totals (a statement-level trigger on Payout): a gathered UPDATE of many rows must
// add up as the single-row updates do.

describe("the overview totals after the gathered changes", () => {
  it("the sums of the deltas are the payouts' counts and amounts per status and currency", async () => {
    const deltas = await db.$queryRaw<{ status: string; currency: string; count: bigint; amount: bigint }[]>`
      SELECT status::text AS status, currency, sum(count)::bigint AS count, sum(amount)::bigint AS amount
      FROM "PayoutTotalDelta" GROUP BY status, currency HAVING sum(count) <> 0 OR sum(amount) <> 0 ORDER BY 1, 2`;
    const actual = await db.$queryRaw<{ status: string; currency: string; count: bigint; amount: bigint }[]>`
      SELECT status::text AS status, currency, count(*)::bigint AS count, sum(amount)::bigint AS amount
      FROM "Payout" GROUP BY status, currency ORDER BY 1, 2`;
    expect(deltas).toEqual(actual);
  });
});

// ---------------------------------------------------------------------------------------------
// The production fronts (lib/together.ts): the gathered events are noted in each caller's scope,
// whichever caller's context the flush runs in; a large batch of one statement per kind.

describe("the fronts: each caller notes its own gathered events", () => {
  it("recordOutcomeTogether: plain successes beside a failure, each scope holds exactly its payout's events, once", async () => {
    const oracle = await claimAndExecute(await multiLegDue());
    const oracleScope = await stepScope();
    const ro = await oracleScope.resource.runInAsyncScope(() => recordTransferOutcome(oracle.ctx, oracle.claim, oracle.outcome));
    const expected: Record<string, unknown> = { result: normResult(ro), ...(await stateOf(oracle.payoutId, oracleScope)) };
    expect(expected.notedPlatform).toEqual(["2 payout.transferred"]);

    const refused = await (async () => {
      const w = await duePayout();
      h.fake.failNext(
        { method: "POST", path: "/v1/transfers" },
        { kind: "error", status: 400, type: "invalid_request_error", message: "Something about this transfer is invalid." },
      );
      return claimAndExecute(w);
    })();
    const runs = [];
    for (let i = 0; i < 6; i++) runs.push(await claimAndExecute(await multiLegDue()));
    const all = [...runs.slice(0, 4), refused, ...runs.slice(4)];
    const scopes = await Promise.all(all.map(() => stepScope()));
    const { result: results, changes } = await whatWasGathered(() =>
      Promise.all(all.map((r, i) => scopes[i]!.resource.runInAsyncScope(() => recordOutcomeTogether(r.ctx, r.claim, r.outcome)))),
    );
    // Some went together (the first two go alone while nothing else is in flight).
    expect(changes.size).toBeGreaterThanOrEqual(2);
    for (const [i, r] of all.entries()) {
      const state: Record<string, unknown> = { result: normResult(results[i]!), ...(await stateOf(r.payoutId, scopes[i])) };
      if (r === refused) {
        expect(state.notedPlatform, "refused").toEqual(["2 payout.failed"]);
        expect(state.notedPlatformForeign).toBe(0);
      } else {
        expect(state, `member ${i}`).toEqual(expected);
      }
    }
  });

  it("one recordTransferOutcomes of 30 plain successes of 10 providers (given in no provider order) ends as 30 alone", async () => {
    // Oracles: a provider's first payout, and a later one (its booking's completion already asks for its transfer).
    const oracles: Record<string, unknown>[] = [];
    for (let i = 0; i < 2; i++) {
      const oracle = await claimAndExecute(await multiLegDue({ group: "big-oracle", side: "a" }));
      const oracleScope = await stepScope();
      const ro = await oracleScope.resource.runInAsyncScope(() => recordTransferOutcome(oracle.ctx, oracle.claim, oracle.outcome));
      oracles.push({ result: normResult(ro), ...(await stateOf(oracle.payoutId, oracleScope)) });
    }
    const runs: TRun[] = [];
    for (let i = 0; i < 30; i++) runs.push(await claimAndExecute(await multiLegDue({ group: `big-${i % 10}`, side: "b" })));
    const scopes = await Promise.all(runs.map(() => stepScope()));
    const {
      result: results,
      changes,
      legs,
    } = await whatWasGathered(() =>
      recordTransferOutcomes(
        db,
        runs.map((r) => ({ context: r.ctx, claim: r.claim, outcome: r.outcome })),
        scopes.map((s) => s.resource),
      ),
    );
    expect(changes.size).toBe(30);
    expect(legs.size).toBe(30);
    for (const [i, r] of runs.entries()) {
      const state: Record<string, unknown> = { result: normResult(inBatch(results[i]!)), ...(await stateOf(r.payoutId, scopes[i])) };
      expect(state, `member ${i}`).toEqual(oracles[i < 10 ? 0 : 1]);
      const { got, want } = await lastEventAgainstRows(r.payoutId);
      expect(got).toEqual(want);
    }
  });

  it("two record batches at once (one provider's payouts split across both): every member as alone", async () => {
    const expected: Record<string, unknown>[] = [];
    for (let i = 0; i < 2; i++) {
      const oracle = await claimAndExecute(await multiLegDue({ group: "two-oracle", side: "a" }));
      const ro = await recordTransferOutcome(oracle.ctx, oracle.claim, oracle.outcome);
      expected.push({ result: normResult(ro), ...(await stateOf(oracle.payoutId)) });
    }
    const runs: TRun[] = [];
    for (let i = 0; i < 8; i++) runs.push(await claimAndExecute(await multiLegDue({ group: `two-${i % 2}`, side: "b" })));
    const batch = (members: TRun[]) =>
      recordTransferOutcomes(
        db,
        members.map((r) => ({ context: r.ctx, claim: r.claim, outcome: r.outcome })),
        members.map(() => new AsyncResource("x")),
      );
    const [r1, r2] = await Promise.all([batch(runs.slice(0, 4)), batch(runs.slice(4))]);
    for (const [i, r] of runs.entries()) {
      expect({ result: normResult(inBatch([...r1, ...r2][i]!)), ...(await stateOf(r.payoutId)) }, `member ${i}`).toEqual(
        expected[i < 2 ? 0 : 1],
      );
    }
  });
});
