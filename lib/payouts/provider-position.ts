import "server-only";

import type { Payout } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import type { Tx } from "@/lib/db";
import { formatMoney } from "@/lib/money/format-money";
import { payoutAmount } from "@/lib/money/money";

import type { TRefundClaim } from "./refund-claim";
import { stillTaken, type TTaken } from "./reversal-share";

// Where the provider stands on a transferred payout: what the rules owe them, what they hold,
// what is on its way to them; and what losses and reversals took, which both are counted from.
// Read by the settling of claims (claims-after-transfer.ts), and by repayments and top-ups as
// they land (repay-provider.ts, top-up-payout.ts, through reverseWhatIsNotOwed).

/**
 * Reversals still counted against a transfer: made, being made, or refused and owed as a debt still
 * open or recovered from later payouts (settled). A refused one counts for its debt as it stands: a failed refund may have lowered it
 * (provider.debt_reduced), and what was given back that way is the provider's again, there to be
 * reversed by a later loss.
 */
export async function takenFrom(tx: Tx, transferIds: readonly string[]): Promise<Map<string, TTaken>> {
  const rows = await tx.transferReversal.findMany({
    where: {
      payoutTransferId: { in: [...transferIds] },
      // A debt recovered from later payouts (settled) was taken all the same.
      OR: [{ status: { in: ["pending", "succeeded"] } }, { status: "failed", debt: { is: { status: { in: ["open", "settled"] } } } }],
    },
    select: { payoutTransferId: true, amount: true, transferAmount: true, status: true, debt: { select: { amount: true } } },
  });
  const taken = new Map<string, TTaken>();
  for (const r of rows) {
    const before = taken.get(r.payoutTransferId!) ?? { amount: 0, transferAmount: 0 };
    const still = stillTaken(r);
    taken.set(r.payoutTransferId!, { amount: before.amount + still.amount, transferAmount: before.transferAmount + still.transferAmount });
  }
  return taken;
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
export async function lossesTaken(tx: Tx, bookingId: string, claims: readonly TRefundClaim[]): Promise<number> {
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
   * What the payout's transfers made (its own, top-ups, repayments) and what it recovered of their
   * debts (debtRecoveredAmount) left them: less every reversal
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
  // What the payout kept for the provider's debts was theirs: it paid those debts instead of reaching them.
  const held = (made._sum.payoutAmount ?? 0) + payout.debtRecoveredAmount - taken;
  return { owed, held, onItsWay: pending._sum.payoutAmount ?? 0 };
}

/**
 * Claims took more than is at the provider now. What is on its way to them covers it (repayments
 * send less, transfers that land are reversed by what they overpay); what they hold beyond what
 * the rules owe cannot be taken from anything: a person must recover it. Call with the booking and
 * the payout locked, after the claims are settled.
 */
export async function alertIfNotCovered(tx: Tx, payout: Payout): Promise<void> {
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
