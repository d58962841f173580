// The record after Stripe's answer reads less (issue 13): recordLegTransfer reads the payout's
// transfers once and writeLeg counts them from that read; completeIfPaid finds the alerts its
// transfer resolves in one read. What they decide is checked here case by case: when a leg's
// transfer gets an audit entry of its own, and which alerts a transfer resolves (never "got no
// answer" while a transfer of the payout was replaced unmade, never an alert about money).
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import type { Payout, PayoutTransfer } from "@/generated/prisma/client";
import { ENGINE_ACTOR, resolveContext } from "@/lib/context";
import { db } from "@/lib/db";
import {
  failureAlertsSettled,
  plannedLegs,
  readCompletionFacts,
  readOutcomeFacts,
  withTransferWritten,
} from "@/lib/payouts/completion-facts";
import { completeIfPaid } from "@/lib/payouts/transfer-complete";
import { recordLegTransfer } from "@/lib/payouts/transfer-leg";

import { createPayout, createPayoutTransfer, createTransferAttempt } from "../../support/factories";

const ctx = () => resolveContext({ db, actor: ENGINE_ACTOR });

const addLeg = createPayoutTransfer;

const made = (leg: PayoutTransfer) => ({
  id: `tr_${randomUUID().replaceAll("-", "").slice(0, 20)}`,
  amount: leg.amount,
  currency: leg.currency.toLowerCase(),
  destination_payment: `py_${randomUUID().replaceAll("-", "").slice(0, 20)}`,
});

async function record(payout: Payout, leg: PayoutTransfer) {
  return db.$transaction((tx) => recordLegTransfer(tx, ctx(), payout, leg.id, made(leg) as never, null));
}

const legAudits = (payoutId: string) => db.auditLog.count({ where: { entityId: payoutId, action: "payout.transfer_made" } });

describe("recording a leg's transfer", () => {
  it("gives the transfer no entry of its own when it is the payout's only one", async () => {
    const payout = await createPayout({ status: "processing" });
    const leg = await addLeg(payout, 1);
    // Another payout's transfers do not count.
    const other = await createPayout({ status: "processing" });
    await addLeg(other, 1);
    await addLeg(other, 2);
    expect((await record(payout, leg)).kind).toBe("recorded");
    expect(await legAudits(payout.id)).toBe(0);
    expect(await db.payoutTransfer.findUniqueOrThrow({ where: { id: leg.id } })).toMatchObject({ status: "succeeded" });
  });

  it("gives each transfer an entry when the plan has several, made or still to make", async () => {
    const payout = await createPayout({ status: "processing", providerShare: 10_000 });
    const first = await addLeg(payout, 1, { amount: 6_000 });
    const second = await addLeg(payout, 2, { amount: 4_000 });
    await record(payout, first);
    expect(await legAudits(payout.id)).toBe(1);
    await record(payout, second);
    expect(await legAudits(payout.id)).toBe(2);
  });

  it("counts neither replaced transfers nor repayments as the plan's", async () => {
    const payout = await createPayout({ status: "processing" });
    await addLeg(payout, 1, { status: "superseded", amountVersion: payout.amountVersion - 1 });
    const refund = await db.chargeRefund.create({
      data: {
        bookingId: payout.bookingId,
        stripeChargeId: `ch_${randomUUID().slice(0, 12)}`,
        sequence: 1,
        currency: payout.currency,
        chargeAmount: 10_000,
        providerPortion: 10_000,
        customerRefundedTotal: 0,
        providerRefundedTotal: 0,
        amount: -500,
        refundedAt: new Date(),
      },
    });
    await addLeg(payout, 90, {
      kind: "repayment",
      status: "succeeded",
      stripeTransferId: `tr_${randomUUID().slice(0, 8)}`,
      chargeRefundId: refund.id,
      amount: 500,
    });
    const leg = await addLeg(payout, 2);
    await record(payout, leg);
    expect(await legAudits(payout.id)).toBe(0);
  });

  it("audits a transfer made for a replaced leg, which then counts as paid", async () => {
    const payout = await createPayout({ status: "processing" });
    const replaced = await addLeg(payout, 1, { status: "superseded", amountVersion: payout.amountVersion - 1 });
    await addLeg(payout, 2);
    const result = await record(payout, replaced);
    expect(result.kind).toBe("unexpected");
    expect(await db.payoutTransfer.findUniqueOrThrow({ where: { id: replaced.id } })).toMatchObject({ status: "succeeded" });
    expect(await legAudits(payout.id)).toBe(1);
  });

  it("records a transfer already recorded once, and alerts one another leg holds", async () => {
    const payout = await createPayout({ status: "processing", providerShare: 10_000 });
    const first = await addLeg(payout, 1, { amount: 6_000 });
    const second = await addLeg(payout, 2, { amount: 4_000 });
    const transfer = made(first);
    const again = () => db.$transaction((tx) => recordLegTransfer(tx, ctx(), payout, first.id, transfer as never, null));
    expect((await again()).kind).toBe("recorded");
    expect((await again()).kind).toBe("already");
    const elsewhere = await db.$transaction((tx) => recordLegTransfer(tx, ctx(), payout, second.id, transfer as never, null));
    expect(elsewhere.kind).toBe("elsewhere");
    expect(await db.alert.count({ where: { payoutId: payout.id, kind: "unexpected_transfer" } })).toBe(1);
  });
});

describe("the alerts a transfer resolves", () => {
  const KINDS = ["payout_failed", "transfer_outcome_unknown", "transfer_turned_away", "unexpected_transfer", "transfer_amount_mismatch"];

  async function transferredWithAlerts(replacedUnmade: boolean) {
    const payout = await createPayout({ status: "processing" });
    if (replacedUnmade) await addLeg(payout, 1, { status: "superseded", amountVersion: payout.amountVersion - 1 });
    const leg = await addLeg(payout, 2, { status: "succeeded", stripeTransferId: `tr_${randomUUID().slice(0, 12)}` });
    for (const kind of KINDS) {
      await db.alert.create({
        data: { kind, severity: "critical", title: kind, message: kind, payoutId: payout.id, dedupeKey: `${kind}:${payout.id}` },
      });
    }
    // An alert of another payout stays as it is.
    const other = await createPayout({ status: "processing" });
    await db.alert.create({
      data: { kind: "payout_failed", severity: "critical", title: "x", message: "x", payoutId: other.id, dedupeKey: `pf:${other.id}` },
    });
    const result = await db.$transaction(async (tx) =>
      completeIfPaid(tx, ctx(), payout, 1, null, await readCompletionFacts(tx, payout.id)),
    );
    expect(result).toMatchObject({ kind: "transferred", stripeTransferId: leg.stripeTransferId });
    const alerts = await db.alert.findMany({ where: { payoutId: payout.id }, orderBy: { kind: "asc" } });
    expect(await db.alert.count({ where: { payoutId: other.id, acknowledgedAt: null } })).toBe(1);
    const audited = await db.auditLog.count({ where: { action: "alert.acknowledged", entityId: { in: alerts.map((a) => a.id) } } });
    return { resolved: alerts.filter((a) => a.acknowledgedAt).map((a) => a.kind), audited };
  }

  it("resolves the failure alerts, each audited, and leaves the ones about money open", async () => {
    expect(await transferredWithAlerts(false)).toEqual({
      resolved: ["payout_failed", "transfer_outcome_unknown", "transfer_turned_away"],
      audited: 3,
    });
  });

  it("leaves 'got no answer' open while a transfer of the payout was replaced unmade", async () => {
    expect(await transferredWithAlerts(true)).toEqual({ resolved: ["payout_failed", "transfer_turned_away"], audited: 2 });
  });
});

describe("an attempt's outcome reads its facts in one statement", () => {
  const attemptOf = (payout: Payout, attemptNumber: number, status: "started" | "failed" = "started") =>
    createTransferAttempt(
      payout,
      attemptNumber,
      status === "failed" ? { status, finishedAt: new Date("2026-11-30T10:00:00.123Z"), retryable: true, errorMessage: "x" } : {},
    );

  it("reads what the ORM reads: the transfers, the attempt and the latest one, the open failure alerts, the waiting tips", async () => {
    const payout = await createPayout({ status: "processing", providerShare: 10_000 });
    const old = await attemptOf(payout, 1, "failed");
    const latest = await attemptOf(payout, 2);
    const first = await addLeg(payout, 1, { amount: 6_000, status: "succeeded", stripeTransferId: `tr_${randomUUID().slice(0, 12)}` });
    const second = await addLeg(payout, 2, { amount: 4_000 });
    await addLeg(payout, 1, { status: "superseded", amountVersion: payout.amountVersion - 1 });
    // Another payout's transfer holding the Stripe transfer this attempt made, and one that does not.
    const other = await createPayout({ status: "processing" });
    const holder = await addLeg(other, 1, { status: "succeeded", stripeTransferId: `tr_${randomUUID().slice(0, 12)}` });
    await addLeg(other, 2);
    for (const kind of ["payout_failed", "transfer_outcome_unknown", "unexpected_transfer"]) {
      await db.alert.create({
        data: { kind, severity: "critical", title: kind, message: kind, payoutId: payout.id, dedupeKey: `${kind}:${payout.id}` },
      });
    }
    await db.alert.create({
      data: {
        kind: "transfer_turned_away",
        severity: "warning",
        title: "x",
        message: "x",
        payoutId: payout.id,
        dedupeKey: `tta:${payout.id}`,
        acknowledgedAt: new Date(),
      },
    });
    for (const [status, payoutId] of [
      ["accepted", null],
      ["accepted", null],
      ["accepted", payout.id],
      ["rejected", null],
    ] as const) {
      await db.tip.create({
        data: {
          externalId: `tip_${randomUUID()}`,
          bookingId: payout.bookingId,
          payoutId,
          amount: 100,
          currency: payout.currency,
          status,
          tippedAt: new Date(),
          receivedAt: new Date(),
        },
      });
    }

    const facts = await db.$transaction((tx) =>
      readOutcomeFacts(tx, {
        payoutId: payout.id,
        bookingId: payout.bookingId,
        attemptId: old.id,
        legIds: [second.id],
        stripeTransferIds: [holder.stripeTransferId!],
      }),
    );
    const byId = <T extends { id: string }>(rows: readonly T[]) => [...rows].sort((a, b) => a.id.localeCompare(b.id));
    const orm = await db.payoutTransfer.findMany({ where: { OR: [{ payoutId: payout.id }, { id: holder.id }] } });
    expect(byId(facts.transfers)).toEqual(byId(orm));
    expect(facts.transfers.find((t) => t.id === first.id)?.createdAt).toBeInstanceOf(Date);
    expect(facts.attempt).toEqual(old);
    expect(facts.latest).toEqual(latest);
    expect(facts.openFailureAlerts.map((a) => a.kind).sort()).toEqual(["payout_failed", "transfer_outcome_unknown"]);
    expect(facts.waitingTips).toBe(2);
    // "Got no answer" stays open while a transfer of the payout was replaced unmade.
    expect(failureAlertsSettled(facts, payout.id)).toHaveLength(1);
    expect(plannedLegs(facts, payout.id).map((l) => l.id)).toEqual([first.id, second.id]);

    const none = await db.$transaction((tx) =>
      readOutcomeFacts(tx, { payoutId: other.id, bookingId: other.bookingId, attemptId: randomUUID(), legIds: [], stripeTransferIds: [] }),
    );
    expect(none).toMatchObject({ attempt: null, latest: null, openFailureAlerts: [], waitingTips: 0 });
    expect(none.transfers).toHaveLength(2);
  });

  it("keeps the transfers up to date with a leg written since the read", async () => {
    const payout = await createPayout({ status: "processing" });
    const leg = await addLeg(payout, 1);
    const facts = await db.$transaction((tx) => readCompletionFacts(tx, payout.id));
    expect(plannedLegs(facts, payout.id)).toMatchObject([{ id: leg.id, status: "pending" }]);
    const written = await db.payoutTransfer.update({
      where: { id: leg.id },
      data: { status: "succeeded", stripeTransferId: "tr_written" },
    });
    const after = withTransferWritten(facts, written);
    expect(plannedLegs(after, payout.id)).toEqual([written]);
    expect(after.transfers).toHaveLength(1);
    expect(withTransferWritten(facts, null)).toBe(facts);
  });
});
