import "server-only";

import type Stripe from "stripe";

import type { PrismaClient } from "@/generated/prisma/client";
import { storeChargeFunding } from "@/lib/charges/charge-funding";
import type { Tx } from "@/lib/db";
import { normalizeCurrency } from "@/lib/money/money";
import { listChargeRefunds, retrieveChargeFunding, type TChargeFunding } from "@/lib/stripe/charges";
import { classifyStripeError } from "@/lib/stripe/classify-error";

// What is refunded on a charge, asked of Stripe afresh: the charge and its refunds as they are
// now. A refund that failed or was cancelled no longer counts. Refund events (refund.created /
// updated / failed, charge.refund.updated, charge.refunded) arrive in any order and their shape
// depends on the endpoint's API version; the current state does not.

/** Refund statuses whose money went (or is going) back to the customer. */
const COUNTED = new Set(["pending", "requires_action", "succeeded"]);
/** Refund statuses Stripe never moves a refund out of. */
const FINAL = new Set(["failed", "canceled"]);

export type TRefundState = { charge: TChargeFunding; refundedTotal: number; refunds: Stripe.Refund[] };

/** The charge and its refunds now, or null when Stripe could not tell (the caller falls back on the event). */
export async function fetchRefundState(db: PrismaClient, stripe: Stripe, chargeId: string, now: Date): Promise<TRefundState | null> {
  try {
    const charge = await retrieveChargeFunding(stripe, chargeId);
    await storeChargeFunding(db, charge, now);
    const refunds = await listChargeRefunds(stripe, chargeId);
    for (const refund of refunds) await recordRefund(db, refund, now);
    const refundedTotal = refunds.filter((r) => COUNTED.has(r.status ?? "")).reduce((sum, r) => sum + r.amount, 0);
    return { charge, refundedTotal, refunds };
  } catch (error) {
    console.warn(
      `refunds: could not ask Stripe about charge ${chargeId}; using the event's own figures`,
      classifyStripeError(error).message,
    );
    return null;
  }
}

export type TRecordedRefund = { changed: boolean; previousStatus: string | null };

/**
 * Keeps a refund's status as Stripe last reported it: a report older than the one kept changes
 * nothing. Failed and canceled are final at Stripe, so a report of either wins over any other
 * status whatever their times (an event is timed to the second, a look-up to the millisecond:
 * a refund that fails within the second it was seen to succeed cannot be ordered by time), and
 * no report moves a refund out of them. `changed` tells whether this report moved the refund to
 * another status.
 */
export async function recordRefund(db: PrismaClient, refund: Stripe.Refund, reportedAt: Date): Promise<TRecordedRefund> {
  const chargeId = typeof refund.charge === "string" ? refund.charge : refund.charge?.id;
  if (!chargeId) return { changed: false, previousStatus: null };
  const status = refund.status ?? "pending";
  const existing = await db.stripeRefund.findUnique({ where: { id: refund.id } });
  if (existing) {
    const wasFinal = FINAL.has(existing.status);
    const stale = wasFinal !== FINAL.has(status) ? wasFinal : existing.statusAt > reportedAt;
    if (stale) return { changed: false, previousStatus: existing.status };
  }
  const data = {
    stripeChargeId: chargeId,
    amount: refund.amount,
    currency: normalizeCurrency(refund.currency),
    status,
    failureReason: refund.failure_reason ?? null,
    statusAt: reportedAt,
  };
  await db.stripeRefund.upsert({ where: { id: refund.id }, create: { id: refund.id, ...data }, update: data });
  return { changed: existing?.status !== status, previousStatus: existing?.status ?? null };
}

/** What the refunds recorded for a charge (as Stripe last reported each) add up to: those that did not fail or get cancelled. */
export async function recordedRefundedTotal(db: PrismaClient | Tx, chargeId: string): Promise<number> {
  const counted = await db.stripeRefund.aggregate({
    where: { stripeChargeId: chargeId, status: { in: [...COUNTED] } },
    _sum: { amount: true },
  });
  return counted._sum.amount ?? 0;
}

export function refundCounts(status: string): boolean {
  return COUNTED.has(status);
}

/**
 * Refunds of the charge reported failed or cancelled after `at`: a charge's refunded total as
 * Stripe reported it at `at` (an event's own figures) may still count them.
 */
export async function refundsGoneSince(db: PrismaClient, chargeId: string, at: Date): Promise<string[]> {
  const rows = await db.stripeRefund.findMany({
    where: { stripeChargeId: chargeId, status: { in: [...FINAL] }, statusAt: { gt: at } },
    select: { id: true },
  });
  return rows.map((r) => r.id);
}
