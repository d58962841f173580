// What recording a transfer attempt's outcome reads in one statement (completion-facts.ts: the
// attempt, the payout's latest attempt, its transfers, its open failure alerts and the tips waiting;
// completeIfPaid takes them), checked against what the separate reads decided, from the cut's
// adversarial review. Two tests here caught a cut it also proposed and that was dropped: reading the
// transfer ids a look-up leaves out when the look-up happens instead of in the claim's transaction
// (a late record of an older attempt could then hide a transfer Stripe made, and a paid payout
// ended failed).
import { randomUUID } from "node:crypto";

import { beforeEach, describe, expect, it } from "vitest";

import type { Payout, PayoutTransfer, TransferAttempt } from "@/generated/prisma/client";
import { ENGINE_ACTOR } from "@/lib/context";
import { db } from "@/lib/db";
import { readCompletionFacts, readOutcomeFacts } from "@/lib/payouts/completion-facts";
import { claimTransfer } from "@/lib/payouts/transfer-claim";
import { executeTransfer } from "@/lib/payouts/transfer-execute";
import { recordTransferOutcome } from "@/lib/payouts/transfer-outcome";
import { transferPayout } from "@/lib/payouts/transfer-payout";
import { PROCESSING_LEASE_MS, type TClaim, type TTransferOutcome } from "@/lib/payouts/transfer-types";

import { engineHarness, HOUR, payoutOf } from "../../support/engine";
import { createPayout, createPayoutTransfer, createTransferAttempt } from "../../support/factories";

const h = engineHarness();

beforeEach(() => {
  h.fake.clearFaults();
});

const ctx = () => ({ db, actor: ENGINE_ACTOR });
const trId = () => `tr_${randomUUID().replaceAll("-", "").slice(0, 20)}`;

const addLeg = createPayoutTransfer;

const attemptOf = (payout: Payout, attemptNumber: number) => createTransferAttempt(payout, attemptNumber);

function claimOf(payout: Payout, attempt: TransferAttempt): TClaim {
  return {
    payoutId: payout.id,
    attemptId: attempt.id,
    attemptNumber: attempt.attemptNumber,
    amount: payout.amount,
    currency: payout.currency,
    amountVersion: payout.amountVersion,
    destination: "acct_review",
    transferGroup: `group_${payout.id}`,
    legs: [],
    recordedTransferIds: [],
    lookupFirst: false,
    lookupOnly: false,
    stopBecause: null,
  };
}

const madeFor = (leg: PayoutTransfer, id = trId(), amount = leg.amount) => ({
  legId: leg.id,
  transfer: { id, amount, currency: leg.currency.toLowerCase(), destination_payment: `py_${randomUUID().slice(0, 12)}` },
  recovered: false,
});

async function processingPayout(providerShare = 10_000) {
  return createPayout({ status: "processing", providerShare, attempts: 1, processingStartedAt: new Date() });
}

const alertFor = (payout: Payout, kind: string) =>
  db.alert.create({
    data: { kind, severity: "critical", title: kind, message: kind, payoutId: payout.id, dedupeKey: `${kind}:${randomUUID()}` },
  });

const audits = (entityId: string, action: string) => db.auditLog.findMany({ where: { entityId, action }, orderBy: { createdAt: "asc" } });

async function dueBooking() {
  const { bookingId } = await h.completeBooking({ providerReady: true });
  h.clock.advance(48 * HOUR + 1000);
  return payoutOf(bookingId);
}

const transferLists = () => h.fake.requests().filter((r) => r.method === "GET" && r.path === "/v1/transfers").length;

describe("executeTransfer's lazily read exclude set", () => {
  it("a first attempt sends its transfer without looking it up at Stripe, and its record says Stripe made it", async () => {
    const payout = await dueBooking();
    const listsBefore = transferLists();
    const result = await transferPayout({ ...h.ctx(), runId: `run_${randomUUID()}` }, h.stripe, { payoutId: payout.id });
    expect(result.kind).toBe("transferred");
    const [transfer] = h.transfersFor(payout.id);
    // HEAD: attempt 1 never lists the transfer group (lookupFirst is false).
    expect(transferLists()).toBe(listsBefore);
    // HEAD: the send's answer is recorded as such, not as "found at Stripe after an earlier attempt".
    const [transferred] = await audits(payout.id, "payout.transferred");
    expect(transferred?.reason).toBe(`Stripe made transfer ${transfer!.id}`);
  });

  it("a first attempt whose transfer Stripe made stays transferred when listing transfers fails", async () => {
    const payout = await dueBooking();
    // Only a look-up lists transfers: HEAD never lists on attempt 1, so this fault never fires there.
    h.fake.failNext({ method: "GET", path: "/v1/transfers" }, { kind: "status", status: 500 }, 5);
    const result = await transferPayout({ ...h.ctx(), runId: `run_${randomUUID()}` }, h.stripe, { payoutId: payout.id });
    expect(h.transfersFor(payout.id)).toHaveLength(1);
    expect(result).toMatchObject({ kind: "transferred", stripeTransferId: h.transfersFor(payout.id)[0]!.id });
    const after = await payoutOf(payout.bookingId);
    expect(after).toMatchObject({ status: "transferred", lastError: null });
    const attempts = await db.transferAttempt.findMany({ where: { payoutId: payout.id } });
    expect(attempts.map((a) => [a.status, a.errorType])).toEqual([["succeeded", null]]);
  });
});

describe("the exclude set read at the look-up instead of at the claim", () => {
  /**
   * Attempt 1 makes its transfer, but its record comes late (its lease ran out); attempt 2 claims the
   * payout (legs: the leg still pending), THEN attempt 1's late outcome records the transfer on the
   * leg, THEN attempt 2 looks its legs up at Stripe. HEAD's exclude set was read with the claim's legs
   * (same transaction), so the look-up found the transfer for the leg.
   */
  async function lateRecordBetweenClaimAndLookUp(exhausted: boolean) {
    const payout = await dueBooking();
    const ctx1 = { ...h.ctx(), runId: `run_${randomUUID()}` };
    const claimed1 = await claimTransfer(ctx1, { payoutId: payout.id });
    if (claimed1.kind !== "claimed") throw new Error(`not claimed: ${JSON.stringify(claimed1)}`);
    const outcome1 = await executeTransfer(ctx1, h.stripe, claimed1.claim);
    expect(outcome1.result.kind).toBe("succeeded");
    const [transfer] = h.transfersFor(payout.id);
    // Attempt 1's run stalls past its lease (and, when `exhausted`, earlier crashed runs used the attempts up).
    h.clock.advance(PROCESSING_LEASE_MS + 60_000);
    if (exhausted) await db.payout.update({ where: { id: payout.id }, data: { attempts: 3 } });
    const ctx2 = { ...h.ctx(), runId: `run_${randomUUID()}` };
    const claimed2 = await claimTransfer(ctx2, { payoutId: payout.id });
    if (claimed2.kind !== "claimed") throw new Error(`not claimed: ${JSON.stringify(claimed2)}`);
    expect(claimed2.claim.legs).toHaveLength(1);
    expect(claimed2.claim.lookupOnly).toBe(exhausted);
    // Attempt 1's late outcome lands now (claim_lost branch: the transfer is recorded on the leg).
    expect(await recordTransferOutcome(ctx1, claimed1.claim, outcome1)).toMatchObject({ kind: "skipped", reason: "claim_lost" });
    const outcome2 = await executeTransfer(ctx2, h.stripe, claimed2.claim);
    const result2 = await recordTransferOutcome(ctx2, claimed2.claim, outcome2);
    return { payout, transfer: transfer!, outcome2, result2 };
  }

  it("attempts used up: the look-up still finds the leg's transfer, and the payout is transferred, not failed", async () => {
    const { payout, transfer, outcome2, result2 } = await lateRecordBetweenClaimAndLookUp(true);
    expect(h.transfersFor(payout.id)).toHaveLength(1);
    // HEAD: made = [the leg's transfer, recovered], result succeeded.
    expect.soft(outcome2.result.kind).toBe("succeeded");
    expect.soft(result2).toMatchObject({ kind: "transferred", stripeTransferId: transfer.id });
    expect.soft(await payoutOf(payout.bookingId)).toMatchObject({ status: "transferred", stripeTransferId: transfer.id });
    expect.soft(await db.alert.count({ where: { payoutId: payout.id, kind: "payout_failed" } })).toBe(0);
  });

  it("attempts left: the transfer is recorded as found at Stripe after an earlier attempt", async () => {
    const { payout, transfer, outcome2, result2 } = await lateRecordBetweenClaimAndLookUp(false);
    expect(h.transfersFor(payout.id)).toHaveLength(1);
    expect(result2).toMatchObject({ kind: "transferred", stripeTransferId: transfer.id });
    // HEAD: the look-up found it (made: recovered), so the payout's entry says so.
    expect.soft(outcome2.made.map((m) => [m.transfer.id, m.recovered])).toEqual([[transfer.id, true]]);
    const [transferred] = await audits(payout.id, "payout.transferred");
    expect(transferred?.reason).toBe("found at Stripe after an earlier attempt");
  });
});

describe("recording an outcome from the one read", () => {
  it("several legs made in one attempt: each audited (the second sees the first made), the first's id on the payout", async () => {
    const payout = await processingPayout(10_000);
    const attempt = await attemptOf(payout, 1);
    const first = await addLeg(payout, 1, { amount: 6_000 });
    const second = await addLeg(payout, 2, { amount: 4_000 });
    const m1 = madeFor(first);
    const m2 = madeFor(second);
    await alertFor(payout, "payout_failed");
    await alertFor(payout, "transfer_outcome_unknown");
    const result = await recordTransferOutcome(ctx(), claimOf(payout, attempt), { made: [m1, m2], result: { kind: "succeeded" } });
    expect(result).toMatchObject({ kind: "transferred", stripeTransferId: m1.transfer.id });
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "transferred", stripeTransferId: m1.transfer.id });
    const made = await audits(payout.id, "payout.transfer_made");
    expect(made.map((a) => (a.after as { stripeTransferId: string }).stripeTransferId)).toEqual([m1.transfer.id, m2.transfer.id]);
    const transferred = await audits(payout.id, "payout.transferred");
    expect(transferred[0]?.reason).toBe(`Stripe made transfer ${m1.transfer.id} and 1 more`);
    expect(await db.alert.count({ where: { payoutId: payout.id, acknowledgedAt: null } })).toBe(0);
    expect(await db.transferAttempt.findUniqueOrThrow({ where: { id: attempt.id } })).toMatchObject({
      status: "succeeded",
      stripeTransferId: m1.transfer.id,
    });
  });

  it("only the second of two legs made: the first was paid before, and counts (audited, transferred)", async () => {
    const payout = await processingPayout(10_000);
    const attempt = await attemptOf(payout, 2);
    const earlier = trId();
    await addLeg(payout, 1, { amount: 6_000, status: "succeeded", stripeTransferId: earlier });
    const second = await addLeg(payout, 2, { amount: 4_000 });
    const result = await recordTransferOutcome(ctx(), claimOf(payout, attempt), { made: [madeFor(second)], result: { kind: "succeeded" } });
    expect(result).toMatchObject({ kind: "transferred", stripeTransferId: earlier });
    expect(await audits(payout.id, "payout.transfer_made")).toHaveLength(1);
  });

  it("a transfer for a replaced (unmade) leg is written, the payout held; 'got no answer' stays open", async () => {
    const payout = await processingPayout(10_000);
    const attempt = await attemptOf(payout, 1);
    const replaced = await addLeg(payout, 1, { status: "superseded", amountVersion: payout.amountVersion - 1 });
    const current = await addLeg(payout, 2);
    const unknown = await alertFor(payout, "transfer_outcome_unknown");
    const failed = await alertFor(payout, "payout_failed");
    const m = madeFor(replaced);
    const result = await recordTransferOutcome(ctx(), claimOf(payout, attempt), { made: [m], result: { kind: "succeeded" } });
    // HEAD: held for review before completeIfPaid, which then returns already_settled (no stripeTransferId).
    expect(result).toMatchObject({ kind: "skipped", reason: "already_settled", status: "on_hold" });
    expect(await db.payoutTransfer.findUniqueOrThrow({ where: { id: replaced.id } })).toMatchObject({
      status: "succeeded",
      stripeTransferId: m.transfer.id,
    });
    expect(await db.payoutTransfer.findUniqueOrThrow({ where: { id: current.id } })).toMatchObject({ status: "pending" });
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "on_hold", holdReason: "review_required" });
    expect(await db.alert.findUniqueOrThrow({ where: { id: unknown.id } })).toMatchObject({ acknowledgedAt: null });
    expect(await db.alert.findUniqueOrThrow({ where: { id: failed.id } })).toMatchObject({ acknowledgedAt: null });
    expect(await audits(payout.id, "payout.transfer_made")).toHaveLength(1);
  });

  it("the sweep's completion: 'got no answer' resolved once the replaced leg is written, kept while another is unmade", async () => {
    // completeIfPaid on readCompletionFacts, as settleProcessingPayout calls it.
    const { completeIfPaid } = await import("@/lib/payouts/transfer-complete");
    const { resolveContext } = await import("@/lib/context");
    for (const [unmadeReplaced, resolved] of [
      [false, true],
      [true, false],
    ] as const) {
      const payout = await processingPayout(10_000);
      await addLeg(payout, 1, { status: "superseded", amountVersion: payout.amountVersion - 1, stripeTransferId: trId() });
      if (unmadeReplaced) await addLeg(payout, 2, { status: "superseded", amountVersion: payout.amountVersion - 1 });
      await addLeg(payout, 3, { status: "succeeded", stripeTransferId: trId() });
      const unknown = await alertFor(payout, "transfer_outcome_unknown");
      const result = await db.$transaction(async (tx) =>
        completeIfPaid(tx, resolveContext(ctx()), payout, 1, null, await readCompletionFacts(tx, payout.id)),
      );
      expect(result.kind).toBe("transferred");
      const after = await db.alert.findUniqueOrThrow({ where: { id: unknown.id } });
      expect(after.acknowledgedAt !== null).toBe(resolved);
    }
  });

  it("a Stripe transfer already held by another payout's leg is 'elsewhere': alerted, nothing written", async () => {
    const payout = await processingPayout();
    const attempt = await attemptOf(payout, 1);
    const leg = await addLeg(payout, 1);
    const other = await processingPayout();
    const held = trId();
    await addLeg(other, 1, { status: "succeeded", stripeTransferId: held });
    const result = await recordTransferOutcome(ctx(), claimOf(payout, attempt), {
      made: [madeFor(leg, held)],
      result: { kind: "succeeded" },
    });
    expect(result).toMatchObject({ kind: "skipped", reason: "nothing_transferred" });
    expect(await db.payoutTransfer.findUniqueOrThrow({ where: { id: leg.id } })).toMatchObject({
      status: "pending",
      stripeTransferId: null,
    });
    expect(await db.alert.count({ where: { dedupeKey: `unexpected_transfer:${held}` } })).toBe(1);
  });

  it("one Stripe transfer reported for two legs: the second sees the first holding it ('elsewhere')", async () => {
    const payout = await processingPayout(10_000);
    const attempt = await attemptOf(payout, 1);
    const first = await addLeg(payout, 1, { amount: 5_000 });
    const second = await addLeg(payout, 2, { amount: 5_000 });
    const id = trId();
    const result = await recordTransferOutcome(ctx(), claimOf(payout, attempt), {
      made: [madeFor(first, id), madeFor(second, id)],
      result: { kind: "succeeded" },
    });
    expect(result).toMatchObject({ kind: "retry", error: "1 transfer(s) of the payout still to make", counted: false });
    expect(await db.payoutTransfer.findUniqueOrThrow({ where: { id: second.id } })).toMatchObject({ status: "pending" });
    expect(await db.alert.count({ where: { dedupeKey: `unexpected_transfer:${id}` } })).toBe(1);
  });

  it("one leg reported with two transfers: the second is unexpected (the leg is paid), not written, payout held", async () => {
    const payout = await processingPayout();
    const attempt = await attemptOf(payout, 1);
    const leg = await addLeg(payout, 1);
    const a = madeFor(leg);
    const b = madeFor(leg);
    const result = await recordTransferOutcome(ctx(), claimOf(payout, attempt), { made: [a, b], result: { kind: "succeeded" } });
    expect(result).toMatchObject({ kind: "skipped", status: "on_hold" });
    expect(await db.payoutTransfer.findUniqueOrThrow({ where: { id: leg.id } })).toMatchObject({ stripeTransferId: a.transfer.id });
    expect(await db.alert.count({ where: { payoutId: payout.id, kind: "unexpected_transfer" } })).toBe(1);
  });

  it("a late outcome of an older attempt records its transfer and leaves the payout to the newer claim", async () => {
    const payout = await processingPayout();
    const older = await attemptOf(payout, 1);
    await attemptOf(payout, 2);
    const leg = await addLeg(payout, 1);
    const m = madeFor(leg);
    const result = await recordTransferOutcome(ctx(), claimOf(payout, older), { made: [m], result: { kind: "succeeded" } });
    expect(result).toMatchObject({ kind: "skipped", reason: "claim_lost", status: "processing" });
    expect(await db.transferAttempt.findUniqueOrThrow({ where: { id: older.id } })).toMatchObject({
      status: "succeeded",
      counted: false,
      stripeTransferId: m.transfer.id,
    });
    expect(await db.payoutTransfer.findUniqueOrThrow({ where: { id: leg.id } })).toMatchObject({ status: "succeeded" });
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "processing", stripeTransferId: null });
  });

  it("an outcome with nothing made (empty ::uuid[] / ::text[]) and an unknown attempt id", async () => {
    const payout = await processingPayout();
    const attempt = await attemptOf(payout, 1);
    await addLeg(payout, 1);
    const failed: TTransferOutcome = {
      made: [],
      result: {
        kind: "failed",
        legId: null,
        failure: { retry: "now", counts: true, outcomeUnknown: false, reason: "unknown", type: "api_error", message: "boom" },
      },
    };
    const result = await recordTransferOutcome(ctx(), claimOf(payout, attempt), failed);
    expect(result).toMatchObject({ kind: "retry", counted: true });
    await expect(recordTransferOutcome(ctx(), { ...claimOf(payout, attempt), attemptId: randomUUID() }, failed)).rejects.toThrow();
  });

  it("a tip waiting when the outcome is recorded is settled; none waiting, nothing runs", async () => {
    const payout = await processingPayout();
    const attempt = await attemptOf(payout, 1);
    const leg = await addLeg(payout, 1);
    await db.tip.create({
      data: {
        externalId: `tip_${randomUUID()}`,
        bookingId: payout.bookingId,
        payoutId: null,
        amount: 500,
        currency: payout.currency,
        status: "accepted",
        tippedAt: new Date(),
        receivedAt: new Date(),
      },
    });
    const result = await recordTransferOutcome(ctx(), claimOf(payout, attempt), { made: [madeFor(leg)], result: { kind: "succeeded" } });
    expect(result.kind).toBe("transferred");
    // HEAD's settleTipsThatWaited: the payout is no longer processing, so the booking is synced.
    const synced = await db.auditLog.count({ where: { reason: { contains: "tips received while the transfer was in flight" } } });
    const waiting = await db.tip.count({ where: { bookingId: payout.bookingId, payoutId: null } });
    expect(synced > 0 || waiting === 0).toBe(true);
  });
});

describe("JSON round-trips of the rows read", () => {
  it("an attempt and transfers with every field set read as the ORM reads them", async () => {
    const payout = await processingPayout();
    const attempt = await db.transferAttempt.create({
      data: {
        payoutId: payout.id,
        attemptNumber: 7,
        amount: payout.amount,
        currency: payout.currency,
        amountVersion: payout.amountVersion,
        idempotencyKey: "k",
        status: "failed",
        retryable: false,
        counted: false,
        errorType: "StripeInvalidRequestError",
        errorCode: "balance_insufficient",
        errorMessage: 'quote " and \\ backslash \u00e9',
        stripeTransferId: trId(),
        stripeRequestId: "req_1",
        runId: "run_1",
        startedAt: new Date("2026-01-02T03:04:05.678Z"),
        finishedAt: new Date("2026-01-02T03:04:06.001Z"),
      },
    });
    const leg = await db.payoutTransfer.create({
      data: {
        payoutId: payout.id,
        kind: "payout",
        amountVersion: 3,
        leg: 4,
        sourceChargeId: "ch_1",
        payoutAmount: 2_147_483_000,
        amount: 123,
        currency: "EUR",
        exchangeRate: "1.0850000000000000001",
        status: "succeeded",
        refusals: 2,
        idempotencyKey: "k2",
        stripeTransferId: trId(),
        destinationPaymentId: `py_${randomUUID()}`,
        transferredAt: new Date("2026-01-02T03:04:05.999Z"),
      },
    });
    const facts = await db.$transaction((tx) =>
      readOutcomeFacts(tx, {
        payoutId: payout.id,
        bookingId: payout.bookingId,
        attemptId: attempt.id,
        legIds: [leg.id],
        stripeTransferIds: [],
      }),
    );
    expect(facts.attempt).toEqual(attempt);
    expect(facts.latest).toEqual(attempt);
    expect(facts.transfers).toEqual([leg]);
  });
});
