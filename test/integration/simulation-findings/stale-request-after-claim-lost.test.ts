// Found in review (a risk left from issue 10): a transfer request can wait in the Stripe write gate
// (lib/stripe/write-gate.ts) longer than the 10-minute processing lease. Meanwhile the sweep may put
// the payout back, an amount change may replace its leg (replace-stale-legs.ts), and the new leg may
// be paid. The old request then went out under the old leg's idempotency key: a second, real Stripe
// transfer, which was recorded on the replaced leg as paid, with no alert.
//
// Now the send slot checks, right before the request goes out, that the leg is still pending and the
// attempt is still the payout's latest claim (nothing is sent otherwise); and a transfer for a leg
// that is no longer pending, whether its answer comes back or a look-up finds it, is recorded as the
// unexpected money out it is: critical alert, payout held for review (while it can be).
import { randomUUID } from "node:crypto";

import { beforeEach, describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { replaceStaleLegs } from "@/lib/payouts/replace-stale-legs";
import { claimTransfer } from "@/lib/payouts/transfer-claim";
import { executeTransfer } from "@/lib/payouts/transfer-execute";
import { prepareFunding } from "@/lib/payouts/transfer-funding";
import { recordTransferOutcome } from "@/lib/payouts/transfer-outcome";
import type { TClaim } from "@/lib/payouts/transfer-types";
import { addTip } from "@/lib/tips/add-tip";

import { HOUR, payoutOf, transferEvent, engineHarness } from "../../support/engine";
import { legsOf, transferPosts } from "../../support/unknown-outcome";

const h = engineHarness();

beforeEach(() => {
  h.fake.clearFaults();
});

/** A due 8000 payout paid from a 20000 charge (room at Stripe for a second transfer from it), claimed by `runId` (attempt, leg 1 of version 1): its request not sent yet. */
async function claimedButNotSent(runId: string) {
  const charge = h.fake.createCharge({ amount: 20_000, currency: "usd" });
  const completedAt = h.clock.now();
  const { bookingId } = await h.completeBooking({ providerReady: true, stripeChargeId: charge.id, providerShare: 8_000, completedAt });
  h.clock.advance(48 * HOUR + 1000);
  const payout = await payoutOf(bookingId);
  const ctx = { ...h.ctx(), runId };
  expect(await prepareFunding(ctx, h.stripe, { payoutId: payout.id })).toBeNull();
  const claimed = await claimTransfer(ctx, { payoutId: payout.id });
  if (claimed.kind !== "claimed") throw new Error(`expected a claim, got ${JSON.stringify(claimed)}`);
  expect(claimed.claim.legs).toMatchObject([{ leg: 1, amountVersion: 1, amount: 8_000 }]);
  return { payout, bookingId, completedAt, ctx, claim: claimed.claim };
}

/** The payout joins a tip (received before its transfer): its amount, and amount version, change. */
async function tipJoins(bookingId: string, completedAt: Date, amount: number) {
  await addTip(h.ctx(), {
    tipExternalId: `tip_${randomUUID().slice(0, 8)}`,
    bookingId,
    amount,
    currency: "USD",
    tippedAt: new Date(completedAt.getTime() + HOUR),
  });
}

/** The sweep an hour on: the payout looks stuck, Stripe has no transfer for it, it is put back. */
async function sweepPutsItBack(bookingId: string) {
  h.clock.advance(HOUR + 60_000);
  await h.run("reconcile", null);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled" });
}

/** What the stale request makes at Stripe when it goes out after all: the old leg's parameters and key. */
async function staleRequestGoesOut(claim: TClaim) {
  const leg = claim.legs[0]!;
  return h.stripe.transfers.create(
    {
      amount: leg.amount,
      currency: leg.currency,
      destination: claim.destination,
      transfer_group: claim.transferGroup,
      ...(leg.sourceChargeId ? { source_transaction: leg.sourceChargeId } : {}),
      metadata: { payoutId: claim.payoutId, amountVersion: String(claim.amountVersion), leg: String(leg.leg) },
    },
    { idempotencyKey: leg.idempotencyKey },
  );
}

/** Claimed, lost to the sweep, replaced by an amount change, and paid by a new run: the old claim's request still waits. */
async function paidWhileTheOldRequestWaits() {
  const stale = await claimedButNotSent("run_stale");
  await sweepPutsItBack(stale.bookingId);
  await tipJoins(stale.bookingId, stale.completedAt, 700);
  const paid = await h.run("transfer", transferEvent(stale.payout.id), { runId: "run_new" });
  expect(paid.result).toMatchObject({ kind: "transferred" });
  expect(await legsOf(stale.payout.id)).toMatchObject([
    { leg: 1, amountVersion: 1, amount: 8_000, status: "superseded", stripeTransferId: null },
    { leg: 2, amountVersion: 2, amount: 8_700, status: "succeeded" },
  ]);
  return stale;
}

describe("a transfer request that waited in the write gate past its claim", () => {
  it("is not sent once the payout was re-claimed and paid under a new leg", async () => {
    const stale = await paidWhileTheOldRequestWaits();
    const paid = h.transfersFor(stale.payout.id);
    expect(paid.map((t) => t.amount)).toEqual([8_700]);

    // The old request finally gets its slot.
    const outcome = await executeTransfer(stale.ctx, h.stripe, stale.claim);

    expect(outcome).toMatchObject({ made: [], result: { kind: "claim_lost", legId: stale.claim.legs[0]!.legId } });
    expect(h.transfersFor(stale.payout.id).map((t) => t.id)).toEqual(paid.map((t) => t.id));
    const recorded = await recordTransferOutcome(stale.ctx, stale.claim, outcome);
    expect(recorded).toMatchObject({ kind: "skipped", reason: "claim_lost", status: "transferred" });
    expect(await payoutOf(stale.bookingId)).toMatchObject({ status: "transferred", stripeTransferId: paid[0]!.id });
    expect(await legsOf(stale.payout.id)).toMatchObject([
      { leg: 1, status: "superseded", stripeTransferId: null },
      { leg: 2, status: "succeeded", stripeTransferId: paid[0]!.id },
    ]);
  });

  it("is not sent once another run took the payout on after the lease ran out; that run sends it once", async () => {
    const stale = await claimedButNotSent("run_slow");
    h.clock.advance(11 * 60 * 1000);
    const other = { ...h.ctx(), runId: "run_other" };
    const taken = await claimTransfer(other, { payoutId: stale.payout.id });
    if (taken.kind !== "claimed") throw new Error(`expected a claim, got ${JSON.stringify(taken)}`);
    expect(taken.claim.attemptNumber).toBe(2);

    const lost = await executeTransfer(stale.ctx, h.stripe, stale.claim);
    expect(lost.result).toMatchObject({ kind: "claim_lost" });
    expect(transferPosts(h, stale.payout.id)).toHaveLength(0);
    expect(await recordTransferOutcome(stale.ctx, stale.claim, lost)).toMatchObject({ kind: "skipped", reason: "claim_lost" });
    // The payout is still the other run's: its attempt is untouched, the slow one's is closed, not counted.
    expect(await payoutOf(stale.bookingId)).toMatchObject({ status: "processing" });

    const sent = await executeTransfer(other, h.stripe, taken.claim);
    expect(await recordTransferOutcome(other, taken.claim, sent)).toMatchObject({ kind: "transferred" });
    expect(h.transfersFor(stale.payout.id)).toHaveLength(1);
    const attempts = await db.transferAttempt.findMany({ where: { payoutId: stale.payout.id }, orderBy: { attemptNumber: "asc" } });
    expect(attempts.map((a) => [a.attemptNumber, a.status, a.counted, a.errorType])).toEqual([
      [1, "failed", false, "claim_lost"],
      [2, "succeeded", true, null],
    ]);
  });

  it("if it went out all the same after the payout was paid, it is recorded on its leg, alerted as unexpected, never an ordinary paid leg", async () => {
    const stale = await paidWhileTheOldRequestWaits();
    const late = await staleRequestGoesOut(stale.claim);

    const recorded = await recordTransferOutcome(stale.ctx, stale.claim, {
      made: [{ legId: stale.claim.legs[0]!.legId, transfer: late, recovered: false }],
      result: { kind: "succeeded" },
    });

    // The attempt no longer holds the payout (a later attempt paid it): its outcome moves nothing.
    expect(recorded).toMatchObject({ kind: "skipped", reason: "claim_lost", status: "transferred" });
    expect(await legsOf(stale.payout.id)).toMatchObject([
      { leg: 1, amountVersion: 1, status: "succeeded", stripeTransferId: late.id },
      { leg: 2, amountVersion: 2, status: "succeeded" },
    ]);
    const alerts = await db.alert.findMany({ where: { payoutId: stale.payout.id, kind: "unexpected_transfer" } });
    expect(alerts).toMatchObject([{ severity: "critical", acknowledgedAt: null, dedupeKey: `unexpected_transfer:${late.id}` }]);
    expect(alerts[0]!.message).toContain(late.id);
    expect(alerts[0]!.message).toContain("$80.00");
    // Transferred already: it cannot be held, the alert is what tells a person.
    expect(await payoutOf(stale.bookingId)).toMatchObject({ status: "transferred" });
    const made = await db.auditLog.findFirstOrThrow({
      where: { entityId: stale.payout.id, action: "payout.transfer_made", after: { path: ["stripeTransferId"], equals: late.id } },
    });
    expect(made.reason).toMatch(/replaced/);
  });

  it("if it went out while a new run holds the payout, the payout is held for review and the new run sends nothing", async () => {
    const stale = await claimedButNotSent("run_stale");
    await sweepPutsItBack(stale.bookingId);
    await tipJoins(stale.bookingId, stale.completedAt, 700);
    const fresh = { ...h.ctx(), runId: "run_new" };
    expect(await replaceStaleLegs(fresh, h.stripe, { payoutId: stale.payout.id })).toBeNull();
    const taken = await claimTransfer(fresh, { payoutId: stale.payout.id });
    if (taken.kind !== "claimed") throw new Error(`expected a claim, got ${JSON.stringify(taken)}`);
    expect(taken.claim.legs).toMatchObject([{ leg: 2, amountVersion: 2, amount: 8_700 }]);

    const late = await staleRequestGoesOut(stale.claim);
    await recordTransferOutcome(stale.ctx, stale.claim, {
      made: [{ legId: stale.claim.legs[0]!.legId, transfer: late, recovered: false }],
      result: { kind: "succeeded" },
    });
    expect(await payoutOf(stale.bookingId)).toMatchObject({ status: "on_hold", holdReason: "review_required" });
    expect(await db.alert.count({ where: { payoutId: stale.payout.id, kind: "unexpected_transfer", severity: "critical" } })).toBe(1);

    // Its look-up first sees the stale transfer (the payout is no longer its own either): nothing is sent.
    const outcome = await executeTransfer(fresh, h.stripe, taken.claim);
    expect(outcome.result).toMatchObject({ kind: "unexpected_transfers", transfers: [{ id: late.id }] });
    await recordTransferOutcome(fresh, taken.claim, outcome);
    expect(h.transfersFor(stale.payout.id).map((t) => t.id)).toEqual([late.id]);
    expect(await payoutOf(stale.bookingId)).toMatchObject({ status: "on_hold", holdReason: "review_required" });
  });

  it("if a look-up before a new plan finds it under the replaced leg's key, the payout is held and alerted, not quietly counted as paid", async () => {
    const stale = await claimedButNotSent("run_stale");
    await sweepPutsItBack(stale.bookingId);
    await tipJoins(stale.bookingId, stale.completedAt, 700);
    // A new run replaces leg 1 (Stripe has nothing yet) and plans leg 2, whose request is lost too.
    const second = { ...h.ctx(), runId: "run_second" };
    expect(await replaceStaleLegs(second, h.stripe, { payoutId: stale.payout.id })).toBeNull();
    const taken = await claimTransfer(second, { payoutId: stale.payout.id });
    if (taken.kind !== "claimed") throw new Error(`expected a claim, got ${JSON.stringify(taken)}`);
    await sweepPutsItBack(stale.bookingId);
    // The first request goes out now, and the amount changes again.
    const late = await staleRequestGoesOut(stale.claim);
    await tipJoins(stale.bookingId, stale.completedAt, 300);

    expect(await replaceStaleLegs(h.ctx(), h.stripe, { payoutId: stale.payout.id })).toBeNull();

    expect(await legsOf(stale.payout.id)).toMatchObject([
      { leg: 1, amountVersion: 1, status: "succeeded", stripeTransferId: late.id },
      { leg: 2, amountVersion: 2, status: "superseded", stripeTransferId: null },
    ]);
    expect(await payoutOf(stale.bookingId)).toMatchObject({ status: "on_hold", holdReason: "review_required", amount: 9_000 });
    const alerts = await db.alert.findMany({ where: { payoutId: stale.payout.id, kind: "unexpected_transfer" } });
    expect(alerts).toMatchObject([{ severity: "critical", dedupeKey: `unexpected_transfer:${late.id}` }]);
    expect(h.transfersFor(stale.payout.id).map((t) => t.id)).toEqual([late.id]);
  });
});
