import "server-only";

import type { Payout, PayoutTransfer, Tip } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import { recordAudit, type TActor } from "@/lib/audit/record-audit";
import type { Tx } from "@/lib/db";
import { formatMoney } from "@/lib/money/format-money";
import { lossTaken, payoutAmount, refundGivenBack } from "@/lib/money/money";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";

import { changePayout, payoutSnapshot } from "./change-payout";
import { createTopUpLegs, planTopUp } from "./payout-transfers";
import { mulDivFloor } from "./plan-transfers";
import { nextStatus, type TPayoutEvent } from "./state-machine";
import type { TLockedBooking } from "./sync-payout-with-booking";

// After the money moved, what refunds and lost disputes take from the provider is recovered with
// transfer reversals, and what a failed refund gives back is returned: by cancelling a reversal
// not yet sent, by forgiving the debt of a reversal that could not be made, and otherwise with a
// repayment transfer (exactly once per charge step). A payout paid with several transfers reverses
// from the transfer funded by the claim's own charge first, then from the others in order (its
// top-ups and repayments are transfers too).
// A loss counts in full once settled, whatever was left to reverse; it takes what it lowers the
// payout's amount by (lossTaken: never the part beyond share + tips, which was never paid). What
// it takes and the provider does not hold yet (a repayment or top-up still on its way) is kept from
// that money: a repayment sends only what the provider is still owed, and a transfer that lands
// while the provider holds more than that has the difference reversed from it (providerPosition).
// Tips received before the transfer was made that could not join the payout in time are paid
// with a top-up: more transfers after it (topUpForTips).

/** A change in what the provider bears that the payout has not absorbed yet (see syncPayoutWithBooking). */
export type TRefundClaim = {
  /** > 0 takes from the provider; < 0 (a refund that failed) gives back. */
  amount: number;
  /** The reversal's link to its cause: a dispute, or a charge step. */
  link: { disputeId: string } | { chargeRefundId: string };
  /** The charge the money was refunded or disputed on; null for the booking platform's disputes. */
  stripeChargeId: string | null;
  /** Why, for the audit log. */
  afterTransferReason: string;
};

type TAudit = { actor: TActor; runId: string | null; requestId: string | null };

/** What reversals took from a transfer: in the payout's currency, and in the transfer's own. */
type TTaken = { amount: number; transferAmount: number };

/**
 * Reversals still counted against a transfer: made, being made, or refused and owed as a debt still
 * open. A refused one counts for its debt as it stands: a failed refund may have lowered it
 * (provider.debt_reduced), and what was given back that way is the provider's again, there to be
 * reversed by a later loss.
 */
async function takenFrom(tx: Tx, transferIds: readonly string[]): Promise<Map<string, TTaken>> {
  const rows = await tx.transferReversal.findMany({
    where: {
      payoutTransferId: { in: [...transferIds] },
      OR: [{ status: { in: ["pending", "succeeded"] } }, { status: "failed", debt: { is: { status: "open" } } }],
    },
    select: { payoutTransferId: true, amount: true, transferAmount: true, status: true, debt: { select: { amount: true } } },
  });
  const taken = new Map<string, TTaken>();
  for (const r of rows) {
    const before = taken.get(r.payoutTransferId!) ?? { amount: 0, transferAmount: 0 };
    const whole = r.transferAmount ?? r.amount;
    const amount = r.status === "failed" && r.debt ? Math.min(r.debt.amount, r.amount) : r.amount;
    // In the transfer's currency, what was given back of it rounded down: never counted as more left than there is.
    const transferAmount = amount === r.amount ? whole : whole - mulDivFloor(r.amount - amount, whole, r.amount);
    taken.set(r.payoutTransferId!, { amount: before.amount + amount, transferAmount: before.transferAmount + transferAmount });
  }
  return taken;
}

/**
 * Turns each claim into reversals (positive) or give-backs (negative). Call with the booking
 * and the payout locked, for a payout that was transferred. Returns the reversals and
 * repayments requested (their Inngest events are in the outbox).
 *
 * A positive claim is settled at once and counts in full from then on: it reverses what it takes
 * (lossTaken: the payout's amount with the losses before it less with them after) from what is
 * at Stripe. The part beyond share + tips was never paid: it is not taken (reversal_capped). A
 * part taken that is not at the provider yet (a repayment or top-up on its way) is kept from that
 * money (reversal_deferred): repay-provider.ts sends only what is still owed, and
 * reverseWhatIsNotOwed reverses it from a transfer that lands; should nothing cover it, a person
 * is alerted. A claim that reversed nothing is marked applied, so it is never settled twice.
 */
export async function settleClaimsAfterTransfer(
  tx: Tx,
  payout: Payout,
  claims: readonly TRefundClaim[],
  audit: TAudit,
): Promise<{ reversalIds: string[]; repaymentIds: string[] }> {
  const reversalIds: string[] = [];
  const repaymentIds: string[] = [];
  const transfers = await tx.payoutTransfer.findMany({
    where: { payoutId: payout.id, status: "succeeded", stripeTransferId: { not: null } },
    orderBy: [{ kind: "asc" }, { leg: "asc" }],
  });
  const taken = await takenFrom(
    tx,
    transfers.map((t) => t.id),
  );
  const parts = { providerShare: payout.providerShare, tipAmount: payout.tipAmount };
  // What takes from the payout, as of the claim being settled (claims are settled in order): the
  // losses settled before, and each claim's amount once it is, in full, taken or not.
  let losses = await lossesTaken(tx, payout.bookingId, claims);
  let deferred = 0;
  const now = new Date();

  for (const claim of claims) {
    const existing = await tx.transferReversal.count({ where: claim.link });
    if (existing > 0) continue;
    if (claim.amount > 0) {
      const takes = lossTaken({ ...parts, refundedAmount: Math.max(0, losses) }, claim.amount);
      losses += claim.amount;
      const { ids, reversed } = await reverseClaim(tx, payout, transfers, taken, claim, takes, audit);
      reversalIds.push(...ids);
      if (claim.amount > takes) {
        await recordAudit(tx, {
          ...audit,
          action: "payout.reversal_capped",
          entityType: "payout",
          entityId: payout.id,
          reason: `${claim.afterTransferReason}: ${claim.amount - takes} ${payout.currency} of it is beyond the share and tips the other refunds and disputes leave (never paid, so not taken)`,
          after: { claimAmount: claim.amount, notReversed: claim.amount - takes },
        });
      }
      if (takes > reversed) {
        deferred += takes - reversed;
        const { onItsWay } = await providerPosition(tx, payout);
        await recordAudit(tx, {
          ...audit,
          action: "payout.reversal_deferred",
          entityType: "payout",
          entityId: payout.id,
          reason:
            `${claim.afterTransferReason}: ${takes - reversed} ${payout.currency} of it is not at the provider yet (a repayment or top-up on its way): ` +
            `a repayment sends that much less, and a transfer that lands is reversed by what it overpays`,
          after: { claimAmount: claim.amount, reversed, deferred: takes - reversed, onItsWay },
        });
      }
      // Settled and counted though nothing was reversed (a claim with reversals is settled by them).
      if (ids.length === 0) {
        if ("disputeId" in claim.link) await tx.dispute.update({ where: { id: claim.link.disputeId }, data: { refundAppliedAt: now } });
        else await tx.chargeRefund.update({ where: { id: claim.link.chargeRefundId }, data: { appliedAt: now } });
      }
    } else if (claim.amount < 0 && "chargeRefundId" in claim.link) {
      losses += claim.amount;
      // Only what the step down stops taking comes back: losses beyond share + tips were never taken.
      const givenBack = refundGivenBack({ ...parts, refundedAmount: Math.max(0, losses) }, -claim.amount);
      const repayment = await giveBack(tx, payout, claim as TRefundClaim & { link: { chargeRefundId: string } }, givenBack, audit);
      if (repayment) repaymentIds.push(repayment);
    }
  }
  if (deferred > 0) await alertIfNotCovered(tx, payout);
  return { reversalIds, repaymentIds };
}

/**
 * What refunds and disputes have taken from the booking's payout so far, in full (even beyond share
 * + tips, as the payout's refunded amount counts them before the transfer): every resolved
 * dispute's refund (the booking platform's, and the provider's part of lost Stripe chargebacks)
 * taken off the payout before its transfer or settled after it (by reversals, or marked applied
 * when there was nothing to reverse), and every step of the booking's charges (Stripe refunds,
 * failed ones, re-pricings) but those the claims being settled carry.
 * The platform's and Stripe's reports are separate facts and both count
 * (sync-payout-with-booking.ts alerts when a booking has both).
 */
async function lossesTaken(tx: Tx, bookingId: string, claims: readonly TRefundClaim[]): Promise<number> {
  const inClaims = claims.flatMap((c) => ("chargeRefundId" in c.link ? [c.link.chargeRefundId] : []));
  const disputes = await tx.dispute.aggregate({
    where: { bookingId, status: "resolved", OR: [{ refundAppliedAt: { not: null } }, { reversals: { some: {} } }] },
    _sum: { refundedAmount: true },
  });
  const steps = await tx.chargeRefund.aggregate({ where: { bookingId, id: { notIn: inClaims } }, _sum: { amount: true } });
  return (disputes._sum.refundedAmount ?? 0) + (steps._sum.amount ?? 0);
}

/** Where the provider stands on a transferred payout, in the payout's currency. */
export type TProviderPosition = {
  /** What the rules owe them: share + tips less every loss settled, counted in full (never below zero). */
  owed: number;
  /**
   * What the payout's transfers made (its own, top-ups, repayments) left them: less every reversal
   * made, being made, or refused and owed as a debt not written off (for the debt as it stands: a failed
   * refund may have lowered it).
   */
  held: number;
  /** Transfers to them not made yet: repayments and top-ups. */
  onItsWay: number;
};

/** The provider's position on a transferred payout (TProviderPosition). Call with the booking and the payout locked. */
export async function providerPosition(tx: Tx, payout: Payout): Promise<TProviderPosition> {
  const losses = await lossesTaken(tx, payout.bookingId, []);
  const owed = payoutAmount({ providerShare: payout.providerShare, tipAmount: payout.tipAmount, refundedAmount: Math.max(0, losses) });
  const made = await tx.payoutTransfer.aggregate({
    where: { payoutId: payout.id, status: "succeeded", stripeTransferId: { not: null } },
    _sum: { payoutAmount: true },
  });
  const pending = await tx.payoutTransfer.aggregate({ where: { payoutId: payout.id, status: "pending" }, _sum: { payoutAmount: true } });
  const reversed = await tx.transferReversal.aggregate({
    where: { payoutId: payout.id, status: { in: ["pending", "succeeded"] } },
    _sum: { amount: true },
  });
  // A refused reversal counts for its debt as it stands (a failed refund may have lowered it).
  const owedBack = await tx.providerDebt.aggregate({
    where: { payoutId: payout.id, status: { in: ["open", "settled"] }, reversal: { is: { status: "failed" } } },
    _sum: { amount: true },
  });
  const taken = (reversed._sum.amount ?? 0) + (owedBack._sum.amount ?? 0);
  return { owed, held: (made._sum.payoutAmount ?? 0) - taken, onItsWay: pending._sum.payoutAmount ?? 0 };
}

/**
 * Claims took more than is at the provider now. What is on its way to them covers it (repayments
 * send less, transfers that land are reversed by what they overpay); what they hold beyond what
 * the rules owe cannot be taken from anything: a person must recover it. Call with the booking and
 * the payout locked, after the claims are settled.
 */
async function alertIfNotCovered(tx: Tx, payout: Payout): Promise<void> {
  const { owed, held } = await providerPosition(tx, payout);
  if (held <= owed) return;
  await raiseAlert(tx, {
    kind: "reversal_not_covered",
    severity: "critical",
    title: "Refunds after the transfer cannot all be reversed",
    message:
      `Payout ${payout.id}: the provider holds ${formatMoney(held, payout.currency)} of it, the rules owe ${formatMoney(owed, payout.currency)}, ` +
      `and nothing is left at Stripe or on its way to reverse the ${formatMoney(held - owed, payout.currency)} between them. Recover it by hand.`,
    payoutId: payout.id,
    providerId: payout.providerId,
    dedupeKey: `reversal_not_covered:${payout.id}:${held - owed}`,
  });
}

/**
 * A transfer to the provider (a repayment, a top-up) was just recorded as made. What it overpays
 * (with it, and what else is on its way, the provider would hold more than the rules owe: a loss
 * was settled while it was on its way) is reversed from it at once, audited, the reversal requested
 * in the outbox. A repayment sent after the loss sends only what is owed (repay-provider.ts), so
 * this acts when the transfer had left already. Call with the booking and the payout locked.
 */
export async function reverseWhatIsNotOwed(
  tx: Tx,
  payout: Payout,
  transfer: PayoutTransfer,
  audit: TAudit,
  reason: string,
): Promise<string | null> {
  const { owed, held, onItsWay } = await providerPosition(tx, payout);
  const excess = held + onItsWay - owed;
  if (excess <= 0) return null;
  const already = (await takenFrom(tx, [transfer.id])).get(transfer.id) ?? { amount: 0, transferAmount: 0 };
  const amount = Math.min(excess, transfer.payoutAmount - already.amount);
  const converted = transfer.amount === transfer.payoutAmount ? amount : mulDivFloor(amount, transfer.amount, transfer.payoutAmount);
  const transferAmount = Math.min(converted, transfer.amount - already.transferAmount);
  if (amount <= 0 || transferAmount <= 0) return null;
  const reversal = await tx.transferReversal.create({
    data: {
      payoutId: payout.id,
      payoutTransferId: transfer.id,
      ...(transfer.chargeRefundId ? { chargeRefundId: transfer.chargeRefundId } : {}),
      amount,
      currency: payout.currency,
      transferAmount,
      transferCurrency: transfer.currency,
      status: "pending",
      initiatedBy: "platform",
    },
  });
  await recordAudit(tx, {
    ...audit,
    action: "payout.reversal_requested",
    entityType: "payout",
    entityId: payout.id,
    reason: `${reason}: with it the provider would hold ${excess} ${payout.currency} more than the rules owe (refunds or disputes settled while it was on its way)`,
    before: payoutSnapshot(payout),
    after: {
      ...payoutSnapshot(payout),
      reversalId: reversal.id,
      reversalAmount: amount,
      stripeTransferId: transfer.stripeTransferId,
      owed,
      held,
      onItsWay,
    },
  });
  await enqueueEvent(tx, {
    name: "payout/reversal.requested",
    data: { reversalId: reversal.id, payoutId: payout.id },
    eventId: `reversal:${reversal.id}`,
  });
  return reversal.id;
}

/** Reverses `amountToReverse` of a claim from the payout's transfers, as far as they have it; the reversals requested and what they take. */
async function reverseClaim(
  tx: Tx,
  payout: Payout,
  transfers: readonly PayoutTransfer[],
  taken: Map<string, TTaken>,
  claim: TRefundClaim,
  amountToReverse: number,
  audit: TAudit,
): Promise<{ ids: string[]; reversed: number }> {
  const ordered = [...transfers].sort(
    (a, b) =>
      Number(b.sourceChargeId === claim.stripeChargeId && claim.stripeChargeId !== null) -
      Number(a.sourceChargeId === claim.stripeChargeId && claim.stripeChargeId !== null),
  );
  let left = amountToReverse;
  const ids: string[] = [];
  for (const transfer of ordered) {
    if (left <= 0) break;
    const already = taken.get(transfer.id) ?? { amount: 0, transferAmount: 0 };
    const reversible = transfer.payoutAmount - already.amount;
    if (reversible <= 0) continue;
    const amount = Math.min(left, reversible);
    // Never more than is left of the transfer in its own currency (conversions round down both ways).
    const converted = transfer.amount === transfer.payoutAmount ? amount : mulDivFloor(amount, transfer.amount, transfer.payoutAmount);
    const transferAmount = Math.min(converted, transfer.amount - already.transferAmount);
    if (transferAmount <= 0) continue;
    left -= amount;
    taken.set(transfer.id, { amount: already.amount + amount, transferAmount: already.transferAmount + transferAmount });
    const reversal = await tx.transferReversal.create({
      data: {
        payoutId: payout.id,
        payoutTransferId: transfer.id,
        ...claim.link,
        amount,
        currency: payout.currency,
        transferAmount,
        transferCurrency: transfer.currency,
        status: "pending",
        initiatedBy: "platform",
      },
    });
    ids.push(reversal.id);
    await recordAudit(tx, {
      ...audit,
      action: "payout.reversal_requested",
      entityType: "payout",
      entityId: payout.id,
      reason: claim.afterTransferReason,
      before: payoutSnapshot(payout),
      after: { ...payoutSnapshot(payout), reversalId: reversal.id, reversalAmount: amount, stripeTransferId: transfer.stripeTransferId },
    });
    await enqueueEvent(tx, {
      name: "payout/reversal.requested",
      data: { reversalId: reversal.id, payoutId: payout.id },
      eventId: `reversal:${reversal.id}`,
    });
  }
  return { ids, reversed: amountToReverse - left };
}

/**
 * A refund behind an earlier step failed: the provider gets back what it took, `givenBack`
 * (refundGivenBack: the step down less what the losses still take beyond share + tips, which the
 * refund never took; said in the audit log when smaller than the step). First the
 * reversals of that charge's steps that were never sent are cancelled, then the open debts of
 * those that Stripe refused are forgiven (whole ones, newest first, while they fit, then part of the
 * newest of the others); what is left
 * was really taken and is repaid with one transfer (lib/payouts/repay-provider.ts), which sends at
 * most what the reversals actually took once none is in flight.
 */
async function giveBack(
  tx: Tx,
  payout: Payout,
  claim: TRefundClaim & { link: { chargeRefundId: string } },
  givenBack: number,
  audit: TAudit,
): Promise<string | null> {
  let left = givenBack;
  const now = new Date();
  if (givenBack < -claim.amount) {
    await recordAudit(tx, {
      ...audit,
      action: "payout.give_back_capped",
      entityType: "payout",
      entityId: payout.id,
      reason: `${claim.afterTransferReason}: ${-claim.amount - givenBack} ${payout.currency} of it was never taken (refunds and disputes together took more than the share and tips)`,
      after: { chargeRefundId: claim.link.chargeRefundId, stepDown: -claim.amount, givenBack, notGivenBack: -claim.amount - givenBack },
    });
  }
  const sameCharge = { payoutId: payout.id, chargeRefund: { is: { stripeChargeId: claim.stripeChargeId ?? "" } } };

  const unsent = await tx.transferReversal.findMany({
    where: { ...sameCharge, status: "pending", initiatedBy: "platform", sentAt: null },
    orderBy: { createdAt: "desc" },
  });
  for (const r of unsent) {
    if (r.amount > left) continue;
    // Its run may have claimed it for sending since it was read (reverse-transfer.ts does not take
    // the booking's lock): then it is no longer cancelled, and what it takes is repaid.
    const { count } = await tx.transferReversal.updateMany({
      where: { id: r.id, status: "pending", sentAt: null },
      data: { status: "canceled", failureReason: "the refund it recovered failed at Stripe" },
    });
    if (count === 0) continue;
    left -= r.amount;
    await recordAudit(tx, {
      ...audit,
      action: "payout.reversal_canceled",
      entityType: "payout",
      entityId: payout.id,
      reason: claim.afterTransferReason,
      after: { reversalId: r.id, reversalAmount: r.amount },
    });
  }

  const debts = await tx.providerDebt.findMany({
    where: { payoutId: payout.id, status: "open", reversal: { is: sameCharge } },
    orderBy: { createdAt: "desc" },
  });
  for (const debt of debts) {
    if (debt.amount > left) continue;
    await tx.providerDebt.update({ where: { id: debt.id }, data: { status: "written_off", settledAt: now } });
    left -= debt.amount;
    await recordAudit(tx, {
      ...audit,
      action: "provider.debt_forgiven",
      entityType: "payout",
      entityId: payout.id,
      reason: `${claim.afterTransferReason}: the refund the debt recovered failed`,
      after: { debtId: debt.id, amount: debt.amount, currency: debt.currency },
    });
  }
  // What is left is smaller than any open debt: it lowers the newest by that much. Nothing was
  // taken from the provider for a debt, so nothing of it may be repaid (repayments send only
  // what reversals actually took), and a debt left whole would claim more than the refunds took.
  const partly = left > 0 ? debts.find((d) => d.amount > left) : undefined;
  if (partly) {
    const remaining = partly.amount - left;
    await tx.providerDebt.update({ where: { id: partly.id }, data: { amount: remaining } });
    await recordAudit(tx, {
      ...audit,
      action: "provider.debt_reduced",
      entityType: "payout",
      entityId: payout.id,
      reason: `${claim.afterTransferReason}: part of the refund the debt recovered failed`,
      before: { debtId: partly.id, amount: partly.amount, currency: partly.currency },
      after: { debtId: partly.id, amount: remaining, currency: partly.currency },
    });
    left = 0;
  }

  await tx.chargeRefund.update({ where: { id: claim.link.chargeRefundId }, data: { appliedAt: now } });
  if (left <= 0) return null;
  const last = await tx.payoutTransfer.aggregate({ where: { payoutId: payout.id, kind: "repayment" }, _max: { leg: true } });
  const leg = (last._max.leg ?? 0) + 1;
  const source = claim.stripeChargeId
    ? await tx.payoutTransfer.findFirst({
        where: { payoutId: payout.id, kind: "payout", status: "succeeded", sourceChargeId: claim.stripeChargeId },
      })
    : null;
  const converted = source !== null && source.amount !== source.payoutAmount;
  if (converted && mulDivFloor(left, source.amount, source.payoutAmount) === 0) return null;
  const repayment = await tx.payoutTransfer.create({
    data: {
      payoutId: payout.id,
      kind: "repayment",
      amountVersion: payout.amountVersion,
      leg,
      payoutAmount: left,
      amount: converted ? mulDivFloor(left, source.amount, source.payoutAmount) : left,
      currency: converted ? source.currency : payout.currency,
      exchangeRate: converted ? source.exchangeRate : null,
      chargeRefundId: claim.link.chargeRefundId,
      idempotencyKey: `repayment:${claim.link.chargeRefundId}`,
    },
  });
  await recordAudit(tx, {
    ...audit,
    action: "payout.repayment_requested",
    entityType: "payout",
    entityId: payout.id,
    reason: claim.afterTransferReason,
    after: { repaymentId: repayment.id, amount: left, currency: payout.currency },
  });
  await enqueueEvent(tx, {
    name: "payout/repayment.requested",
    data: { repaymentId: repayment.id, payoutId: payout.id },
    eventId: `repayment:${repayment.id}`,
  });
  return repayment.id;
}

/** The state-machine event that puts a transferred payout's status in line with what it lost after the transfer. */
export function reversalEvent(payout: Pick<Payout, "amount">, reversedAmount: number, repaidAmount: number): TPayoutEvent {
  const lost = reversedAmount - repaidAmount;
  if (lost <= 0) return "unreverse";
  return lost >= payout.amount ? "reverse_fully" : "reverse_partially";
}

/**
 * Tips received before the payout's transfer was made that could not join it in time (they came
 * while the transfer was in flight or waited for its retry, or their delivery was applied only
 * after it was made) are paid on top of it: they join the payout (its amount and amount version
 * go up; its status still follows what reversals took), and the difference is planned as the
 * payout's next transfer(s) under the new version's keys, sent by lib/payouts/top-up-payout.ts.
 * Exactly once: the tips join and their transfers are planned in one transaction, under the
 * booking's lock, and a tip joined is never topped up again. When no transfer can carry them (a
 * currency the platform cannot transfer) nothing changes and a person is alerted. Call with the
 * booking and the payout locked, for a payout that was transferred.
 */
export async function topUpForTips(
  tx: Tx,
  payout: Payout,
  booking: TLockedBooking,
  tips: readonly Tip[],
  audit: TAudit,
): Promise<{ payout: Payout; topUpIds: string[] }> {
  const waiting = tips.filter((t) => t.status === "accepted" && t.payoutId === null);
  if (waiting.length === 0) return { payout, topUpIds: [] };
  const tipAmount = payout.tipAmount + waiting.reduce((sum, t) => sum + t.amount, 0);
  const amount = payoutAmount({ providerShare: payout.providerShare, tipAmount, refundedAmount: payout.refundedAmount });
  const topUp = amount - payout.amount;
  const joined = tips.filter((t) => t.status === "accepted" && (t.payoutId === payout.id || t.payoutId === null));
  const plan =
    topUp > 0 ? await planTopUp(tx, { ...payout, tipAmount, amount }, booking, joined, topUp) : { kind: "plan" as const, legs: [] };
  const reason = `${waiting.length === 1 ? "a tip" : `${waiting.length} tips`} received before the transfer was made (${waiting.map((t) => t.externalId).join(", ")})`;
  if (plan.kind !== "plan") {
    await raiseAlert(tx, {
      kind: "payout_top_up_unplanned",
      severity: "critical",
      title: "Tips received before the transfer cannot be paid",
      message: `Payout ${payout.id} of booking ${booking.externalId} was transferred; ${reason} should be paid on top (${formatMoney(topUp, payout.currency)}), but no transfer can carry them: ${plan.reason} Pay them by hand.`,
      payoutId: payout.id,
      providerId: payout.providerId,
      dedupeKey: `payout_top_up_unplanned:${waiting[0]!.id}`,
    });
    return { payout, topUpIds: [] };
  }

  await tx.tip.updateMany({ where: { id: { in: waiting.map((t) => t.id) } }, data: { payoutId: payout.id } });
  // The payout's status follows what reversals took of its (larger) amount.
  const event = reversalEvent({ amount }, payout.reversedAmount, payout.repaidAmount);
  const updated = await changePayout(tx, payout, {
    ...(nextStatus(payout.status, event) !== payout.status ? { event } : {}),
    data: { tipAmount },
    audit: { ...audit, action: "payout.top_up_requested", reason, details: { topUpAmount: topUp, tipIds: waiting.map((t) => t.id) } },
  });
  const legs = await createTopUpLegs(tx, updated, plan.legs);
  for (const leg of legs) {
    await enqueueEvent(tx, {
      name: "payout/top-up.requested",
      data: { transferId: leg.id, payoutId: payout.id },
      eventId: `top-up:${leg.id}`,
    });
  }
  return { payout: updated, topUpIds: legs.map((l) => l.id) };
}
