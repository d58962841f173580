// Adversarial review of the group commit of the transfer step's claim (claimTransfers,
// lockPayoutsAndBookings, claimTogether) and of the due payout's refresh (refreshPayouts,
// lockBookingsOfPayouts, refreshPayoutTogether). The single-payout functions, claimTransfer and
// refreshPayout, are the oracle: pairs of identical payouts are built in one scenario; member A of
// each pair is done alone and every B member in ONE batched call; their normalised states, what
// they noted in their callers' scopes and their results must be the same. Then the locks the batch
// takes against the lock order of the other writers. The review found two deadlocks, fixed since
// and kept here as tests: with an account update (it takes a provider's bookings one by one; the
// batch now passes over a booking held elsewhere, SKIP LOCKED, and that member goes alone), and
// between two batches taking two providers' debts in opposite orders (members are now worked in
// the order of their providers, inProviderOrder).
import { AsyncResource } from "node:async_hooks";
import { randomUUID } from "node:crypto";

import { beforeAll, describe, expect, it } from "vitest";

import type { Payout } from "@/generated/prisma/client";
import { PLATFORM_CURRENCIES_STATE_KEY } from "@/lib/charges/platform-currencies";
import { ENGINE_ACTOR, type TServiceContext } from "@/lib/context";
import { db } from "@/lib/db";
import { refreshPayout, refreshPayoutTogether, refreshPayouts } from "@/lib/payouts/refresh-payout";
import { PayoutBusyError, type TSyncResult } from "@/lib/payouts/sync-payout-with-booking";
import type { TClock } from "@/lib/payouts/timing";
import { claimTransfer, claimTransfers } from "@/lib/payouts/transfer-claim";
import { claimTogether } from "@/lib/payouts/transfer-together";
import { PROCESSING_LEASE_MS, type TClaimResult } from "@/lib/payouts/transfer-types";
import { updateProviderAccount } from "@/lib/payouts/update-provider-account";
import { applyChargeRefund } from "@/lib/refunds/apply-charge-refund";
import { addTip } from "@/lib/tips/add-tip";
import { GO_ALONE } from "@/lib/together";

import { engineHarness, HOUR, payoutOf } from "../../support/engine";
import {
  createBooking,
  createPayout,
  createPayoutTransfer,
  createProvider,
  inBatch,
  knowPlatformCurrencies,
} from "../../support/factories";
import { idsNormaliser } from "../../support/normalise-ids";
import { newProvider, type TProviderInput } from "../../support/provider-debts";
import { stepScope, type TStepScope } from "../../support/step-scope";

const h = engineHarness();

// An enabled endpoint: every platform event written is then noted in its writer's scope (never delivered here).
beforeAll(async () => {
  await db.platformWebhookEndpoint.create({ data: { url: "http://127.0.0.1:9/hook", eventTypes: [], source: "admin" } });
});

const uid = () => randomUUID().replaceAll("-", "").slice(0, 12);
const ago = (ms: number) => new Date(h.clock.now().getTime() - ms);
const engineCtx = (runId = `run_${uid()}`, clock: TClock = h.clock): TServiceContext => ({ db, actor: ENGINE_ACTOR, clock, runId });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Worlds

type TWorld = { payoutId: string; bookingId: string; completedAt: Date; runId?: string };

/** A booking completed `hoursAgo` ago (49: its payout due now), of `provider` or a new ready one. */
async function world(options: { hoursAgo?: number; provider?: TProviderInput; currency?: string; stripeChargeId?: string } = {}) {
  const completedAt = ago((options.hoursAgo ?? 49) * HOUR);
  const { bookingId } = await h.completeBooking({
    providerReady: true,
    completedAt,
    ...(options.currency ? { currency: options.currency } : {}),
    ...(options.stripeChargeId ? { stripeChargeId: options.stripeChargeId } : {}),
    ...(options.provider ? { provider: options.provider, stripeAccountId: options.provider.stripeAccountId } : {}),
  });
  const payout = await payoutOf(bookingId);
  const made: TWorld = { payoutId: payout.id, bookingId, completedAt };
  return made;
}

/** An open debt of the payout's provider, in its currency (a failed reversal of an earlier payout). */
async function debtFor(payoutId: string, amount: number) {
  const payout = await db.payout.findUniqueOrThrow({ where: { id: payoutId } });
  return db.providerDebt.create({
    data: {
      providerId: payout.providerId,
      payoutId: payout.id,
      amount,
      currency: payout.currency,
      reason: "transfer reversal failed: balance_insufficient",
      createdAt: ago(60_000),
    },
  });
}

/** A provider with one open debt of `amount` (on an earlier, transferred-looking payout of theirs). */
async function providerWithDebt(amount: number) {
  const provider = newProvider(h);
  const earlier = await world({ provider, hoursAgo: 100 });
  const debt = await debtFor(earlier.payoutId, amount);
  return { provider, debt };
}

const insertOpenDispute = (w: TWorld) =>
  db.dispute.create({ data: { externalId: `dsp_${uid()}`, bookingId: w.bookingId, currency: "USD", openedAt: ago(HOUR), status: "open" } });

const setProviderNotReady = async (w: TWorld) => {
  const b = await db.booking.findUniqueOrThrow({ where: { id: w.bookingId } });
  await db.provider.update({ where: { id: b.providerId }, data: { payoutsEnabled: false } });
};

const setBookingCancelled = (w: TWorld) =>
  db.booking.update({ where: { id: w.bookingId }, data: { cancelledAt: ago(HOUR), cancellationReason: "customer cancelled" } });

/** An accepted tip not joined to the payout yet (as if its sync had not run). */
const insertUnjoinedTip = (w: TWorld) =>
  db.tip.create({
    data: {
      externalId: `tip_${uid()}`,
      bookingId: w.bookingId,
      amount: 700,
      currency: "USD",
      status: "accepted",
      tippedAt: new Date(w.completedAt.getTime() + HOUR),
      receivedAt: new Date(w.completedAt.getTime() + HOUR),
    },
  });

/** A Stripe refund step on the booking's charge not applied yet (as if its sync had not run). */
async function insertUnappliedChargeRefund(w: TWorld) {
  const b = await db.booking.findUniqueOrThrow({ where: { id: w.bookingId } });
  return db.chargeRefund.create({
    data: {
      bookingId: w.bookingId,
      stripeChargeId: b.stripeChargeId!,
      sequence: 1,
      currency: "USD",
      chargeAmount: 10_000,
      providerPortion: 8_000,
      customerRefundedTotal: 2_500,
      providerRefundedTotal: 2_000,
      amount: 2_000,
      cause: "refund",
      refundedAt: ago(HOUR),
    },
  });
}

const tipJoined = (w: TWorld) =>
  addTip(h.ctx(), {
    tipExternalId: `tip_${uid()}`,
    bookingId: w.bookingId,
    amount: 700,
    currency: "USD",
    tippedAt: new Date(w.completedAt.getTime() + HOUR),
  });

// ---------------------------------------------------------------------------------------------
// Scopes and normalised state

const norm = idsNormaliser(["tr", "req", "py", "acct", "ch", "pi", "txn", "po", "evt", "dsp", "tip", "bk", "prov", "run"]);

function normClaim(r: TClaimResult) {
  if (r.kind === "skipped") return { kind: r.kind, reason: r.reason, status: r.status, detail: norm(r.detail) };
  const c = r.claim;
  return {
    kind: r.kind,
    attemptNumber: c.attemptNumber,
    amount: c.amount,
    currency: c.currency,
    amountVersion: c.amountVersion,
    legs: c.legs.map((l) => ({ leg: l.leg, amount: l.amount, currency: l.currency, v: l.amountVersion, src: l.sourceChargeId !== null })),
    recorded: c.recordedTransferIds.length,
    lookupFirst: c.lookupFirst,
    lookupOnly: c.lookupOnly,
    stopBecause: c.stopBecause,
    destination: c.destination !== "",
  };
}

function normSync(r: TSyncResult) {
  return {
    status: r.payout?.status ?? null,
    amount: r.payout?.amount ?? null,
    transferRequested: r.transferRequested,
    reversals: r.reversalIds.length,
    repayments: r.repaymentIds.length,
  };
}

async function stateOf(payoutId: string, scope?: TStepScope) {
  const p = await db.payout.findUniqueOrThrow({ where: { id: payoutId } });
  const attempts = await db.transferAttempt.findMany({ where: { payoutId }, orderBy: { attemptNumber: "asc" } });
  const transfers = await db.payoutTransfer.findMany({
    where: { payoutId },
    orderBy: [{ kind: "asc" }, { amountVersion: "asc" }, { leg: "asc" }],
  });
  const alerts = await db.alert.findMany({ where: { payoutId }, orderBy: [{ kind: "asc" }] });
  const audits = await db.auditLog.findMany({ where: { entityId: payoutId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
  const outbox = await db.$queryRaw<{ name: string; eventId: string }[]>`
    SELECT name, "eventId" FROM "OutboxEvent" WHERE data->>'payoutId' = ${payoutId} ORDER BY name, "eventId"`;
  const recoveries = await db.debtRecovery.findMany({ where: { payoutId }, orderBy: { amount: "asc" } });
  const platform = await db.platformWebhookEvent.findMany({ where: { subjectId: payoutId }, orderBy: { sequence: "asc" } });
  const tips = await db.tip.findMany({ where: { bookingId: p.bookingId }, orderBy: { amount: "asc" } });
  const state: Record<string, unknown> = {
    payout: {
      status: p.status,
      amount: p.amount,
      amountVersion: p.amountVersion,
      attempts: p.attempts,
      holdReason: p.holdReason,
      holdNote: norm(p.holdNote),
      cancelReason: p.cancelReason,
      tipAmount: p.tipAmount,
      refundedAmount: p.refundedAmount,
      debtRecoveredAmount: p.debtRecoveredAmount,
      processing: p.processingStartedAt !== null,
    },
    attempts: attempts.map((a) => ({ n: a.attemptNumber, status: a.status, amount: a.amount, v: a.amountVersion, counted: a.counted })),
    transfers: transfers.map((t) => ({
      kind: t.kind,
      status: t.status,
      amount: t.amount,
      leg: t.leg,
      v: t.amountVersion,
      src: t.sourceChargeId !== null,
    })),
    audit: audits.map((a) => `${a.action} ${norm(a.reason) ?? ""}`),
    alerts: alerts.map((a) => a.kind),
    outbox: outbox.map((o) => `${o.name} ${norm(o.eventId)}`),
    recoveries: recoveries.map((r) => `${r.status} ${r.amount}`),
    platform: platform.map((e) => e.type),
    tips: tips.map((t) => `${t.status} ${t.amount} ${t.payoutId === payoutId ? "joined" : "unjoined"}`),
  };
  if (scope) {
    const noted = scope.outboxNoted();
    const rows = noted.length ? await db.outboxEvent.findMany({ where: { eventId: { in: noted } } }) : [];
    state.notedOutbox = rows.map((o) => `${o.name} ${norm(o.eventId)}`).sort();
    state.notedOutboxForeign = rows.filter((o) => (o.data as { payoutId?: string }).payoutId !== payoutId).length;
    const platformNoted = scope.platformNoted();
    const platformRows = platformNoted.length ? await db.platformWebhookEvent.findMany({ where: { id: { in: platformNoted } } }) : [];
    state.notedPlatform = platformRows.map((e) => e.type).sort();
    state.notedPlatformForeign = platformRows.filter((e) => e.subjectId !== payoutId).length;
  }
  return state;
}

// ---------------------------------------------------------------------------------------------
// Differential: the claim

/** A world whose charge was refunded in part (25.00 of 100.00) before the payout was due, the refund applied. */
async function worldWithRefundApplied(): Promise<TWorld> {
  const charge = `ch_${uid()}`;
  const w = await world({ stripeChargeId: charge });
  const r = await applyChargeRefund(h.ctx(), {
    stripeChargeId: charge,
    currency: "usd",
    chargeAmount: 10_000,
    refundedTotal: 2_500,
    refundedAt: ago(HOUR),
  });
  expect(r.kind).toBe("recorded");
  return w;
}

/** A plain world, then `change` made to it. */
const worldThen = (change: (w: TWorld) => Promise<unknown>) => async () => {
  const w = await world();
  await change(w);
  return w;
};

type TClaimScenario = {
  name: string;
  make: () => Promise<TWorld>;
  /** After every world is made, before any claim (a global fact such as the platform's currencies). */
  beforeClaims?: () => Promise<void>;
  afterClaims?: () => Promise<void>;
};

const CLAIM_SCENARIOS: TClaimScenario[] = [
  { name: "plain due payout", make: () => world() },
  { name: "not yet due", make: () => world({ hoursAgo: 1 }) },
  {
    name: "dispute open (the claim holds it)",
    make: worldThen(insertOpenDispute),
  },
  {
    name: "provider not ready (the claim holds it)",
    make: worldThen(setProviderNotReady),
  },
  {
    name: "booking cancelled before due (the claim's sync cancels it)",
    make: worldThen(setBookingCancelled),
  },
  {
    name: "provider with an open debt in the payout's currency (recovered at the claim)",
    make: async () => {
      const { provider } = await providerWithDebt(3_000);
      return world({ provider });
    },
  },
  {
    name: "provider whose open debt takes all of it (applied to debt)",
    make: async () => {
      const { provider } = await providerWithDebt(20_000);
      return world({ provider });
    },
  },
  {
    name: "already processing, lease expired (re-claim by another run)",
    make: async () => {
      const w = await world({ hoursAgo: 60 });
      const early = ago(PROCESSING_LEASE_MS + 60_000);
      const first = await claimTransfer(engineCtx(`run_${uid()}`, { now: () => early }), { payoutId: w.payoutId });
      expect(first.kind).toBe("claimed");
      return w;
    },
  },
  {
    name: "already processing, lease running (another run: in flight)",
    make: async () => {
      const w = await world();
      expect((await claimTransfer(engineCtx(), { payoutId: w.payoutId })).kind).toBe("claimed");
      return w;
    },
  },
  {
    name: "already processing by this very run (continues its claim)",
    make: async () => {
      const w = await world();
      const runId = `run_${uid()}`;
      expect((await claimTransfer(engineCtx(runId), { payoutId: w.payoutId })).kind).toBe("claimed");
      return { ...w, runId };
    },
  },
  {
    name: "amount changed after an earlier plan (stale legs)",
    make: async () => {
      const w = await world();
      const payout = await db.payout.findUniqueOrThrow({ where: { id: w.payoutId } });
      await createPayoutTransfer(payout, 1);
      await tipJoined(w);
      return w;
    },
  },
  {
    name: "currency the platform cannot transfer (held + alert)",
    make: () => world({ currency: "EUR" }),
    beforeClaims: () => knowPlatformCurrencies(["usd"]),
    afterClaims: async () => {
      await db.systemState.deleteMany({ where: { key: PLATFORM_CURRENCIES_STATE_KEY } });
    },
  },
  {
    name: "tip accepted before due (joined to the payout)",
    make: async () => {
      const w = await world();
      const { tip } = await tipJoined(w);
      expect(tip.status).toBe("accepted");
      return w;
    },
  },
  {
    name: "refund applied before due",
    make: worldWithRefundApplied,
  },
  {
    name: "already cancelled (settled)",
    make: async () => {
      const w = await world();
      await db.payout.update({ where: { id: w.payoutId }, data: { status: "cancelled", cancelReason: "booking cancelled" } });
      return w;
    },
  },
];

describe("claimTransfers against claimTransfer, pair by pair", () => {
  for (const scenario of CLAIM_SCENARIOS) {
    it(`${scenario.name}: B in one batch ends as A alone`, async () => {
      // Three pairs; the B members in one batch with other scenarios' payouts too (a plain one).
      const pairs: [TWorld, TWorld][] = [];
      for (let i = 0; i < 2; i++) pairs.push([await scenario.make(), await scenario.make()]);
      const filler = await world();
      await scenario.beforeClaims?.();
      try {
        const alone: { result: TClaimResult; scope: TStepScope }[] = [];
        for (const [a] of pairs) {
          const scope = await stepScope();
          const result = await scope.resource.runInAsyncScope(() => claimTransfer(engineCtx(a.runId), { payoutId: a.payoutId }));
          alone.push({ result, scope });
        }
        const bs = [...pairs.map(([, b]) => b), filler];
        const scopes = await Promise.all(bs.map(() => stepScope()));
        const together = await claimTransfers(
          db,
          bs.map((b) => ({ context: engineCtx(b.runId), input: { payoutId: b.payoutId } })),
          scopes.map((s) => s.resource),
        );
        for (const [i, [a, b]] of pairs.entries()) {
          expect(normClaim(inBatch(together[i]!)), `result of pair ${i}`).toEqual(normClaim(alone[i]!.result));
          expect(await stateOf(b.payoutId, scopes[i]!), `state of pair ${i}`).toEqual(await stateOf(a.payoutId, alone[i]!.scope));
        }
        expect(inBatch(together[2]!).kind).toBe("claimed");
      } finally {
        await scenario.afterClaims?.();
      }
    });
  }

  it("two payouts of one provider with one open debt in one batch: the second sees the first's reservation, as a second alone claim does", async () => {
    const worldsOf = async () => {
      const { provider, debt } = await providerWithDebt(10_000);
      return { debt, first: await world({ provider }), second: await world({ provider }) };
    };
    const A = await worldsOf();
    const B = await worldsOf();
    const aloneResults = [
      await claimTransfer(engineCtx(), { payoutId: A.first.payoutId }),
      await claimTransfer(engineCtx(), { payoutId: A.second.payoutId }),
    ];
    const scopes = [new AsyncResource("x"), new AsyncResource("x")];
    const batchResults = await claimTransfers(
      db,
      [B.first, B.second].map((w) => ({ context: engineCtx(), input: { payoutId: w.payoutId } })),
      scopes,
    );
    expect(batchResults.map((r) => normClaim(inBatch(r)))).toEqual(aloneResults.map(normClaim));
    expect(await stateOf(B.first.payoutId)).toEqual(await stateOf(A.first.payoutId));
    expect(await stateOf(B.second.payoutId)).toEqual(await stateOf(A.second.payoutId));
    const debtState = async (id: string) => {
      const d = await db.providerDebt.findUniqueOrThrow({ where: { id } });
      return { status: d.status, recoveredAmount: d.recoveredAmount, amount: d.amount };
    };
    expect(await debtState(B.debt.id)).toEqual(await debtState(A.debt.id));
    // 8 000 then the 2 000 left: never more than the debt.
    expect(await debtState(B.debt.id)).toMatchObject({ recoveredAmount: 10_000 });
  });
});

// ---------------------------------------------------------------------------------------------
// Differential: the refresh

type TRefreshScenario = { name: string; make: () => Promise<TWorld> };

const REFRESH_SCENARIOS: TRefreshScenario[] = [
  { name: "plain due payout (transfer requested)", make: () => world() },
  { name: "not yet due", make: () => world({ hoursAgo: 1 }) },
  {
    name: "dispute open, not synced yet (held)",
    make: worldThen(insertOpenDispute),
  },
  {
    name: "provider not ready",
    make: worldThen(setProviderNotReady),
  },
  {
    name: "booking cancelled before due (sync cancels)",
    make: worldThen(setBookingCancelled),
  },
  {
    name: "tip accepted, not joined yet (joined)",
    make: worldThen(insertUnjoinedTip),
  },
  {
    name: "refund on the charge not applied yet (amount re-derived)",
    make: async () => {
      const w = await world({ stripeChargeId: `ch_${uid()}` });
      await insertUnappliedChargeRefund(w);
      return w;
    },
  },
  {
    name: "refund applied before due (already derived: nothing new)",
    make: worldWithRefundApplied,
  },
  {
    name: "provider with an open debt (nothing recovered before the claim)",
    make: async () => {
      const { provider } = await providerWithDebt(3_000);
      return world({ provider });
    },
  },
  {
    name: "currency the platform cannot transfer (held at arrival)",
    make: async () => {
      await knowPlatformCurrencies(["usd"]);
      try {
        return await world({ currency: "EUR" });
      } finally {
        await db.systemState.deleteMany({ where: { key: PLATFORM_CURRENCIES_STATE_KEY } });
      }
    },
  },
  {
    name: "processing (claimed): a tip waits",
    make: async () => {
      const w = await world();
      expect((await claimTransfer(engineCtx(), { payoutId: w.payoutId })).kind).toBe("claimed");
      await insertUnjoinedTip(w);
      return w;
    },
  },
];

describe("refreshPayouts against refreshPayout, pair by pair", () => {
  for (const scenario of REFRESH_SCENARIOS) {
    it(`${scenario.name}: B in one batch ends as A alone`, async () => {
      const pairs: [TWorld, TWorld][] = [];
      for (let i = 0; i < 2; i++) pairs.push([await scenario.make(), await scenario.make()]);
      const filler = await world();
      const alone: { result: TSyncResult; scope: TStepScope }[] = [];
      for (const [a] of pairs) {
        const scope = await stepScope();
        const result = await scope.resource.runInAsyncScope(() => refreshPayout(engineCtx(), { payoutId: a.payoutId }));
        alone.push({ result, scope });
      }
      const bs = [...pairs.map(([, b]) => b), filler];
      const scopes = await Promise.all(bs.map(() => stepScope()));
      const together = await refreshPayouts(
        db,
        bs.map((b) => ({ context: engineCtx(), payoutId: b.payoutId })),
        scopes.map((s) => s.resource),
      );
      for (const [i, [a, b]] of pairs.entries()) {
        expect(normSync(inBatch(together[i]!)), `result of pair ${i}`).toEqual(normSync(alone[i]!.result));
        expect(await stateOf(b.payoutId, scopes[i]!), `state of pair ${i}`).toEqual(await stateOf(a.payoutId, alone[i]!.scope));
      }
      expect(inBatch(together[2]!).transferRequested).toBe(true);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// The fronts: a batch through `together`, its fallback, and each caller's scope

/** Calls made at once: the first two go alone (two flushes in flight), the rest wait and go together. */
async function atOnce<T>(calls: (() => Promise<T>)[]) {
  return Promise.allSettled(calls.map((call) => call()));
}

describe("the together fronts", () => {
  it("refreshPayoutTogether: concurrent callers each note their own events and platform webhooks (a batch flush started from another caller's context)", async () => {
    const worlds = await Promise.all(Array.from({ length: 8 }, () => world()));
    for (const w of worlds) await insertUnjoinedTip(w); // the sync changes the payout: platform events too
    // Each payout is also held for a dispute not synced yet: a status change, so a platform event.
    for (const w of worlds) await insertOpenDispute(w);
    const before = await Promise.all(worlds.map(async (w) => ((await stateOf(w.payoutId)).platform as string[]).length));
    const scopes = await Promise.all(worlds.map(() => stepScope()));
    const settled = await atOnce(
      worlds.map((w, i) => () => scopes[i]!.resource.runInAsyncScope(() => refreshPayoutTogether(engineCtx(), { payoutId: w.payoutId }))),
    );
    expect(settled.map((s) => s.status)).toEqual(worlds.map(() => "fulfilled"));
    for (const [i, w] of worlds.entries()) {
      const state = await stateOf(w.payoutId, scopes[i]!);
      expect(state.payout, `payout ${i}`).toMatchObject({ status: "on_hold", holdReason: "dispute_open", tipAmount: 700 });
      expect(state.notedOutboxForeign, `payout ${i}`).toBe(0);
      expect(state.notedPlatformForeign, `payout ${i}`).toBe(0);
      expect(state.notedOutbox, `payout ${i}`).toEqual(state.outbox);
      expect(state.notedPlatform, `payout ${i}`).toEqual((state.platform as string[]).slice(before[i]).sort());
      expect(state.notedPlatform, `payout ${i}`).not.toEqual([]);
    }
  });

  it("claimTogether: concurrent claims (one payout twice among them) end as alone; each caller notes its own events", async () => {
    const worlds = await Promise.all(Array.from({ length: 6 }, () => world()));
    // The even ones have a dispute not synced yet: their claim holds them (a platform event).
    for (const [i, w] of worlds.entries()) if (i % 2 === 0) await insertOpenDispute(w);
    const calls = [...worlds, worlds[3]!, worlds[5]!];
    const before = await Promise.all(worlds.map(async (w) => ((await stateOf(w.payoutId)).platform as string[]).length));
    const scopes = await Promise.all(calls.map(() => stepScope()));
    const settled = await atOnce(
      calls.map((w, i) => () => scopes[i]!.resource.runInAsyncScope(() => claimTogether(engineCtx(), { payoutId: w.payoutId }))),
    );
    const results = settled.map((s) => (s.status === "fulfilled" ? normClaim(s.value) : { kind: "rejected", error: String(s.reason) }));
    expect(results.slice(0, 6).map((r) => r.kind)).toEqual(["skipped", "claimed", "skipped", "claimed", "skipped", "claimed"]);
    // A second call (another run) finds its payout in flight.
    expect(results.slice(6)).toEqual([
      { kind: "skipped", reason: "in_flight", status: "processing", detail: null },
      { kind: "skipped", reason: "in_flight", status: "processing", detail: null },
    ]);
    for (const [i, w] of worlds.entries()) {
      const state = await stateOf(w.payoutId, scopes[i]!);
      expect(state.notedOutboxForeign).toBe(0);
      expect(state.notedPlatformForeign).toBe(0);
      expect(state.notedPlatform).toEqual((state.platform as string[]).slice(before[i]).sort());
      expect(state.notedPlatform).toEqual(i % 2 === 0 ? ["payout.held"] : []);
      expect(state.attempts).toHaveLength(i % 2 === 0 ? 0 : 1);
    }
  });

  it("refreshPayoutTogether: a member that throws PayoutBusyError in a batch gets its error; the others their results, each once", async () => {
    // A processing payout with a refund not applied: the sync refuses it as busy.
    const busy = await world({ stripeChargeId: `ch_${uid()}` });
    expect((await claimTransfer(engineCtx(), { payoutId: busy.payoutId })).kind).toBe("claimed");
    await insertUnappliedChargeRefund(busy);
    const others = await Promise.all(Array.from({ length: 5 }, () => world()));
    for (const w of others) await insertUnjoinedTip(w);
    // The busy one last: it lands in the batch, not among the first two that go alone.
    const order = [...others, busy];
    const scopes = await Promise.all(order.map(() => stepScope()));
    const settled = await atOnce(
      order.map((w, i) => () => scopes[i]!.resource.runInAsyncScope(() => refreshPayoutTogether(engineCtx(), { payoutId: w.payoutId }))),
    );
    expect(settled.slice(0, 5).map((s) => s.status)).toEqual(others.map(() => "fulfilled"));
    const last = settled[5]!;
    expect(last.status).toBe("rejected");
    expect(last.status === "rejected" && last.reason).toBeInstanceOf(PayoutBusyError);
    for (const [i, w] of others.entries()) {
      const state = await stateOf(w.payoutId, scopes[i]!);
      expect(state.payout).toMatchObject({ tipAmount: 700, amount: 8_700 });
      expect((state.audit as string[]).filter((a) => a.startsWith("payout.amount_adjusted"))).toHaveLength(1);
      expect(state.notedOutboxForeign).toBe(0);
      expect(state.notedOutbox).toEqual(state.outbox);
    }
    expect(await stateOf(busy.payoutId)).toMatchObject({ payout: { status: "processing", refundedAmount: 0 } });
  });
});

// ---------------------------------------------------------------------------------------------
// Lock order: the batch against the other writers

/** Sessions of this test's database waiting for a lock now. */
async function lockWaiters(): Promise<number> {
  const [row] = await db.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
  return row!.n;
}

async function untilWaiters(n: number) {
  for (let i = 0; i < 400; i++) {
    if ((await lockWaiters()) >= n) return;
    await sleep(25);
  }
  throw new Error(`never ${n} lock waiters`);
}

/** A transaction that locks `sql`'s rows and holds them until released. */
function holdLock(lock: (tx: Parameters<Parameters<typeof db.$transaction>[0]>[0]) => Promise<unknown>) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const done = db.$transaction(
    async (tx) => {
      await lock(tx);
      locked();
      await released;
    },
    { maxWait: 10_000, timeout: 30_000 },
  );
  return { isLocked, release, done };
}

/**
 * Three due payouts of one ready provider, created in the order a, b, c (the order an account
 * update walks them, lockBooking one by one), whose bookings' ids sort c < b < a (the order the
 * batch locks them, all in one statement).
 */
async function threeOfOneProvider() {
  const stripeAccountId = h.account();
  const provider = await createProvider({ stripeAccountId, payoutsEnabled: true });
  const base = randomUUID().slice(0, 35);
  const [c, b, a] = ["1", "2", "3"].map((d) => `${base}${d}`);
  const t0 = ago(10 * HOUR).getTime();
  const make = async (id: string, at: number) => {
    const booking = await createBooking({ id, provider, completedAt: new Date(at - 49 * HOUR), providerShare: 8_000 });
    return createPayout({ booking, createdAt: new Date(at), eligibleAt: ago(HOUR) });
  };
  const pa = await make(a!, t0);
  const pb = await make(b!, t0 + 1_000);
  const pc = await make(c!, t0 + 2_000);
  return { stripeAccountId, provider, pa, pb, pc };
}

const isDeadlock = (e: unknown) => /deadlock|40P01/i.test(String((e as { message?: string })?.message ?? e) + JSON.stringify(e ?? null));

describe("lock order against an account update (it locks the provider's bookings one by one, oldest payout first)", () => {
  async function raceWithAccountUpdate(batch: (pa: Payout, pc: Payout) => Promise<unknown>) {
    const { stripeAccountId, pa, pb, pc } = await threeOfOneProvider();
    // Something holds b's booking for a moment (any change to b's payout).
    const hold = holdLock((tx) => tx.$queryRaw`SELECT id FROM "Booking" WHERE id = ${pb.bookingId}::uuid FOR UPDATE`);
    await hold.isLocked;
    // Stripe says the account cannot receive payouts: the update holds a's booking and waits for b's.
    const update = updateProviderAccount(
      { db, actor: { type: "webhook", id: "stripe", label: "Stripe" }, clock: h.clock },
      { stripeAccountId, payoutsEnabled: false, transfersActive: false, stateAt: h.clock.now() },
    );
    await untilWaiters(1);
    // The batch locks c's booking, and passes a's over (SKIP LOCKED): it waits for nothing. (Before, it
    // waited for a's, and the account update, waiting for b's and then for c's, closed the cycle.)
    const together = batch(pa, pc);
    await Promise.race([untilWaiters(2).catch(() => undefined), together.catch(() => undefined)]);
    // Past deadlock_timeout (1 s): the batch's own deadlock check has run (no cycle yet).
    await sleep(1_500);
    hold.release();
    const [u, t] = await Promise.allSettled([update, together]);
    await hold.done;
    return { update: u, together: t, pa, pb, pc };
  }

  it("control: claims made alone never deadlock with it", async () => {
    const { update, together } = await raceWithAccountUpdate((pa, pc) =>
      Promise.all([claimTransfer(engineCtx(), { payoutId: pc.id }), claimTransfer(engineCtx(), { payoutId: pa.id })]),
    );
    expect(update.status).toBe("fulfilled");
    expect(together.status).toBe("fulfilled");
  });

  it("claimTransfers passes over the booking an account update holds (that payout goes alone): neither deadlocks", async () => {
    const { update, together } = await raceWithAccountUpdate((pa, pc) =>
      claimTransfers(
        db,
        [pc, pa].map((p) => ({ context: engineCtx(), input: { payoutId: p.id } })),
        [new AsyncResource("x"), new AsyncResource("x")],
      ),
    );
    const outcome = (s: PromiseSettledResult<unknown>) =>
      s.status === "fulfilled" ? "fulfilled" : isDeadlock(s.reason) ? "deadlock" : String(s.reason);
    expect({ update: outcome(update), batch: outcome(together) }).toEqual({ update: "fulfilled", batch: "fulfilled" });
    // c claimed in the batch; a, whose booking the update held, left to go alone.
    const results = (together as PromiseFulfilledResult<unknown[]>).value;
    expect(results[0]).toMatchObject({ kind: "claimed" });
    expect(results[1]).toBe(GO_ALONE);
  });

  it("through the production front (claimTogether, two claims of other payouts in flight): neither deadlocks, every claim ends", async () => {
    const others = [await world(), await world()];
    const { update, together } = await raceWithAccountUpdate(async (pa, pc) => {
      // The first two calls go alone (two flushes in flight); c and a wait for them and go together.
      const calls = [...others.map((w) => w.payoutId), pc.id, pa.id].map((payoutId) => claimTogether(engineCtx(), { payoutId }));
      return Promise.all(calls);
    });
    const outcome = (s: PromiseSettledResult<unknown>) =>
      s.status === "fulfilled" ? "fulfilled" : isDeadlock(s.reason) ? "deadlock" : String(s.reason);
    expect({ update: outcome(update), claims: outcome(together) }).toEqual({ update: "fulfilled", claims: "fulfilled" });
  });

  it("refreshPayouts (lockBookingsOfPayouts) passes over it the same way: neither deadlocks", async () => {
    const { update, together } = await raceWithAccountUpdate((pa, pc) =>
      refreshPayouts(
        db,
        [pc, pa].map((p) => ({ context: engineCtx(), payoutId: p.id })),
        [new AsyncResource("x"), new AsyncResource("x")],
      ),
    );
    const outcome = (s: PromiseSettledResult<unknown>) =>
      s.status === "fulfilled" ? "fulfilled" : isDeadlock(s.reason) ? "deadlock" : String(s.reason);
    expect({ update: outcome(update), batch: outcome(together) }).toEqual({ update: "fulfilled", batch: "fulfilled" });
  });
});

describe("lock order of the provider debts between two batches (two flushes in flight, or two processes)", () => {
  it("two claim batches with payouts of two indebted providers in opposite member order take the debts in one order (inProviderOrder): no deadlock", async () => {
    const x = await providerWithDebt(1_000);
    const y = await providerWithDebt(1_000);
    const [x1, x2, y1, y2] = [
      await world({ provider: x.provider }),
      await world({ provider: x.provider }),
      await world({ provider: y.provider }),
      await world({ provider: y.provider }),
    ];
    // Something holds x's debt a moment (a waive, a forgiven refund).
    const hold = holdLock((tx) => tx.$queryRaw`SELECT id FROM "ProviderDebt" WHERE id = ${x.debt.id}::uuid FOR UPDATE`);
    await hold.isLocked;
    const batch = (ws: TWorld[]) =>
      claimTransfers(
        db,
        ws.map((w) => ({ context: engineCtx(), input: { payoutId: w.payoutId } })),
        ws.map(() => new AsyncResource("x")),
      );
    // Batch 1 claims x1 first: waits for x's debt. Batch 2 claims y2 first (takes y's debt), then waits for x's.
    const first = batch([x1!, y1!]);
    await untilWaiters(1);
    const second = batch([y2!, x2!]);
    await untilWaiters(2);
    hold.release();
    const settled = await Promise.allSettled([first, second]);
    await hold.done;
    // Alone, each claim takes one provider's debts and nothing after: no cycle.
    expect(settled.map((s) => (s.status === "fulfilled" ? "fulfilled" : isDeadlock(s.reason) ? "deadlock" : String(s.reason)))).toEqual([
      "fulfilled",
      "fulfilled",
    ]);
  });
});
