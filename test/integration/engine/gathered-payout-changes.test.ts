// Issue 13: a batch of the transfer step writes its members' payout changes (the claim; a plain
// success's transfers on its legs and its change to transferred) in one statement each for the
// batch (changePayoutGathered, gathered-leg-writes.ts), instead of one per member. Counted here by
// wrapping pg's Client#query (the counts are the same on any machine), with what each member
// sees: its row, its audit entries in order, its platform event with its transfer, noted in its
// own scope. And what the gathering refuses: a change at a stale version (nothing written), a
// second change of one payout, a change made at once while the payout's legs wait to be written.
import { randomUUID } from "node:crypto";

import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Payout } from "@/generated/prisma/client";
import { ENGINE_ACTOR, type TServiceContext } from "@/lib/context";
import { db } from "@/lib/db";
import { transaction } from "@/lib/direct-sql";
import { readAttemptFacts } from "@/lib/payouts/attempt-facts";
import { changePayout, changePayoutGathered, gatheredPayoutChanges, PayoutVersionConflictError } from "@/lib/payouts/change-payout";
import { gatheredLegWrites } from "@/lib/payouts/gathered-leg-writes";
import { claimTransfers } from "@/lib/payouts/transfer-claim";
import { executeTransfer } from "@/lib/payouts/transfer-execute";
import { prepareFunding } from "@/lib/payouts/transfer-funding";
import { recordTransferOutcomes } from "@/lib/payouts/transfer-outcome";
import type { TClaim, TTransferOutcome } from "@/lib/payouts/transfer-types";

import { engineHarness, HOUR, payoutOf } from "../../support/engine";
import { createPayout, createPayoutTransfer, inBatch } from "../../support/factories";
import { stepScope, type TStepScope } from "../../support/step-scope";

const h = engineHarness();

type TQueryFn = (...args: unknown[]) => unknown;
const sent: string[] = [];
let counting = false;
const originalQuery = pg.Client.prototype.query as unknown as TQueryFn;

beforeAll(async () => {
  (pg.Client.prototype as unknown as { query: TQueryFn }).query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === "string" ? first : (first as { text?: string } | undefined)?.text;
    if (counting && text) sent.push(text.replace(/\s+/g, " ").trim());
    return originalQuery.apply(this, args);
  };
  await db.platformWebhookEndpoint.create({ data: { url: "http://127.0.0.1:9/gathered", eventTypes: [], source: "admin" } });
});

afterAll(() => {
  (pg.Client.prototype as unknown as { query: TQueryFn }).query = originalQuery;
});

async function counted<T>(work: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  sent.length = 0;
  counting = true;
  try {
    const result = await work();
    return { result, statements: [...sent] };
  } finally {
    counting = false;
  }
}

const startsWith = (statements: readonly string[], prefix: string) => statements.filter((s) => s.startsWith(prefix)).length;

const run = () => `run_${randomUUID().slice(0, 8)}`;
const engineCtx = (runId: string): TServiceContext => ({ ...h.ctx(), runId });

/** Due payouts of `count` new ready providers, their funding learnt (what transferPayout does before its claim). */
async function duePayouts(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { bookingId } = await h.completeBooking({ providerReady: true, completedAt: new Date(h.clock.now().getTime() - 49 * HOUR) });
    const payout = await payoutOf(bookingId);
    expect(await prepareFunding(h.ctx(), h.stripe, { payoutId: payout.id }, await readAttemptFacts(db, payout.id))).toBeNull();
    ids.push(payout.id);
  }
  return ids;
}

describe("a claim batch and a record batch of four plain payouts", () => {
  let ids: string[] = [];
  const runs = new Map<string, string>();
  let claimStatements: string[] = [];
  let recordStatements: string[] = [];
  let claims: TClaim[] = [];
  let recordScopes: TStepScope[] = [];

  beforeAll(async () => {
    ids = await duePayouts(4);
    for (const id of ids) runs.set(id, run());
    const claimScopes = await Promise.all(ids.map(() => stepScope()));
    const claimed = await counted(() =>
      claimTransfers(
        db,
        ids.map((payoutId) => ({ context: engineCtx(runs.get(payoutId)!), input: { payoutId } })),
        claimScopes.map((s) => s.resource),
      ),
    );
    claimStatements = claimed.statements;
    claims = claimed.result.map((r) => {
      const result = inBatch(r);
      if (result.kind !== "claimed") throw new Error(`not claimed: ${JSON.stringify(result)}`);
      return result.claim;
    });
    const outcomes: TTransferOutcome[] = [];
    for (const claim of claims) outcomes.push(await executeTransfer(engineCtx(runs.get(claim.payoutId)!), h.stripe, claim));
    recordScopes = await Promise.all(ids.map(() => stepScope()));
    const recorded = await counted(() =>
      recordTransferOutcomes(
        db,
        claims.map((claim, i) => ({ context: engineCtx(runs.get(claim.payoutId)!), claim, outcome: outcomes[i]! })),
        recordScopes.map((s) => s.resource),
      ),
    );
    recordStatements = recorded.statements;
    for (const result of recorded.result) expect(inBatch(result).kind).toBe("transferred");
  }, 60_000);

  it("the claim batch writes the four claims in one statement, and no claim alone", () => {
    expect(startsWith(claimStatements, 'WITH updated AS ( UPDATE "Payout" p SET')).toBe(1);
    expect(startsWith(claimStatements, 'WITH updated AS ( UPDATE "Payout" SET')).toBe(0);
  });

  it("the record batch writes the four legs in one statement, then the four payouts in one", () => {
    const legs = recordStatements.findIndex((s) => s.startsWith('UPDATE "PayoutTransfer" t SET'));
    const payouts = recordStatements.findIndex((s) => s.startsWith('WITH updated AS ( UPDATE "Payout" p SET'));
    expect(startsWith(recordStatements, 'UPDATE "PayoutTransfer"')).toBe(1);
    expect(startsWith(recordStatements, 'WITH updated AS ( UPDATE "Payout"')).toBe(1);
    expect(legs).toBeGreaterThanOrEqual(0);
    expect(payouts).toBeGreaterThan(legs);
  });

  it("each payout is transferred with its own transfer, its leg paid by it, audited in order", async () => {
    for (const id of ids) {
      const payout = await db.payout.findUniqueOrThrow({ where: { id } });
      const [transfer] = h.transfersFor(id);
      expect(payout).toMatchObject({ status: "transferred", stripeTransferId: transfer!.id, attempts: 1, processingStartedAt: null });
      const legs = await db.payoutTransfer.findMany({ where: { payoutId: id } });
      expect(legs.map((l) => [l.status, l.stripeTransferId])).toEqual([["succeeded", transfer!.id]]);
      const attempts = await db.transferAttempt.findMany({ where: { payoutId: id } });
      expect(attempts.map((a) => [a.status, a.stripeTransferId, a.runId])).toEqual([["succeeded", transfer!.id, runs.get(id)]]);
      const audit = await db.auditLog.findMany({ where: { entityId: id }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
      expect(audit.map((a) => a.action)).toEqual(["payout.scheduled", "payout.transfer_started", "payout.transferred"]);
      const transferred = audit[2]!;
      expect(transferred.before).toMatchObject({ status: "processing", amount: payout.amount });
      expect(transferred.after).toMatchObject({ status: "transferred", amount: payout.amount, stripeTransferId: transfer!.id });
      expect(transferred.runId).toBe(runs.get(id));
    }
  });

  it("each payout's platform event names its transfer, follows its earlier ones, and is noted in its own member's scope", async () => {
    for (const [i, id] of ids.entries()) {
      const events = await db.platformWebhookEvent.findMany({ where: { subjectId: id }, orderBy: { sequence: "asc" } });
      expect(events.map((e) => [e.type, e.sequence])).toEqual([
        ["payout.scheduled", 1],
        ["payout.transferred", 2],
      ]);
      const [transfer] = h.transfersFor(id);
      expect(events[1]!.payload).toMatchObject({
        payoutId: id,
        status: "transferred",
        previousStatus: "processing",
        sequence: 2,
        stripe: { transferId: transfer!.id, transferIds: [transfer!.id] },
      });
      expect(recordScopes[i]!.platformNoted()).toEqual([events[1]!.id]);
    }
  });
});

describe("what the gathering refuses", () => {
  const claimChange = (payout: Payout) =>
    ({
      event: "claim",
      data: { attempts: payout.attempts + 1, processingStartedAt: new Date() },
      audit: { actor: ENGINE_ACTOR, action: "payout.transfer_started" },
    }) as const;

  it("a change at a stale version rejects the whole flush: nothing of any member is written", async () => {
    const fresh = await createPayout({ eligibleAt: new Date(Date.now() - HOUR) });
    const stale = await createPayout({ eligibleAt: new Date(Date.now() - HOUR) });
    await db.payout.update({ where: { id: stale.id }, data: { version: { increment: 1 } } });
    const error = await transaction(db, (tx) =>
      gatheredPayoutChanges.around(tx, async () => {
        await changePayoutGathered(tx, fresh, claimChange(fresh));
        await changePayoutGathered(tx, stale, claimChange(stale));
      }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayoutVersionConflictError);
    expect(error).toMatchObject({ details: { payoutId: stale.id, expectedVersion: stale.version, actualVersion: stale.version + 1 } });
    expect(await db.payout.findUniqueOrThrow({ where: { id: fresh.id } })).toMatchObject({ status: "scheduled", version: fresh.version });
    expect(await db.auditLog.count({ where: { entityId: { in: [fresh.id, stale.id] } } })).toBe(0);
  });

  it("the same statement, at the versions read, writes both with their entries", async () => {
    const a = await createPayout({ eligibleAt: new Date(Date.now() - HOUR) });
    const b = await createPayout({ eligibleAt: new Date(Date.now() - HOUR) });
    const predicted = await transaction(db, (tx) =>
      gatheredPayoutChanges.around(tx, async () => [
        await changePayoutGathered(tx, a, claimChange(a)),
        await changePayoutGathered(tx, b, claimChange(b)),
      ]),
    );
    for (const row of predicted) {
      expect(await db.payout.findUniqueOrThrow({ where: { id: row.id } })).toEqual(row);
      expect(await db.auditLog.count({ where: { entityId: row.id, action: "payout.transfer_started" } })).toBe(1);
    }
  });

  it("a second change of one payout in one batch throws (its version would be the first's, unwritten)", async () => {
    const payout = await createPayout({ eligibleAt: new Date(Date.now() - HOUR) });
    const error = await transaction(db, (tx) =>
      gatheredPayoutChanges.around(tx, async () => {
        const claimed = await changePayoutGathered(tx, payout, claimChange(payout));
        await changePayoutGathered(tx, claimed, {
          data: { lastError: "again" },
          audit: { actor: ENGINE_ACTOR, action: "payout.transfer_attempt_failed" },
        });
      }),
    ).catch((e: unknown) => e);
    expect(String(error)).toContain("a second change gathered in one batch");
    expect(await db.payout.findUniqueOrThrow({ where: { id: payout.id } })).toMatchObject({ status: "scheduled", version: payout.version });
  });

  it("outside a batch, changePayoutGathered changes the payout at once", async () => {
    const payout = await createPayout({ eligibleAt: new Date(Date.now() - HOUR) });
    const { statements } = await counted(() => transaction(db, (tx) => changePayoutGathered(tx, payout, claimChange(payout))));
    expect(startsWith(statements, 'WITH updated AS ( UPDATE "Payout" SET')).toBe(1);
    expect(await db.payout.findUniqueOrThrow({ where: { id: payout.id } })).toMatchObject({ status: "processing" });
  });

  it("a change made at once while the payout's leg writes wait throws, before writing anything", async () => {
    const payout = await createPayout({ status: "processing", eligibleAt: new Date(Date.now() - HOUR) });
    const leg = await createPayoutTransfer(payout, 1);
    const error = await transaction(db, (tx) =>
      gatheredLegWrites.around(tx, async () => {
        gatheredLegWrites.of(tx)!.push({
          id: leg.id,
          payoutId: payout.id,
          stripeTransferId: `tr_${randomUUID().slice(0, 8)}`,
          destinationPaymentId: null,
          transferredAt: new Date(),
          updatedAt: new Date(),
        });
        await changePayout(tx, payout, {
          data: { lastError: "x" },
          audit: { actor: ENGINE_ACTOR, action: "payout.transfer_attempt_failed" },
        });
      }),
    ).catch((e: unknown) => e);
    expect(String(error)).toContain("while its leg writes wait");
    expect(await db.payoutTransfer.findUniqueOrThrow({ where: { id: leg.id } })).toMatchObject({
      status: "pending",
      stripeTransferId: null,
    });
  });

  it("a leg no longer pending when the batch writes its transfer rejects the flush", async () => {
    const payout = await createPayout({ status: "processing", eligibleAt: new Date(Date.now() - HOUR) });
    const leg = await createPayoutTransfer(payout, 1);
    await db.payoutTransfer.update({ where: { id: leg.id }, data: { status: "succeeded", stripeTransferId: "tr_earlier" } });
    const error = await transaction(db, (tx) =>
      gatheredLegWrites.around(tx, async () => {
        gatheredLegWrites.of(tx)!.push({
          id: leg.id,
          payoutId: payout.id,
          stripeTransferId: "tr_later",
          destinationPaymentId: null,
          transferredAt: new Date(),
          updatedAt: new Date(),
        });
      }),
    ).catch((e: unknown) => e);
    expect(String(error)).toContain("Writing 1 transfers on their legs changed 0");
    expect(await db.payoutTransfer.findUniqueOrThrow({ where: { id: leg.id } })).toMatchObject({ stripeTransferId: "tr_earlier" });
  });
});
