import "server-only";

import type { Payout, PayoutTransfer, Tip } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import { recordAudit, type TActor } from "@/lib/audit/record-audit";
import type { Tx } from "@/lib/db";
import { formatMoney } from "@/lib/money/format-money";
import { payoutAmount, refundGivenBack } from "@/lib/money/money";
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
// from the transfer funded by the claim's own charge first, then from the others in order.
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

/** Reversals still counted against a transfer: made, being made, or refused and owed as a debt still open. */
async function takenFrom(tx: Tx, transferIds: readonly string[]): Promise<Map<string, TTaken>> {
  const rows = await tx.transferReversal.findMany({
    where: {
      payoutTransferId: { in: [...transferIds] },
      OR: [{ status: { in: ["pending", "succeeded"] } }, { status: "failed", debt: { is: { status: "open" } } }],
    },
    select: { payoutTransferId: true, amount: true, transferAmount: true },
  });
  const taken = new Map<string, TTaken>();
  for (const r of rows) {
    const before = taken.get(r.payoutTransferId!) ?? { amount: 0, transferAmount: 0 };
    taken.set(r.payoutTransferId!, { amount: before.amount + r.amount, transferAmount: before.transferAmount + (r.transferAmount ?? r.amount) });
  }
  return taken;
}

/**
 * Turns each claim into reversals (positive) or give-backs (negative). Call with the booking
 * and the payout locked, for a payout that was transferred. Returns the reversals and
 * repayments requested (their Inngest events are in the outbox).
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
  const taken = await takenFrom(tx, transfers.map((t) => t.id));
  // What takes from the payout, as of the claim being settled (claims are settled in order): the
  // losses already taken, and each claim's amount once it is (a claim that found nothing left to
  // reverse stays pending, to be reversed when there is, so it is not counted yet).
  let losses = await lossesTaken(tx, payout.bookingId, claims);

  for (const claim of claims) {
    const existing = await tx.transferReversal.count({ where: claim.link });
    if (existing > 0) continue;
    if (claim.amount > 0) {
      const ids = await reverseClaim(tx, payout, transfers, taken, claim, audit);
      reversalIds.push(...ids);
      if (ids.length > 0) losses += claim.amount;
    } else if (claim.amount < 0 && "chargeRefundId" in claim.link) {
      losses += claim.amount;
      // Only what the step down stops taking comes back: losses beyond share + tips were never taken.
      const givenBack = refundGivenBack({ providerShare: payout.providerShare, tipAmount: payout.tipAmount, refundedAmount: Math.max(0, losses) }, -claim.amount);
      const repayment = await giveBack(tx, payout, claim as TRefundClaim & { link: { chargeRefundId: string } }, givenBack, audit);
      if (repayment) repaymentIds.push(repayment);
    }
  }
  return { reversalIds, repaymentIds };
}

/**
 * What refunds and disputes have taken from the booking's payout so far, in full (even beyond share
 * + tips, as the payout's refunded amount counts them before the transfer): every resolved
 * dispute's refund (the booking platform's, and the provider's part of lost Stripe chargebacks)
 * taken off the payout before its transfer or by reversals, and every step of the booking's
 * charges (Stripe refunds, failed ones, re-pricings) but those the claims being settled carry.
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

async function reverseClaim(
  tx: Tx,
  payout: Payout,
  transfers: readonly PayoutTransfer[],
  taken: Map<string, TTaken>,
  claim: TRefundClaim,
  audit: TAudit,
): Promise<string[]> {
  const ordered = [...transfers].sort((a, b) => Number(b.sourceChargeId === claim.stripeChargeId && claim.stripeChargeId !== null) - Number(a.sourceChargeId === claim.stripeChargeId && claim.stripeChargeId !== null));
  let left = claim.amount;
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
  if (left > 0 && ids.length > 0) {
    // Recorded once, with the reversals (a claim with nothing left to reverse changes nothing).
    await recordAudit(tx, {
      ...audit,
      action: "payout.reversal_capped",
      entityType: "payout",
      entityId: payout.id,
      reason: `${claim.afterTransferReason}: ${left} ${payout.currency} more than is left to reverse`,
      after: { claimAmount: claim.amount, notReversed: left },
    });
  }
  return ids;
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
async function giveBack(tx: Tx, payout: Payout, claim: TRefundClaim & { link: { chargeRefundId: string } }, givenBack: number, audit: TAudit): Promise<string | null> {
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

  const debts = await tx.providerDebt.findMany({ where: { payoutId: payout.id, status: "open", reversal: { is: sameCharge } }, orderBy: { createdAt: "desc" } });
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
    ? await tx.payoutTransfer.findFirst({ where: { payoutId: payout.id, kind: "payout", status: "succeeded", sourceChargeId: claim.stripeChargeId } })
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
  const plan = topUp > 0 ? await planTopUp(tx, { ...payout, tipAmount, amount }, booking, joined, topUp) : { kind: "plan" as const, legs: [] };
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
    await enqueueEvent(tx, { name: "payout/top-up.requested", data: { transferId: leg.id, payoutId: payout.id }, eventId: `top-up:${leg.id}` });
  }
  return { payout: updated, topUpIds: legs.map((l) => l.id) };
}
