// Found in the adversarial review of the transfer split (two holes left by the send slot's re-check):
//
// 1. The re-check looked at who holds the claim, not at how long it has left. A request admitted
//    in its slot just before (or after) the processing lease ran out could still be at Stripe when
//    the sweep found nothing and put the payout back, an amount change replaced its leg, and a new
//    run paid the new leg under a new key: two transfers for one payout.
// 2. A late outcome of an attempt whose claim another attempt had taken since (its lease ran out)
//    still moved the payout: a refusal failed the newer claim, "no funds" held it, while the newer
//    claim's transfer landed and was then recorded on a failed or held payout without an alert.
//
// Now a claim must have the longest a Stripe request can take left on its lease for a request to go
// out (sendMarginMs), and a late outcome of an attempt that is no longer the payout's latest only
// records what Stripe made and the attempt itself; money recorded for a payout that is not being
// transferred is alerted and the payout held for review.
import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { settleProcessingPayout } from "@/lib/payouts/settle-processing-payout";
import { claimTransfer } from "@/lib/payouts/transfer-claim";
import { executeTransfer, sendMarginMs } from "@/lib/payouts/transfer-execute";
import { recordTransferOutcome } from "@/lib/payouts/transfer-outcome";
import { transferPayout } from "@/lib/payouts/transfer-payout";
import { PROCESSING_LEASE_MS } from "@/lib/payouts/transfer-types";
import { addTip } from "@/lib/tips/add-tip";

import { HOUR, payoutOf, type TEngineHarness, engineHarness } from "../../support/engine";

const h = engineHarness();

async function claimedPayout(providerShare = 10_000) {
  const { bookingId } = await h.completeBooking({ providerReady: true, providerShare });
  const completedAt = h.clock.now();
  h.clock.advance(48 * HOUR + 1000);
  const payout = await payoutOf(bookingId);
  const ctx = { ...h.ctx(), runId: "run_A" };
  const claimed = await claimTransfer(ctx, { payoutId: payout.id });
  if (claimed.kind !== "claimed") throw new Error(`expected a claim, got ${JSON.stringify(claimed)}`);
  return { bookingId, completedAt, payout, ctx, claim: claimed.claim };
}

describe("a request whose claim is about to run out", () => {
  it("is not sent when its lease has less left than a Stripe request can take", async () => {
    const { payout, ctx, claim } = await claimedPayout();
    h.clock.advance(PROCESSING_LEASE_MS - sendMarginMs() + 1000);

    const outcome = await executeTransfer(ctx, h.stripe, claim);

    expect(outcome.result).toMatchObject({ kind: "claim_lost" });
    expect(h.transfersFor(payout.id)).toHaveLength(0);
  });

  it("is sent while the lease has room", async () => {
    const { payout, ctx, claim } = await claimedPayout();
    h.clock.advance(PROCESSING_LEASE_MS - sendMarginMs() - 1000);

    const outcome = await executeTransfer(ctx, h.stripe, claim);

    expect(outcome.result).toMatchObject({ kind: "succeeded" });
    expect(h.transfersFor(payout.id)).toHaveLength(1);
  });

  it("past the sweep's hour, with a tip re-planning the payout, the provider is paid once", async () => {
    const { bookingId, completedAt, payout, ctx, claim } = await claimedPayout();
    // The old request reaches its slot an hour late: it must not go out.
    h.clock.advance(HOUR + 60_000);
    const late = await executeTransfer(ctx, h.stripe, claim);
    const settled = await settleProcessingPayout({ ...h.ctx(), runId: "run_sweep" }, h.stripe, {
      payoutId: payout.id,
      staleBefore: new Date(h.clock.now().getTime() - HOUR),
    });
    await addTip(h.ctx(), {
      tipExternalId: `tip_${payout.id.slice(0, 8)}`,
      bookingId,
      amount: 500,
      currency: "USD",
      tippedAt: new Date(completedAt.getTime() + HOUR),
    });
    const paid = await transferPayout({ ...h.ctx(), runId: "run_C" }, h.stripe, { payoutId: payout.id });
    const recorded = await recordTransferOutcome(ctx, claim, late);

    expect(late.result).toMatchObject({ kind: "claim_lost" });
    expect(settled).toBeTruthy();
    expect(paid.kind).toBe("transferred");
    expect(recorded).toMatchObject({ kind: "skipped", reason: "claim_lost" });
    expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([10_500]);
    const after = await payoutOf(bookingId);
    expect(after).toMatchObject({ status: "transferred", amount: 10_500 });
  });
});

describe("a late outcome of an attempt another attempt has taken the payout from", () => {
  async function staleFailure(fault: Parameters<TEngineHarness["fake"]["failNext"]>[1]) {
    const { bookingId, payout, ctx: ctxA, claim: claimA } = await claimedPayout();
    h.fake.failNext({ method: "POST", path: "/v1/transfers" }, fault);
    const outcomeA = await executeTransfer(ctxA, h.stripe, claimA);
    // A's record is late (a step that outlived its lease); B claims and sends.
    h.clock.advance(PROCESSING_LEASE_MS + 60_000);
    const ctxB = { ...h.ctx(), runId: "run_B" };
    const claimB = await claimTransfer(ctxB, { payoutId: payout.id });
    if (claimB.kind !== "claimed") throw new Error(`expected a claim, got ${JSON.stringify(claimB)}`);
    const outcomeB = await executeTransfer(ctxB, h.stripe, claimB.claim);

    const recordedA = await recordTransferOutcome(ctxA, claimA, outcomeA);
    const between = await payoutOf(bookingId);
    const recordedB = await recordTransferOutcome(ctxB, claimB.claim, outcomeB);
    const after = await payoutOf(bookingId);
    const alerts = await db.alert.findMany({ where: { payoutId: payout.id, acknowledgedAt: null }, select: { kind: true } });
    const attemptA = await db.transferAttempt.findUniqueOrThrow({ where: { id: claimA.attemptId } });
    return { payout, outcomeA, recordedA, between, recordedB, after, alerts, attemptA };
  }

  it("a refusal does not fail the newer claim, whose transfer then completes the payout", async () => {
    const r = await staleFailure({ kind: "error", status: 400, type: "invalid_request_error", message: "refused for the test" });

    expect(r.outcomeA.result).toMatchObject({ kind: "failed" });
    expect(r.recordedA).toMatchObject({ kind: "skipped", reason: "claim_lost" });
    expect(r.between).toMatchObject({ status: "processing", attempts: 2 });
    expect(r.recordedB.kind).toBe("transferred");
    expect(r.after.status).toBe("transferred");
    expect(r.alerts).toEqual([]);
    expect(r.attemptA).toMatchObject({ status: "failed", counted: false, errorType: "claim_lost" });
    expect(h.transfersFor(r.payout.id)).toHaveLength(1);
  });

  it("'no funds' does not hold the newer claim awaiting funds", async () => {
    const r = await staleFailure({
      kind: "error",
      status: 400,
      type: "invalid_request_error",
      code: "balance_insufficient",
      message: "no funds",
    });

    expect(r.recordedA).toMatchObject({ kind: "skipped", reason: "claim_lost" });
    expect(r.between.status).toBe("processing");
    expect(r.between.holdReason).toBeNull();
    expect(r.after.status).toBe("transferred");
    expect(h.transfersFor(r.payout.id)).toHaveLength(1);
  });
});
