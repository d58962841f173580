import "server-only";

import type { Payout, PayoutTransfer, PrismaClient, Tip } from "@/generated/prisma/client";
import { knownCharges, fundingOf } from "@/lib/charges/charge-funding";
import type { TFundingCharge } from "@/lib/charges/funding-charge";
import { knownPlatformCurrencies } from "@/lib/charges/platform-currencies";
import type { Tx } from "@/lib/db";
import { transferIdempotencyKey } from "@/lib/stripe/transfers";

import { owedByCharge, planTransfers, type TFundingPlan, type TPlannedLeg } from "./plan-transfers";
import type { TLockedBooking } from "./sync-payout-with-booking";

// A payout's planned Stripe transfers (PayoutTransfer), made once per amount version from the
// facts and the charges Stripe described (lib/payouts/plan-transfers.ts). A plan is kept until
// it is paid: every retry sends the same transfers with the same keys. Transfers already made
// stay when the amount changes (a failed payout adjusted by a refund); only what is left is planned
// anew, and the unsent transfers of the old amount are superseded. Tips received before the
// transfer was made that join the payout only after it are paid with a top-up: more transfers,
// the next legs, planned for the amount version the tips made (planTopUp, createTopUpLegs).

/** What the plan needs of a tip joined to the payout. */
export type TTipPart = Pick<Tip, "amount" | "stripeChargeId" | "tippedAt">;

export type TPlanOutcome =
  | { kind: "planned"; pending: PayoutTransfer[] }
  | { kind: "currency_unsupported"; reason: string }
  /** More was transferred than the payout now owes: a person must recover the difference. */
  | { kind: "overpaid"; reason: string };

/** The idempotency key of a planned transfer; a new suffix after each refusal Stripe stored under it. */
export function legKey(leg: Pick<PayoutTransfer, "payoutId" | "amountVersion" | "leg" | "refusals">): string {
  return transferIdempotencyKey(leg.payoutId, leg.amountVersion, leg.refusals, leg.leg);
}

/** The charges that pay for a payout: its booking's and those of the accepted tips that joined it. */
export async function chargeIdsOfPayout(db: PrismaClient | Tx, payoutId: string): Promise<string[]> {
  const payout = await db.payout.findUnique({
    where: { id: payoutId },
    select: { booking: { select: { stripeChargeId: true } }, tips: { where: { status: "accepted" }, select: { stripeChargeId: true } } },
  });
  if (!payout) return [];
  const ids = [payout.booking.stripeChargeId, ...payout.tips.map((t) => t.stripeChargeId)].filter((id): id is string => id !== null);
  return [...new Set(ids)];
}

/** Call with the booking and the payout locked. */
export async function ensureTransferPlan(tx: Tx, payout: Payout, booking: TLockedBooking): Promise<TPlanOutcome> {
  const legs = await tx.payoutTransfer.findMany({ where: { payoutId: payout.id, kind: "payout" }, orderBy: { leg: "asc" } });
  const current = legs.filter((l) => l.status === "pending" && l.amountVersion === payout.amountVersion);
  if (current.length > 0) return { kind: "planned", pending: current };
  const stale = legs.filter((l) => l.status === "pending");
  if (stale.length > 0) await tx.payoutTransfer.updateMany({ where: { id: { in: stale.map((l) => l.id) } }, data: { status: "superseded" } });

  const made = legs.filter((l) => l.status === "succeeded");
  const paid = made.reduce((sum, l) => sum + l.payoutAmount, 0);
  const remaining = payout.amount - paid;
  if (remaining < 0) {
    return { kind: "overpaid", reason: `${paid} ${payout.currency} was already transferred, more than the ${payout.amount} the payout now owes` };
  }
  if (remaining === 0) return { kind: "planned", pending: [] };

  const tips = await tx.tip.findMany({ where: { payoutId: payout.id, status: "accepted" }, select: { amount: true, stripeChargeId: true, tippedAt: true } });
  const plan = await planRemaining(tx, payout, booking, tips, made, remaining);
  if (plan.kind !== "plan") return plan;
  return { kind: "planned", pending: await createLegs(tx, payout, Math.max(0, ...made.map((l) => l.leg)) + 1, plan.legs) };
}

/**
 * A top-up: `amount` more to pay on a payout whose transfer was already made (tips received before
 * it was made that could not join it in time; lib/payouts/claims-after-transfer.ts). `payout` is
 * the payout as it will be with those tips (its amount grown by `amount`), `tips` all the tips it
 * will have. The transfers that carry it, as planTransfers makes them: from the charges that paid
 * those tips where they can carry it (less what the payout's transfers, made or still to be sent,
 * already took from each), the rest from the balance. Nothing is written: createTopUpLegs records
 * them once the payout has its new amount version. Call with the booking and the payout locked.
 */
export async function planTopUp(
  tx: Tx,
  payout: Payout,
  booking: TLockedBooking,
  tips: readonly TTipPart[],
  amount: number,
): Promise<TFundingPlan> {
  const legs = await tx.payoutTransfer.findMany({ where: { payoutId: payout.id, kind: "payout", status: { in: ["pending", "succeeded"] } } });
  return planRemaining(tx, payout, booking, tips, legs, amount);
}

/**
 * Records a top-up's transfers as the next legs of the payout, planned for its current amount
 * version, each with its own key. Leg numbers are never reused (a transfer is found at Stripe by
 * its leg, metadata.leg).
 */
export async function createTopUpLegs(tx: Tx, payout: Payout, legs: readonly TPlannedLeg[]): Promise<PayoutTransfer[]> {
  const last = await tx.payoutTransfer.aggregate({ where: { payoutId: payout.id, kind: "payout" }, _max: { leg: true } });
  return createLegs(tx, payout, (last._max.leg ?? 0) + 1, legs);
}

/** The transfers that pay `remaining` of the payout, given the transfers `made` for it already (lib/payouts/plan-transfers.ts). */
async function planRemaining(
  tx: Tx,
  payout: Payout,
  booking: TLockedBooking,
  joinedTips: readonly TTipPart[],
  made: readonly PayoutTransfer[],
  remaining: number,
): Promise<TFundingPlan> {
  const tips = [...joinedTips].sort((a, b) => a.tippedAt.getTime() - b.tippedAt.getTime());
  const chargeLosses = new Map<string, number>();
  const add = (chargeId: string, amount: number) => chargeLosses.set(chargeId, (chargeLosses.get(chargeId) ?? 0) + amount);
  const steps = await tx.chargeRefund.groupBy({ by: ["stripeChargeId"], where: { bookingId: booking.id, appliedAt: { not: null } }, _sum: { amount: true } });
  for (const step of steps) add(step.stripeChargeId, step._sum.amount ?? 0);
  const disputes = await tx.dispute.findMany({ where: { bookingId: booking.id, status: "resolved", refundAppliedAt: { not: null }, refundedAmount: { gt: 0 } } });
  let unattributedRefunds = 0;
  for (const d of disputes) {
    if (d.stripeDisputeId && d.stripeChargeId) add(d.stripeChargeId, d.refundedAmount);
    else unattributedRefunds += d.refundedAmount;
  }
  const owed = owedByCharge({ bookingChargeId: booking.stripeChargeId, providerShare: payout.providerShare, tips, chargeLosses, unattributedRefunds, amount: payout.amount });

  const rows = await knownCharges(tx, owed.flatMap((p) => (p.chargeId ? [p.chargeId] : [])));
  const charges = new Map<string, TFundingCharge>([...rows].map(([id, row]) => [id, fundingOf(row)]));
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
    charges,
    transferredFrom,
    paidFrom,
    platformCurrencies: await knownPlatformCurrencies(tx),
  });
}

async function createLegs(tx: Tx, payout: Payout, firstLeg: number, legs: readonly TPlannedLeg[]): Promise<PayoutTransfer[]> {
  const created: PayoutTransfer[] = [];
  for (const [i, leg] of legs.entries()) {
    const number = firstLeg + i;
    created.push(
      await tx.payoutTransfer.create({
        data: {
          payoutId: payout.id,
          kind: "payout",
          amountVersion: payout.amountVersion,
          leg: number,
          sourceChargeId: leg.sourceChargeId,
          payoutAmount: leg.payoutAmount,
          amount: leg.amount,
          currency: leg.currency,
          exchangeRate: leg.exchangeRate,
          idempotencyKey: transferIdempotencyKey(payout.id, payout.amountVersion, 0, number),
        },
      }),
    );
  }
  return created;
}
