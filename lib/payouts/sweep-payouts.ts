import "server-only";

import type Stripe from "stripe";

import { Prisma } from "@/generated/prisma/client";
import { refreshPlatformCurrencies } from "@/lib/charges/platform-currencies";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import { sqlRows, transaction } from "@/lib/direct-sql";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";

import { recheckHeldAccounts } from "./recheck-held-accounts";
import { refreshPayout } from "./refresh-payout";
import { releaseFundsDue } from "./release-funds-due";
import { settleProcessingPayout } from "./settle-processing-payout";
import { settleWaitingTips } from "./settle-waiting-tips";
import { ADJUSTABLE_STATUSES, TRANSFERRED_STATUSES } from "./state-machine";
import { tipWindowClosedForCompletionsBefore } from "./timing";

// The sweep's orchestration. Its parts: settling a payout stuck in processing
// (settle-processing-payout.ts), re-asking Stripe about held accounts (recheck-held-accounts.ts),
// releasing payouts whose funds are due (release-funds-due.ts), and joining tips that waited for a
// transfer (settle-waiting-tips.ts).

/** A payout `processing` for longer than this is settled against Stripe by the sweep. */
export const STUCK_PROCESSING_MS = 60 * 60 * 1000;
const SWEEP_BUCKET_MS = 15 * 60 * 1000;

export type TSweepResult = {
  transferRequests: number;
  settled: number;
  settleErrors: number;
  reversalRequests: number;
  accountChecks: number;
  accountsReady: number;
  accountCheckErrors: number;
  /** Payouts with nothing to pay that were closed as "fully refunded" once no tip could join them. */
  closedAtZero: number;
  /** Payouts waiting for funds whose date came: released to be transferred. */
  fundsDue: number;
  /** Payouts still waiting for funds after FUNDS_WAIT_ALERT_DAYS: alerted (once each). */
  fundsWaitAlerts: number;
  repaymentRequests: number;
  /** Top-up transfers (tips received before a payout's transfer) still to be made: requested again. */
  topUpRequests: number;
  /** Bookings whose tips waited for a transfer that has settled since and were joined now (a lost follow-up). */
  waitingTipsSettled: number;
};

/**
 * The safety net, run every 15 minutes: requests a transfer for every due scheduled payout
 * (so a lost event delays a payout, never loses it), re-requests pending reversals, settles
 * payouts stuck in `processing` against Stripe, re-asks Stripe about accounts whose
 * payouts are held as "not ready" (a lost account.updated delays them, never strands them),
 * lets payouts left at zero after the tip window follow the facts (they are cancelled
 * as "fully refunded"; usually the payout's own run did that when it became due), releases
 * payouts waiting for funds once Stripe's date for them came (and alerts about those still
 * waiting after FUNDS_WAIT_ALERT_DAYS), re-requests pending repayments and top-ups, joins tips
 * that waited for a transfer now settled, and refreshes the currencies the platform's balance holds.
 */
export async function sweepPayouts(context: TServiceContext, stripe: Stripe, options: { limit?: number } = {}): Promise<TSweepResult> {
  const ctx = resolveContext(context);
  const now = ctx.clock.now();
  const limit = options.limit ?? 500;
  const bucket = Math.floor(now.getTime() / SWEEP_BUCKET_MS);

  const due = await ctx.db.payout.findMany({
    where: { status: "scheduled", eligibleAt: { lte: now }, amount: { gt: 0 } },
    select: { id: true, version: true },
    orderBy: { eligibleAt: "asc" },
    take: limit,
  });
  // Raw, with the kinds and statuses written out: as parameters (Prisma's way) a prepared
  // statement's generic plan cannot see that hardly any row is pending, and walks every transfer
  // in id order to find the `limit` it expects early (test/integration/data/prepared-plans.test.ts).
  const settledBefore = new Date(now.getTime() - SWEEP_BUCKET_MS);
  const pendingReversals = await sqlRows<{ id: string; payoutId: string }[]>(
    ctx.db,
    Prisma.sql`
    SELECT id::text, "payoutId"::text FROM "TransferReversal"
    WHERE status = 'pending' AND "initiatedBy" = 'platform' AND "createdAt" <= ${settledBefore}
    ORDER BY id LIMIT ${limit}`,
  );
  const pendingRepayments = await sqlRows<{ id: string; payoutId: string }[]>(
    ctx.db,
    Prisma.sql`
    SELECT id::text, "payoutId"::text FROM "PayoutTransfer"
    WHERE kind = 'repayment' AND status = 'pending' AND "createdAt" <= ${settledBefore}
    ORDER BY id LIMIT ${limit}`,
  );
  const pendingTopUps = await ctx.db.payoutTransfer.findMany({
    where: {
      kind: "payout",
      status: "pending",
      createdAt: { lte: settledBefore },
      // Not while a dispute on the booking is open: requested again once it is resolved.
      payout: { status: { in: [...TRANSFERRED_STATUSES] }, booking: { disputes: { none: { status: "open" } } } },
    },
    select: { id: true, payoutId: true },
    take: limit,
  });
  await transaction(
    ctx.db,
    async (tx) => {
      for (const t of pendingTopUps) {
        await enqueueEvent(tx, {
          name: "payout/top-up.requested",
          data: { transferId: t.id, payoutId: t.payoutId },
          eventId: `sweep-top-up:${t.id}:${bucket}`,
        });
      }
      for (const p of due) {
        await enqueueEvent(tx, {
          name: "payout/transfer.requested",
          data: { payoutId: p.id, reason: "sweep" },
          eventId: `sweep:${p.id}:v${p.version}:${bucket}`,
        });
      }
      for (const r of pendingReversals) {
        await enqueueEvent(tx, {
          name: "payout/reversal.requested",
          data: { reversalId: r.id, payoutId: r.payoutId },
          eventId: `sweep-reversal:${r.id}:${bucket}`,
        });
      }
      for (const r of pendingRepayments) {
        await enqueueEvent(tx, {
          name: "payout/repayment.requested",
          data: { repaymentId: r.id, payoutId: r.payoutId },
          eventId: `sweep-repayment:${r.id}:${bucket}`,
        });
      }
    },
    TX_OPTIONS,
  );

  const stuck = await ctx.db.payout.findMany({
    where: { status: "processing", processingStartedAt: { lt: new Date(now.getTime() - STUCK_PROCESSING_MS) } },
    select: { id: true },
    take: limit,
  });
  let settled = 0;
  let settleErrors = 0;
  for (const p of stuck) {
    const result = await settleProcessingPayout(ctx, stripe, {
      payoutId: p.id,
      staleBefore: new Date(now.getTime() - STUCK_PROCESSING_MS),
    });
    if (result === "error") settleErrors += 1;
    else if (result !== "unchanged") settled += 1;
  }
  const accounts = await recheckHeldAccounts(ctx, stripe, now);
  const atZero = await ctx.db.payout.findMany({
    where: {
      status: { in: [...ADJUSTABLE_STATUSES] },
      amount: 0,
      eligibleAt: { lte: now },
      booking: { completedAt: { lt: tipWindowClosedForCompletionsBefore(now, ctx.timing) } },
    },
    select: { id: true },
    take: limit,
  });
  let closedAtZero = 0;
  for (const p of atZero) {
    try {
      if ((await refreshPayout(ctx, { payoutId: p.id })).payout?.status === "cancelled") closedAtZero += 1;
    } catch (error) {
      console.error(`sweep: could not refresh payout ${p.id} at zero`, error);
    }
  }
  const waitingTipsSettled = await settleWaitingTips(ctx, limit);
  const funds = await releaseFundsDue(ctx, now, limit);
  await refreshPlatformCurrencies(ctx.db, stripe, now);
  return {
    transferRequests: due.length,
    settled,
    settleErrors,
    reversalRequests: pendingReversals.length,
    ...accounts,
    closedAtZero,
    ...funds,
    repaymentRequests: pendingRepayments.length,
    topUpRequests: pendingTopUps.length,
    waitingTipsSettled,
  };
}
