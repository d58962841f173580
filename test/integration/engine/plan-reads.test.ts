// ensureTransferPlan reads the payout's transfers, its accepted tips and what planning them needs
// (applied refunds by charge, refunded disputes, the known charges) in one statement (issue 13).
// Checked against an oracle that reads the same facts through the ORM, one query each as the
// planner did before, and plans with the same pure planner: the planned transfers must be the
// same, for a payout paid by its booking's charge and tips on another charge (one settled in
// another currency), with applied refunds on each charge, a refund on a charge no part names,
// disputes attributed to a charge and not, facts that must be left out (not applied, not
// resolved, another booking's, a tip not joined or rejected), and for an earlier plan partly made.
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import type { Booking, Payout, PayoutTransfer } from "@/generated/prisma/client";
import { fundingOf, knownCharges } from "@/lib/charges/charge-funding";
import { knownPlatformCurrencies, PLATFORM_CURRENCIES_STATE_KEY } from "@/lib/charges/platform-currencies";
import { db } from "@/lib/db";
import { lockPayoutAndBooking } from "@/lib/payouts/lock-booking";
import { ensureTransferPlan, knownTransferIds, readLegsWithPlanFacts } from "@/lib/payouts/payout-transfers";
import { owedByCharge, planTransfers } from "@/lib/payouts/plan-transfers";

import { createBooking, createPayout, createStripeCharge, knowPlatformCurrencies } from "../../support/factories";

const id = (prefix: string) => `${prefix}_${randomUUID().replaceAll("-", "").slice(0, 16)}`;

async function addTip(booking: Booking, payout: Payout | null, amount: number, chargeId: string | null, status = "accepted" as const) {
  await db.tip.create({
    data: {
      externalId: id("tip"),
      bookingId: booking.id,
      payoutId: payout?.id ?? null,
      amount,
      currency: booking.currency,
      status,
      stripeChargeId: chargeId,
      tippedAt: new Date(Date.now() - amount * 1000),
    },
  });
}

let sequence = 0;
async function addChargeRefund(booking: Booking, chargeId: string, amount: number, applied: boolean) {
  sequence += 1;
  await db.chargeRefund.create({
    data: {
      bookingId: booking.id,
      stripeChargeId: chargeId,
      sequence,
      currency: booking.currency,
      chargeAmount: 20_000,
      providerPortion: 20_000,
      customerRefundedTotal: Math.abs(amount),
      providerRefundedTotal: Math.abs(amount),
      amount,
      refundedAt: new Date(),
      appliedAt: applied ? new Date() : null,
    },
  });
}

async function addDispute(booking: Booking, refunded: number, input: { chargeId?: string; applied?: boolean; resolved?: boolean }) {
  await db.dispute.create({
    data: {
      externalId: input.chargeId ? null : id("dsp"),
      stripeDisputeId: input.chargeId ? id("dp") : null,
      stripeChargeId: input.chargeId ?? null,
      bookingId: booking.id,
      status: input.resolved === false ? "open" : "resolved",
      refundedAmount: refunded,
      currency: booking.currency,
      openedAt: new Date(),
      refundAppliedAt: input.applied === false ? null : new Date(),
    },
  });
}

/** The planner's reads as they were, one ORM query each, and the same pure planner. */
async function oraclePlan(payout: Payout, booking: Booking, made: PayoutTransfer[], remaining: number) {
  const tips = await db.tip.findMany({
    where: { payoutId: payout.id, status: "accepted" },
    select: { amount: true, stripeChargeId: true, tippedAt: true },
  });
  tips.sort((a, b) => a.tippedAt.getTime() - b.tippedAt.getTime());
  const chargeLosses = new Map<string, number>();
  const add = (chargeId: string, amount: number) => chargeLosses.set(chargeId, (chargeLosses.get(chargeId) ?? 0) + amount);
  const steps = await db.chargeRefund.groupBy({
    by: ["stripeChargeId"],
    where: { bookingId: booking.id, appliedAt: { not: null } },
    _sum: { amount: true },
  });
  for (const step of steps) add(step.stripeChargeId, step._sum.amount ?? 0);
  const disputes = await db.dispute.findMany({
    where: { bookingId: booking.id, status: "resolved", refundAppliedAt: { not: null }, refundedAmount: { gt: 0 } },
  });
  let unattributedRefunds = 0;
  for (const d of disputes) {
    if (d.stripeDisputeId && d.stripeChargeId) add(d.stripeChargeId, d.refundedAmount);
    else unattributedRefunds += d.refundedAmount;
  }
  const owed = owedByCharge({
    bookingChargeId: booking.stripeChargeId,
    providerShare: payout.providerShare,
    tips,
    chargeLosses,
    unattributedRefunds,
    amount: payout.amount,
  });
  const rows = await db.$transaction((tx) =>
    knownCharges(
      tx,
      owed.flatMap((p) => (p.chargeId ? [p.chargeId] : [])),
    ),
  );
  const transferredFrom = new Map<string, number>();
  const paidFrom = new Map<string | null, number>();
  for (const leg of made) {
    if (leg.sourceChargeId) transferredFrom.set(leg.sourceChargeId, (transferredFrom.get(leg.sourceChargeId) ?? 0) + leg.amount);
    paidFrom.set(leg.sourceChargeId, (paidFrom.get(leg.sourceChargeId) ?? 0) + leg.payoutAmount);
  }
  return planTransfers({
    payoutCurrency: payout.currency,
    remaining,
    owed,
    charges: new Map([...rows].map(([chargeId, row]) => [chargeId, fundingOf(row)])),
    transferredFrom,
    paidFrom,
    platformCurrencies: await knownPlatformCurrencies(db),
  });
}

const legShape = (l: Pick<PayoutTransfer, "sourceChargeId" | "payoutAmount" | "amount" | "currency" | "exchangeRate">) => ({
  sourceChargeId: l.sourceChargeId,
  payoutAmount: l.payoutAmount,
  amount: l.amount,
  currency: l.currency,
  exchangeRate: l.exchangeRate,
});

/** A booking paid by charge A, tips on charge B (settled in EUR) and on none, and the facts around them. */
async function busyPayout() {
  await knowPlatformCurrencies(["USD", "EUR"]);
  const chargeA = id("ch");
  const chargeB = id("ch");
  const stray = id("ch");
  await createStripeCharge(chargeA, 20_000);
  await createStripeCharge(chargeB, 3_000, { currency: "EUR", amount: 2_700, rate: "0.9" });
  const booking = await createBooking({ stripeChargeId: chargeA, providerShare: 10_000 });
  // share 10,000 + tips 1,500 − refunds (300 on A, 100 on B by a dispute, 50 unattributed, 40 on a stray charge)
  const payout = await createPayout({ booking, tipAmount: 1_500, refundedAmount: 490 });
  await addTip(booking, payout, 1_000, chargeB);
  await addTip(booking, payout, 500, null);
  await addTip(booking, null, 700, chargeB); // not joined
  await addTip(booking, payout, 900, chargeB, "rejected" as "accepted");
  await addChargeRefund(booking, chargeA, 300, true);
  await addChargeRefund(booking, chargeA, 999, false); // not applied
  await addChargeRefund(booking, stray, 40, true);
  await addDispute(booking, 100, { chargeId: chargeB });
  await addDispute(booking, 50, {});
  await addDispute(booking, 70, { applied: false });
  await addDispute(booking, 80, { resolved: false, applied: false });
  // Another booking's facts on the same charge.
  const other = await createBooking();
  await addChargeRefund(other, chargeA, 5_000, true);
  await addDispute(other, 60, { chargeId: chargeA });
  return { payout, booking, chargeA, chargeB };
}

describe("the plan's reads", () => {
  it("reads each fact with the filters of the ORM's reads", async () => {
    const { payout, booking } = await busyPayout();
    const read = await db.$transaction(async (tx) => {
      const locked = await lockPayoutAndBooking(tx, payout.id);
      return readLegsWithPlanFacts(tx, locked.payout, locked.booking);
    });
    const tips = await db.tip.findMany({
      where: { payoutId: payout.id, status: "accepted" },
      select: { amount: true, stripeChargeId: true, tippedAt: true },
    });
    const byTime = (a: { tippedAt: Date }, b: { tippedAt: Date }) => a.tippedAt.getTime() - b.tippedAt.getTime();
    expect([...read.tips].sort(byTime)).toEqual(tips.sort(byTime));
    const steps = await db.chargeRefund.groupBy({
      by: ["stripeChargeId"],
      where: { bookingId: booking.id, appliedAt: { not: null } },
      _sum: { amount: true },
    });
    expect(new Map(read.facts.chargeLosses.map((l) => [l.stripeChargeId, Number(l.amount)]))).toEqual(
      new Map(steps.map((s) => [s.stripeChargeId, s._sum.amount ?? 0])),
    );
    const disputes = await db.dispute.findMany({
      where: { bookingId: booking.id, status: "resolved", refundAppliedAt: { not: null }, refundedAmount: { gt: 0 } },
      select: { stripeDisputeId: true, stripeChargeId: true, refundedAmount: true },
    });
    const byAmount = (a: { refundedAmount: number }, b: { refundedAmount: number }) => a.refundedAmount - b.refundedAmount;
    expect([...read.facts.refundedDisputes].sort(byAmount)).toEqual(disputes.sort(byAmount));
    const chargeIds = [booking.stripeChargeId, ...tips.map((t) => t.stripeChargeId)].filter((c): c is string => c !== null);
    expect(read.facts.charges).toEqual(await db.$transaction((tx) => knownCharges(tx, chargeIds)));
    expect(read.legs).toEqual([]);
    expect(read.facts.platformCurrencies).toEqual(await knownPlatformCurrencies(db));
    expect(read.facts.platformCurrencies).toEqual(["USD", "EUR"]);

    // Never learnt: none known, as knownPlatformCurrencies says.
    await db.systemState.deleteMany({ where: { key: PLATFORM_CURRENCIES_STATE_KEY } });
    const unknown = await db.$transaction(async (tx) => {
      const locked = await lockPayoutAndBooking(tx, payout.id);
      return readLegsWithPlanFacts(tx, locked.payout, locked.booking);
    });
    expect(unknown.facts.platformCurrencies).toEqual(await knownPlatformCurrencies(db));
  });

  it("plans what the planner planned from the ORM's reads", async () => {
    const { payout, booking, chargeA, chargeB } = await busyPayout();
    const planned = await db.$transaction(async (tx) => {
      const locked = await lockPayoutAndBooking(tx, payout.id);
      return ensureTransferPlan(tx, locked.payout, locked.booking);
    });
    const oracle = await oraclePlan(payout, booking, [], payout.amount);
    expect(planned.kind).toBe("planned");
    expect(oracle.kind).toBe("plan");
    if (planned.kind !== "planned" || oracle.kind !== "plan") return;
    expect(planned.pending.map(legShape)).toEqual(oracle.legs.map(legShape));
    // The plan uses both charges (a wrong read of either would move money to the balance).
    expect(planned.pending.map((l) => l.sourceChargeId)).toEqual(expect.arrayContaining([chargeA, chargeB]));
    expect(planned.pending.reduce((sum, l) => sum + l.payoutAmount, 0)).toBe(payout.amount);
    expect(planned.pending.map((l) => l.leg)).toEqual(planned.pending.map((_, i) => i + 1));
  });

  it("finds the plan it made, and plans what is left after an amount change", async () => {
    const { payout, booking } = await busyPayout();
    const first = await db.$transaction(async (tx) => {
      const locked = await lockPayoutAndBooking(tx, payout.id);
      return ensureTransferPlan(tx, locked.payout, locked.booking);
    });
    if (first.kind !== "planned") throw new Error(first.kind);
    // Found again as it is, with the dates it was written with.
    const again = await db.$transaction(async (tx) => {
      const locked = await lockPayoutAndBooking(tx, payout.id);
      return ensureTransferPlan(tx, locked.payout, locked.booking);
    });
    expect(again).toEqual({
      kind: "planned",
      pending: await db.payoutTransfer.findMany({ where: { payoutId: payout.id }, orderBy: { leg: "asc" } }),
      knownTransferIds: [],
    });

    // The first leg made; the rest replaced after the amount went down by a refund.
    const [madeLeg, ...rest] = first.pending;
    if (!madeLeg) throw new Error("no leg");
    await db.payoutTransfer.update({ where: { id: madeLeg.id }, data: { status: "succeeded", stripeTransferId: id("tr") } });
    await db.payoutTransfer.updateMany({ where: { id: { in: rest.map((l) => l.id) } }, data: { status: "superseded" } });
    const changed = await db.payout.update({
      where: { id: payout.id },
      data: { refundedAmount: payout.refundedAmount + 200, amount: payout.amount - 200, amountVersion: payout.amountVersion + 1 },
    });
    await addChargeRefund(booking, booking.stripeChargeId ?? "", 200, true);
    const replanned = await db.$transaction(async (tx) => {
      const locked = await lockPayoutAndBooking(tx, payout.id);
      return ensureTransferPlan(tx, locked.payout, locked.booking);
    });
    const made = await db.payoutTransfer.findMany({ where: { payoutId: payout.id, status: "succeeded" } });
    const oracle = await oraclePlan(changed, booking, made, changed.amount - madeLeg.payoutAmount);
    if (replanned.kind !== "planned" || oracle.kind !== "plan") throw new Error(`${replanned.kind} / ${oracle.kind}`);
    expect(replanned.pending.map(legShape)).toEqual(oracle.legs.map(legShape));
    // The transfer ids a look-up leaves out, read with the plan: the made leg's, as knownTransferIds reads them.
    expect(replanned.knownTransferIds).toEqual([made[0]!.stripeTransferId]);
    expect(replanned.knownTransferIds).toEqual(await knownTransferIds(db, payout.id));
    // New legs take numbers never used before.
    expect(Math.min(...replanned.pending.map((l) => l.leg))).toBeGreaterThan(Math.max(...first.pending.map((l) => l.leg)));
  });
});
