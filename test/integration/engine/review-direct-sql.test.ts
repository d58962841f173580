// Adversarial review of lib/direct-sql.ts (raw statements sent to pg on the connection of Prisma's
// interactive transaction) and of the claim batch's prefetched reads (claimTransfers:
// readLegsWithPlanFactsOfMany, providersWhoseDebtsMayBeTaken → claimLocked's `noTakeableDebt` and `plan`).
// The single-payout claimTransfer, done one by one, is the oracle of the batch; `$queryRaw` and
// Prisma's own transaction handling are the oracle of the direct path.
import { AsyncResource } from "node:async_hooks";
import { randomUUID } from "node:crypto";

import pg from "pg";
import { describe, expect, it } from "vitest";

import { Prisma } from "@/generated/prisma/client";
import { joinTransaction } from "@/lib/approvals/join-transaction";
import { ENGINE_ACTOR, type TServiceContext } from "@/lib/context";
import { db } from "@/lib/db";
import { sendsDirectly, sqlExecute, sqlRows, transaction } from "@/lib/direct-sql";
import { changePayout, lockPayout } from "@/lib/payouts/change-payout";
import { claimTransfer, claimTransfers } from "@/lib/payouts/transfer-claim";
import { PROCESSING_LEASE_MS, type TClaimResult } from "@/lib/payouts/transfer-types";

import { engineHarness, HOUR, payoutOf } from "../../support/engine";
import { inBatch } from "../../support/factories";
import { newProvider, type TProviderInput } from "../../support/provider-debts";

const h = engineHarness();

const uid = () => randomUUID().replaceAll("-", "").slice(0, 12);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const backend = Prisma.sql`SELECT pg_backend_pid() AS pid, txid_current() AS xid`;
type TBackend = { pid: number; xid: bigint };

// ---------------------------------------------------------------------------------------------
// The direct path: which connection a statement runs on

describe("direct statements: never on a connection other than their transaction's", () => {
  it("a nested transaction (tx.$transaction) rolled back to its savepoint leaves the outer transaction's direct statements running", async () => {
    await db.$executeRaw`CREATE TABLE IF NOT EXISTS review_nested_rollback (n int)`;
    await transaction(db, async (tx) => {
      await sqlExecute(tx, Prisma.sql`INSERT INTO review_nested_rollback VALUES (1)`);
      const inner = await tx
        .$transaction(async (nested) => {
          await nested.$executeRaw`INSERT INTO review_nested_rollback VALUES (2)`;
          throw new Error("roll the nested one back");
        })
        .catch((error: Error) => error.message);
      expect(inner).toBe("roll the nested one back");
      // Prisma's own statements still run in the outer transaction (only its savepoint was rolled back) …
      expect(await tx.$queryRaw`SELECT n FROM review_nested_rollback ORDER BY n`).toEqual([{ n: 1 }]);
      // … and so must the direct ones: the outer transaction did not end.
      expect(await sqlRows(tx, Prisma.sql`SELECT n FROM review_nested_rollback ORDER BY n`)).toEqual([{ n: 1 }]);
      await sqlExecute(tx, Prisma.sql`INSERT INTO review_nested_rollback VALUES (3)`);
    });
    expect(await db.$queryRaw`SELECT n FROM review_nested_rollback ORDER BY n`).toEqual([{ n: 1 }, { n: 3 }]);
  });

  it("a nested transaction that commits (RELEASE SAVEPOINT) keeps the outer one's connection open, and its statements run there", async () => {
    await transaction(db, async (tx) => {
      const [outer] = await sqlRows<TBackend[]>(tx, backend);
      const inner = await tx.$transaction(async (nested) => (await sqlRows<TBackend[]>(nested, backend))[0]);
      expect(inner).toEqual(outer);
      expect((await sqlRows<TBackend[]>(tx, backend))[0]).toEqual(outer);
    });
  });

  it("every transaction gives a new tx: one opened with db.$transaction after a tied one is not taken for it", async () => {
    const seen: object[] = [];
    await transaction(db, async (tx) => {
      seen.push(tx);
    });
    await db.$transaction(async (tx) => {
      expect(seen[0] === tx).toBe(false);
      expect(sendsDirectly(tx)).toBe(false);
      const [direct] = await sqlRows<TBackend[]>(tx, backend);
      expect(direct).toEqual((await tx.$queryRaw<TBackend[]>(backend))[0]);
    });
  });

  it("a stand-in joined to the caller's transaction (joinTransaction) opens no slot that a transaction started inside it could claim", async () => {
    await transaction(db, async (tx) => {
      const [outer] = await sqlRows<TBackend[]>(tx, backend);
      await transaction(joinTransaction(tx), async (joined) => {
        expect((await sqlRows<TBackend[]>(joined, backend))[0]).toEqual(outer);
        // A real transaction started in the stand-in's work: its own connection, through Prisma.
        await db.$transaction(async (other) => {
          const [mine] = await sqlRows<TBackend[]>(other, backend);
          expect(mine!.pid).not.toBe(outer!.pid);
          expect(mine).toEqual((await other.$queryRaw<TBackend[]>(backend))[0]);
        });
        expect((await sqlRows<TBackend[]>(joined, backend))[0]).toEqual(outer);
      });
      expect((await sqlRows<TBackend[]>(tx, backend))[0]).toEqual(outer);
    });
  });

  it("members run in their callers' async scopes (together.ts): a statement goes to the tx it is given, a transaction opened there is its own", async () => {
    // A scope made inside another transaction's work (its slot claimed), used by a second transaction.
    let scope!: AsyncResource;
    let first!: TBackend;
    const gate = Promise.withResolvers<void>();
    const firstDone = transaction(db, async (tx) => {
      first = (await sqlRows<TBackend[]>(tx, backend))[0]!;
      scope = new AsyncResource("caller");
      await gate.promise;
    });
    while (!scope) await sleep(5);
    await transaction(db, async (tx) => {
      const [mine] = await sqlRows<TBackend[]>(tx, backend);
      const inScope = await scope.runInAsyncScope(() => sqlRows<TBackend[]>(tx, backend));
      expect(inScope[0]).toEqual(mine);
      const opened = await scope.runInAsyncScope(() => transaction(db, async (t) => (await sqlRows<TBackend[]>(t, backend))[0]!));
      expect(opened.pid).not.toBe(mine!.pid);
      expect(opened.pid).not.toBe(first.pid);
    });
    gate.resolve();
    await firstDone;
  });

  it("a transaction whose start waits past maxWait (pool exhausted): nothing of it runs, the others keep their connections", async () => {
    await db.$executeRaw`CREATE TABLE IF NOT EXISTS review_max_wait (n int)`;
    const gate = Promise.withResolvers<void>();
    let holding = 0;
    // The client's pool has 10 connections: hold them all.
    const holders = Array.from({ length: 10 }, (_, i) =>
      transaction(
        db,
        async (tx) => {
          const [before] = await sqlRows<TBackend[]>(tx, backend);
          holding++;
          await gate.promise;
          await sqlExecute(tx, Prisma.sql`INSERT INTO review_max_wait VALUES (${100 + i})`);
          const [after] = await sqlRows<TBackend[]>(tx, backend);
          expect(after).toEqual(before);
          expect(after).toEqual((await tx.$queryRaw<TBackend[]>(backend))[0]);
        },
        { maxWait: 5_000, timeout: 20_000 },
      ),
    );
    while (holding < 10) await sleep(5);
    let ran = false;
    const late = await transaction(
      db,
      async (tx) => {
        ran = true;
        await sqlExecute(tx, Prisma.sql`INSERT INTO review_max_wait VALUES (1)`);
      },
      { maxWait: 100, timeout: 5_000 },
    ).catch((error: { code?: string }) => error.code ?? String(error));
    expect(late).toBe("P2028");
    gate.resolve();
    await Promise.all(holders);
    await sleep(100);
    expect(ran).toBe(false);
    const rows = await db.$queryRaw<{ n: number }[]>`SELECT n FROM review_max_wait ORDER BY n`;
    expect(rows.map((r) => r.n)).toEqual(Array.from({ length: 10 }, (_, i) => 100 + i));
    // Every pooled connection is clean afterwards (none left inside a transaction).
    await Promise.all(
      Array.from({ length: 10 }, () =>
        transaction(db, async (tx) => {
          const [direct] = await sqlRows<TBackend[]>(tx, backend);
          expect(direct).toEqual((await tx.$queryRaw<TBackend[]>(backend))[0]);
        }),
      ),
    );
  });

  it("a transaction that times out while its direct statement waits for a lock: the statement's write is rolled back, the next fails", async () => {
    await db.$executeRaw`CREATE TABLE IF NOT EXISTS review_timeout_lock (id int PRIMARY KEY, n int)`;
    await db.$executeRaw`INSERT INTO review_timeout_lock VALUES (1, 0) ON CONFLICT (id) DO UPDATE SET n = 0`;
    const holder = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT * FROM review_timeout_lock WHERE id = 1 FOR UPDATE");
      const steps: string[] = [];
      const outcome = transaction(
        db,
        async (tx) => {
          await sqlExecute(tx, Prisma.sql`UPDATE review_timeout_lock SET n = n + 1 WHERE id = 1`);
          steps.push("updated");
          await sqlExecute(tx, Prisma.sql`INSERT INTO review_timeout_lock VALUES (2, 2)`);
          steps.push("inserted");
        },
        { timeout: 200 },
      ).catch((error: { code?: string }) => error.code ?? String(error));
      await sleep(600);
      await holder.query("COMMIT");
      expect(await outcome).toBe("P2028");
      await sleep(100);
      expect(steps).not.toContain("inserted");
      expect(await db.$queryRaw`SELECT id, n FROM review_timeout_lock ORDER BY id`).toEqual([{ id: 1, n: 0 }]);
    } finally {
      await holder.end();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The claim batch against claimTransfer one by one

const engineCtx = (runId = `run_${uid()}`): TServiceContext => ({ db, actor: ENGINE_ACTOR, clock: h.clock, runId });
const ago = (ms: number) => new Date(h.clock.now().getTime() - ms);

/** A booking of `provider` completed `hoursAgo` ago (49: its payout due now): its payout. */
async function dueBooking(provider: TProviderInput, hoursAgo = 49) {
  const { bookingId } = await h.completeBooking({
    providerReady: true,
    completedAt: ago(hoursAgo * HOUR),
    provider,
    stripeAccountId: provider.stripeAccountId,
  });
  return payoutOf(bookingId);
}

async function debtOn(payoutId: string, amount: number, createdAt = ago(60_000)) {
  const payout = await db.payout.findUniqueOrThrow({ where: { id: payoutId } });
  return db.providerDebt.create({
    data: {
      providerId: payout.providerId,
      payoutId: payout.id,
      amount,
      currency: payout.currency,
      reason: "transfer reversal failed: balance_insufficient",
      createdAt,
    },
  });
}

function normClaim(r: TClaimResult) {
  if (r.kind === "skipped") return { kind: r.kind, reason: r.reason, status: r.status };
  const c = r.claim;
  return {
    kind: r.kind,
    attemptNumber: c.attemptNumber,
    amount: c.amount,
    amountVersion: c.amountVersion,
    legs: c.legs.map((l) => ({ leg: l.leg, amount: l.amount, v: l.amountVersion })),
    lookupFirst: c.lookupFirst,
  };
}

async function moneyOf(payoutId: string) {
  const p = await db.payout.findUniqueOrThrow({ where: { id: payoutId } });
  const recoveries = await db.debtRecovery.findMany({ where: { payoutId }, orderBy: { amount: "asc" } });
  const legs = await db.payoutTransfer.findMany({ where: { payoutId }, orderBy: [{ amountVersion: "asc" }, { leg: "asc" }] });
  const attempts = await db.transferAttempt.findMany({ where: { payoutId }, orderBy: { attemptNumber: "asc" } });
  return {
    status: p.status,
    amount: p.amount,
    amountVersion: p.amountVersion,
    debtRecoveredAmount: p.debtRecoveredAmount,
    recoveries: recoveries.map((r) => `${r.status} ${r.amount}`),
    legs: legs.map((l) => `${l.status} v${l.amountVersion} #${l.leg} ${l.amount}`),
    attempts: attempts.map((a) => `${a.attemptNumber} ${a.status} ${a.amount}`),
  };
}

async function debtState(id: string) {
  const d = await db.providerDebt.findUniqueOrThrow({ where: { id } });
  const recoveries = await db.debtRecovery.findMany({ where: { debtId: id, status: { in: ["reserved", "applied"] } } });
  // Conservation: what the debt counts as recovered is what its live recoveries hold.
  expect(d.recoveredAmount, `debt ${id} recoveredAmount against its recoveries`).toBe(recoveries.reduce((s, r) => s + r.amount, 0));
  return { status: d.status, amount: d.amount, recoveredAmount: d.recoveredAmount };
}

/**
 * A provider whose one open debt (3 000) is wholly reserved by payout X, which a stuck-claim sweep
 * put back to scheduled (unclaim_to_scheduled keeps the reservation), then `trigger` on X's booking
 * (not synced yet), so that X's next claim puts it where its amount may change and releases the
 * reservation; and Y, a due payout of the same provider with nothing planned.
 */
async function releasingWorld(trigger: "dispute" | "cancelled" | "none") {
  const provider = newProvider(h);
  const earlier = await dueBooking(provider, 100);
  const debt = await debtOn(earlier.id, 3_000);
  const x = await dueBooking(provider);
  const claimed = await claimTransfer(engineCtx(), { payoutId: x.id });
  expect(claimed).toMatchObject({ kind: "claimed", claim: { amount: 5_000 } });
  await db.$transaction(async (tx) => {
    const locked = await lockPayout(tx, x.id);
    await changePayout(tx, locked, {
      event: "unclaim_to_scheduled",
      data: { processingStartedAt: null },
      audit: { actor: ENGINE_ACTOR, action: "payout.transfer_rescheduled", reason: "stuck in processing; no transfer found at Stripe" },
    });
  });
  await db.transferAttempt.updateMany({ where: { payoutId: x.id, status: "started" }, data: { status: "failed", retryable: true } });
  expect(await db.payout.findUniqueOrThrow({ where: { id: x.id } })).toMatchObject({ status: "scheduled", debtRecoveredAmount: 3_000 });
  expect(await debtState(debt.id)).toMatchObject({ recoveredAmount: 3_000, status: "open" });
  if (trigger === "dispute") {
    await db.dispute.create({
      data: { externalId: `dsp_${uid()}`, bookingId: x.bookingId, currency: "USD", openedAt: ago(HOUR), status: "open" },
    });
  } else if (trigger === "cancelled") {
    await db.booking.update({ where: { id: x.bookingId }, data: { cancelledAt: ago(HOUR), cancellationReason: "customer cancelled" } });
  }
  const y = await dueBooking(provider);
  return { debt, x, y };
}

describe("claimTransfers against claimTransfer one by one: the prefetched debt hint and plan", () => {
  for (const trigger of ["dispute", "cancelled"] as const) {
    it(`a member whose claim releases its provider's only reservation (${trigger}) before another member of that provider: the second takes the debt, as alone`, async () => {
      const A = await releasingWorld(trigger);
      const B = await releasingWorld(trigger);
      const alone = [await claimTransfer(engineCtx(), { payoutId: A.x.id }), await claimTransfer(engineCtx(), { payoutId: A.y.id })];
      const batch = await claimTransfers(
        db,
        [B.x, B.y].map((p) => ({ context: engineCtx(), input: { payoutId: p.id } })),
        [new AsyncResource("x"), new AsyncResource("y")],
      );
      // X is held (or cancelled), its reservation released; Y alone then nets the 3 000 freed.
      expect(alone.map(normClaim)[1]).toMatchObject({ kind: "claimed", amount: 5_000 });
      expect({
        results: batch.map((r) => normClaim(inBatch(r))),
        x: await moneyOf(B.x.id),
        y: await moneyOf(B.y.id),
        debt: await debtState(B.debt.id),
      }).toEqual({
        results: alone.map(normClaim),
        x: await moneyOf(A.x.id),
        y: await moneyOf(A.y.id),
        debt: await debtState(A.debt.id),
      });
    });
  }

  it("a put-back claim keeping its reservation and its legs, re-claimed in a batch with another payout of its provider: each as alone", async () => {
    const A = await releasingWorld("none");
    const B = await releasingWorld("none");
    const alone = [await claimTransfer(engineCtx(), { payoutId: A.x.id }), await claimTransfer(engineCtx(), { payoutId: A.y.id })];
    const batch = await claimTransfers(
      db,
      [B.x, B.y].map((p) => ({ context: engineCtx(), input: { payoutId: p.id } })),
      [new AsyncResource("x"), new AsyncResource("y")],
    );
    expect(alone.map(normClaim)[0]).toMatchObject({ kind: "claimed", amount: 5_000, attemptNumber: 2, lookupFirst: true });
    expect({
      results: batch.map((r) => normClaim(inBatch(r))),
      x: await moneyOf(B.x.id),
      y: await moneyOf(B.y.id),
      debt: await debtState(B.debt.id),
    }).toEqual({
      results: alone.map(normClaim),
      x: await moneyOf(A.x.id),
      y: await moneyOf(A.y.id),
      debt: await debtState(A.debt.id),
    });
  });

  it("three payouts of one provider, a debt the first takes wholly and the second in part: each as alone", async () => {
    const worldOf = async () => {
      const provider = newProvider(h);
      const earlier = await dueBooking(provider, 100);
      const debts = [await debtOn(earlier.id, 10_000, ago(120_000)), await debtOn(earlier.id, 2_500, ago(60_000))];
      const payouts = [await dueBooking(provider), await dueBooking(provider), await dueBooking(provider)];
      return { debts, payouts };
    };
    const A = await worldOf();
    const B = await worldOf();
    const alone: TClaimResult[] = [];
    for (const p of A.payouts) alone.push(await claimTransfer(engineCtx(), { payoutId: p.id }));
    const batch = await claimTransfers(
      db,
      B.payouts.map((p) => ({ context: engineCtx(), input: { payoutId: p.id } })),
      B.payouts.map(() => new AsyncResource("m")),
    );
    expect(batch.map((r) => normClaim(inBatch(r)))).toEqual(alone.map(normClaim));
    for (const [i, p] of B.payouts.entries()) expect(await moneyOf(p.id), `payout ${i}`).toEqual(await moneyOf(A.payouts[i]!.id));
    for (const [i, d] of B.debts.entries()) expect(await debtState(d.id), `debt ${i}`).toEqual(await debtState(A.debts[i]!.id));
    // 8 000 applied to debt, then 2 000 + 2 500, the third paid in full (nothing left).
    expect(await debtState(B.debts[0]!.id)).toMatchObject({ recoveredAmount: 10_000 });
    expect(await debtState(B.debts[1]!.id)).toMatchObject({ recoveredAmount: 2_500 });
  });

  it("a debt committed by another transaction after the batch read its hint: not taken by that batch (a timing shift), and nothing is lost or taken twice", async () => {
    // Two providers, each with one due payout; `first` is worked first (inProviderOrder) and has a
    // debt whose row another transaction holds, so the batch waits there after reading its hint.
    const p1 = newProvider(h);
    const p2 = newProvider(h);
    const pay1 = await dueBooking(p1);
    const pay2 = await dueBooking(p2);
    // Payouts not in the batch (not due), for the late debt to name (the batch holds its members' rows).
    const spare = new Map([
      [pay1.id, await dueBooking(p1, 1)],
      [pay2.id, await dueBooking(p2, 1)],
    ]);
    const [first, second] = pay1.providerId < pay2.providerId ? [pay1, pay2] : [pay2, pay1];
    const held = await debtOn(first.id, 1_000);
    const other = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await other.connect();
    try {
      await other.query("BEGIN");
      await other.query(`SELECT id FROM "ProviderDebt" WHERE id = $1 FOR UPDATE`, [held.id]);
      const batch = claimTransfers(
        db,
        [second, first].map((p) => ({ context: engineCtx(), input: { payoutId: p.id } })),
        [new AsyncResource("a"), new AsyncResource("b")],
      );
      // Wait until the batch waits for the debt's lock (its hint is read by then).
      for (let i = 0; i < 200; i++) {
        const { rows } = await other.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if (rows[0]!.n > 0) break;
        await sleep(10);
      }
      const lateDebtId = randomUUID();
      await other.query(
        `INSERT INTO "ProviderDebt" (id, "providerId", "payoutId", amount, currency, reason, "createdAt")
         VALUES ($1, $2, $3, 2000, 'USD', 'transfer reversal failed: balance_insufficient', now())`,
        [lateDebtId, second.providerId, spare.get(second.id)!.id],
      );
      await other.query("COMMIT");
      const results = (await batch).map((r) => normClaim(inBatch(r)));
      expect(results[1]).toMatchObject({ kind: "claimed", amount: 7_000 });
      expect(results[0]).toMatchObject({ kind: "claimed", amount: 8_000 });
      // The late debt is whole and open: the provider's next payout nets it.
      expect(await debtState(lateDebtId)).toEqual({ status: "open", amount: 2_000, recoveredAmount: 0 });
      expect(await debtState(held.id)).toEqual({ status: "open", amount: 1_000, recoveredAmount: 1_000 });
      expect((await moneyOf(second.id)).recoveries).toEqual([]);
      const next = await dueBooking(second === pay1 ? p1 : p2);
      const nextClaim = await claimTransfer(engineCtx(), { payoutId: next.id });
      expect(normClaim(nextClaim)).toMatchObject({ kind: "claimed", amount: 6_000 });
      expect(await debtState(lateDebtId)).toMatchObject({ recoveredAmount: 2_000 });
    } finally {
      await other.end();
    }
  });

  it("a processing member of this very run and a lease-expired one in one batch with a due one: attempts numbered as alone", async () => {
    const worldOf = async () => {
      const provider = newProvider(h);
      const mine = await dueBooking(provider);
      const expired = await dueBooking(provider, 60);
      const fresh = await dueBooking(provider);
      const runId = `run_${uid()}`;
      expect((await claimTransfer(engineCtx(runId), { payoutId: mine.id })).kind).toBe("claimed");
      const early = ago(PROCESSING_LEASE_MS + 60_000);
      const old = await claimTransfer({ ...engineCtx(), clock: { now: () => early } }, { payoutId: expired.id });
      expect(old.kind).toBe("claimed");
      return { runId, payouts: [mine, expired, fresh] };
    };
    const A = await worldOf();
    const B = await worldOf();
    const ctxs = (w: { runId: string }) => [engineCtx(w.runId), engineCtx(), engineCtx()];
    const alone: TClaimResult[] = [];
    for (const [i, p] of A.payouts.entries()) alone.push(await claimTransfer(ctxs(A)[i]!, { payoutId: p.id }));
    const bctx = ctxs(B);
    const batch = await claimTransfers(
      db,
      B.payouts.map((p, i) => ({ context: bctx[i]!, input: { payoutId: p.id } })),
      B.payouts.map(() => new AsyncResource("m")),
    );
    expect(batch.map((r) => normClaim(inBatch(r)))).toEqual(alone.map(normClaim));
    for (const [i, p] of B.payouts.entries()) expect(await moneyOf(p.id), `payout ${i}`).toEqual(await moneyOf(A.payouts[i]!.id));
  });
});
