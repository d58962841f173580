import "server-only";

import type Stripe from "stripe";

import type { Payout } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import { refreshPlatformCurrencies } from "@/lib/charges/platform-currencies";
import { resolveContext, TX_OPTIONS, type TResolvedContext, type TServiceContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { formatMoney } from "@/lib/money/format-money";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";
import { refreshProviderAccount } from "@/lib/payouts/update-provider-account";
import { classifyStripeError } from "@/lib/stripe/classify-error";
import { findTransfersForPayout, type TTransferToFind } from "@/lib/stripe/transfers";

import { changePayout } from "./change-payout";
import { ensureTransferPlan, holdForUnmatchedTransfers, knownTransferIds } from "./payout-transfers";
import { transferGroupFor } from "./payout-transfers";
import { refreshPayout } from "./refresh-payout";
import { ADJUSTABLE_STATUSES, TRANSFERRED_STATUSES } from "./state-machine";
import { lockPayoutAndBooking, releaseHold, settleTipsThatWaited, type TLockedBooking } from "./sync-payout-with-booking";
import { tipWindowClosedForCompletionsBefore } from "./timing";
import { completeIfPaid, markFailed } from "./transfer-complete";
import { recordLegTransfer } from "./transfer-leg";
import { MAX_TRANSFER_ATTEMPTS } from "./transfer-types";

/** A payout `processing` for longer than this is settled against Stripe by the sweep. */
export const STUCK_PROCESSING_MS = 60 * 60 * 1000;
const SWEEP_BUCKET_MS = 15 * 60 * 1000;
/** A provider whose payouts wait for their Stripe account is re-checked at most this often. */
export const ACCOUNT_RECHECK_MS = 60 * 60 * 1000;
/** Stripe account look-ups per sweep (the least recently checked first). */
const ACCOUNT_CHECKS_PER_SWEEP = 20;

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
  const pendingReversals = await ctx.db.transferReversal.findMany({
    where: { status: "pending", initiatedBy: "platform", createdAt: { lte: new Date(now.getTime() - SWEEP_BUCKET_MS) } },
    select: { id: true, payoutId: true },
    take: limit,
  });
  const pendingRepayments = await ctx.db.payoutTransfer.findMany({
    where: { kind: "repayment", status: "pending", createdAt: { lte: new Date(now.getTime() - SWEEP_BUCKET_MS) } },
    select: { id: true, payoutId: true },
    take: limit,
  });
  const pendingTopUps = await ctx.db.payoutTransfer.findMany({
    where: {
      kind: "payout",
      status: "pending",
      createdAt: { lte: new Date(now.getTime() - SWEEP_BUCKET_MS) },
      // Not while a dispute on the booking is open: requested again once it is resolved.
      payout: { status: { in: [...TRANSFERRED_STATUSES] }, booking: { disputes: { none: { status: "open" } } } },
    },
    select: { id: true, payoutId: true },
    take: limit,
  });
  await ctx.db.$transaction(async (tx) => {
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
  }, TX_OPTIONS);

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

/**
 * Tips accepted while a transfer was in flight join the payout when its outcome is recorded; if
 * that was missed (the payout was settled some other way), they are joined here, or paid with a
 * top-up, once the payout is no longer processing.
 */
async function settleWaitingTips(ctx: TResolvedContext, limit: number): Promise<number> {
  const waiting = await ctx.db.tip.findMany({
    where: { status: "accepted", payoutId: null, booking: { payout: { is: { status: { not: "processing" } } } } },
    select: { bookingId: true },
    distinct: ["bookingId"],
    take: limit,
  });
  let settled = 0;
  for (const { bookingId } of waiting) {
    try {
      await refreshPayout(ctx, { bookingId });
      if ((await ctx.db.tip.count({ where: { bookingId, status: "accepted", payoutId: null } })) === 0) settled += 1;
    } catch (error) {
      console.error(`sweep: could not settle the waiting tips of booking ${bookingId}`, error);
    }
  }
  return settled;
}

/**
 * Payouts on hold waiting for funds: those whose expected date came are released (they are
 * transferred with the next request, or held again for another cause still present); those
 * still waiting FUNDS_WAIT_ALERT_DAYS after Stripe first refused raise one alert each.
 */
async function releaseFundsDue(ctx: TResolvedContext, now: Date, limit: number): Promise<{ fundsDue: number; fundsWaitAlerts: number }> {
  const due = await ctx.db.payout.findMany({
    where: { status: "on_hold", holdReason: "awaiting_funds", fundsExpectedAt: { lte: now } },
    select: { id: true },
    orderBy: { fundsExpectedAt: "asc" },
    take: limit,
  });
  let fundsDue = 0;
  for (const { id } of due) {
    try {
      const released = await ctx.db.$transaction(async (tx) => {
        const { booking, payout } = await lockPayoutAndBooking(tx, id);
        if (payout.status !== "on_hold" || payout.holdReason !== "awaiting_funds") return false;
        const openDisputes = await tx.dispute.count({ where: { bookingId: booking.id, status: "open" } });
        const after = await releaseHold(tx, payout, booking, openDisputes, {
          audit: { actor: ctx.actor, runId: ctx.runId, requestId: ctx.requestId },
          reason: "the funds Stripe expected are due",
        });
        if (after.status === "scheduled") {
          await enqueueEvent(tx, {
            name: "payout/transfer.requested",
            data: { payoutId: after.id, reason: "funds_due" },
            eventId: `funds-due:${after.id}:v${after.version}`,
          });
        }
        return after.status === "scheduled";
      }, TX_OPTIONS);
      if (released) fundsDue += 1;
    } catch (error) {
      console.error(`sweep: could not release payout ${id} waiting for funds`, error);
    }
  }

  const alertAfter = new Date(now.getTime() - getEnv().FUNDS_WAIT_ALERT_DAYS * 24 * 60 * 60 * 1000);
  const waiting = await ctx.db.payout.findMany({
    where: { fundsWaitingSince: { lte: alertAfter }, status: { in: ["on_hold", "scheduled", "processing"] } },
    select: { id: true, providerId: true, amount: true, currency: true, fundsWaitingSince: true, fundsExpectedAt: true },
    take: limit,
  });
  let fundsWaitAlerts = 0;
  for (const p of waiting) {
    const raised = await ctx.db.$transaction((tx) =>
      raiseAlert(tx, {
        kind: "payout_waiting_for_funds",
        severity: "warning",
        title: "Payout still waiting for funds",
        message:
          `Payout ${p.id} (${formatMoney(p.amount, p.currency)}) has waited for funds in the platform's Stripe balance since ` +
          `${p.fundsWaitingSince!.toISOString().slice(0, 10)}${p.fundsExpectedAt ? `; Stripe last expected them ${p.fundsExpectedAt.toISOString()}` : ""}. ` +
          "Top up the balance or check the charge in Stripe.",
        payoutId: p.id,
        providerId: p.providerId,
        dedupeKey: `payout_waiting_for_funds:${p.id}:${p.fundsWaitingSince!.toISOString()}`,
      }),
    );
    if (raised) fundsWaitAlerts += 1;
  }
  return { fundsDue, fundsWaitAlerts };
}

/**
 * Asks Stripe about held providers' accounts: those not heard of for an hour, least recently
 * asked first. Each look-up is stamped before it is made, answered or not, so accounts whose
 * look-ups keep failing take their turn instead of blocking the others; a refusal (an account
 * we may no longer read) raises an alert once a day.
 */
async function recheckHeldAccounts(ctx: TResolvedContext, stripe: Stripe, now: Date) {
  const hourAgo = new Date(now.getTime() - ACCOUNT_RECHECK_MS);
  const providers = await ctx.db.provider.findMany({
    where: {
      stripeAccountId: { not: null },
      payouts: { some: { status: "on_hold", holdReason: "provider_account_not_ready" } },
      AND: [
        { OR: [{ accountCheckedAt: null }, { accountCheckedAt: { lt: hourAgo } }] },
        { OR: [{ accountLookedUpAt: null }, { accountLookedUpAt: { lt: hourAgo } }] },
      ],
    },
    orderBy: [{ accountLookedUpAt: { sort: "asc", nulls: "first" } }, { accountCheckedAt: { sort: "asc", nulls: "first" } }],
    select: { id: true, stripeAccountId: true },
    take: ACCOUNT_CHECKS_PER_SWEEP,
  });
  const result = { accountChecks: 0, accountsReady: 0, accountCheckErrors: 0 };
  for (const { id, stripeAccountId } of providers) {
    if (!stripeAccountId) continue;
    result.accountChecks += 1;
    await ctx.db.provider.update({ where: { id }, data: { accountLookedUpAt: now } });
    try {
      if ((await refreshProviderAccount(ctx, stripe, stripeAccountId)).ready) result.accountsReady += 1;
    } catch (error) {
      result.accountCheckErrors += 1;
      const failure = classifyStripeError(error);
      console.error(`sweep: could not check Stripe account ${stripeAccountId}`, failure.message);
      if (failure.retry === "never") {
        await ctx.db.$transaction((tx) =>
          raiseAlert(tx, {
            kind: "account_lookup_refused",
            severity: "warning",
            title: "Stripe refuses to show a provider's account",
            message: `Stripe refused to show account ${stripeAccountId} (${failure.message}). Its payouts stay held as "account not ready" until the provider reconnects or an admin acts.`,
            providerId: id,
            dedupeKey: `account_lookup_refused:${id}:${now.toISOString().slice(0, 10)}`,
          }),
        );
      }
    }
  }
  return result;
}

/**
 * Settles a payout whose transfer outcome is unknown (its run died, or it is stuck): asks
 * Stripe, for each of its planned transfers not yet recorded, for a transfer with this payout's
 * id, that leg, amount version and amount in the booking's transfer group. All found: the payout is
 * transferred. Some not found: the attempt counts as failed and the payout goes back to scheduled
 * (or to failed, with an alert, once attempts are used up); the transfers found are recorded either
 * way. A transfer of the payout that its plan does not explain holds it for a person instead.
 *
 * Only a payout nobody is working on is settled: with `staleBefore` (the sweep), one whose
 * claim is older than that; with `runId` (a run that gave up), one whose latest attempt is that
 * run's. A payout another run has claimed since is left alone, or its in-flight transfer would
 * be undone. Under the lock, the version proves nothing changed since this check.
 */
export async function settleProcessingPayout(
  context: TServiceContext,
  stripe: Stripe,
  input: { payoutId: string; staleBefore?: Date; runId?: string },
): Promise<"transferred" | "rescheduled" | "failed" | "held" | "unchanged" | "error"> {
  const ctx = resolveContext(context);
  const payout = await ctx.db.payout.findUniqueOrThrow({ where: { id: input.payoutId }, include: { booking: true } });
  if (payout.status !== "processing") return "unchanged";
  const latest = await ctx.db.transferAttempt.findFirst({
    where: { payoutId: payout.id },
    orderBy: { attemptNumber: "desc" },
    select: { runId: true },
  });
  const stale = input.staleBefore !== undefined && (payout.processingStartedAt === null || payout.processingStartedAt < input.staleBefore);
  const abandonedByRun = input.runId !== undefined && (latest === null || latest.runId === input.runId);
  if (!stale && !abandonedByRun) return "unchanged";

  const legs = await ctx.db.payoutTransfer.findMany({ where: { payoutId: payout.id, kind: "payout" } });
  const exclude = new Set(await knownTransferIds(ctx.db, payout.id));
  // Every transfer not recorded is looked for (replaced ones too), so that only a transfer none of them explains is unexpected.
  const unrecorded: TTransferToFind[] = legs.filter((l) => l.stripeTransferId === null);
  // A payout claimed before transfers were planned per charge has no plan yet: its one transfer is leg 1, of all of it.
  const toFind =
    legs.length === 0 ? [{ leg: 1, amountVersion: payout.amountVersion, amount: payout.amount, currency: payout.currency }] : unrecorded;
  const found = new Map<number, Stripe.Transfer>();
  let unmatched: Stripe.Transfer[];
  try {
    const atStripe = await findTransfersForPayout(stripe, {
      transferGroup: transferGroupFor(payout.booking),
      payoutId: payout.id,
      legs: toFind,
      exclude,
    });
    for (const [leg, transfer] of atStripe.found) {
      if (leg.amountVersion === payout.amountVersion) found.set(leg.leg, transfer);
    }
    // Found for a leg that is not in the plan being settled (another version, replaced): not explained by it either.
    unmatched = [
      ...atStripe.unmatched,
      ...[...atStripe.found].filter(([leg]) => leg.amountVersion !== payout.amountVersion).map(([, transfer]) => transfer),
    ];
  } catch (error) {
    console.error(`sweep: could not look up the transfers of payout ${payout.id}`, classifyStripeError(error).message);
    return "error";
  }

  return ctx.db.$transaction(async (tx) => {
    const { booking, payout: locked } = await lockPayoutAndBooking(tx, payout.id);
    if (locked.status !== "processing" || locked.version !== payout.version) return "unchanged";
    const settled =
      unmatched.length > 0 ? await holdLocked(tx, ctx, locked, found, unmatched) : await settleLocked(tx, ctx, locked, booking, found);
    // Tips that arrived while it was stuck join the payout now, or are paid with a top-up.
    await settleTipsThatWaited(tx, booking, ctx);
    return settled;
  }, TX_OPTIONS);
}

/**
 * Stripe holds transfers of the payout that its plan does not explain: what was found for the plan
 * is recorded, and the payout is held for a person (holdForUnmatchedTransfers), never settled
 * as if those transfers were not there.
 */
async function holdLocked(
  tx: Tx,
  ctx: TResolvedContext,
  locked: Payout,
  found: ReadonlyMap<number, Stripe.Transfer>,
  unmatched: readonly Stripe.Transfer[],
): Promise<"held"> {
  const planned = await tx.payoutTransfer.findMany({
    where: { payoutId: locked.id, kind: "payout", status: "pending", amountVersion: locked.amountVersion },
  });
  for (const leg of planned) {
    const transfer = found.get(leg.leg);
    if (transfer) await recordLegTransfer(tx, ctx, locked, leg.id, transfer, "settled by the reconciliation sweep");
  }
  const attempt = await tx.transferAttempt.findFirst({ where: { payoutId: locked.id }, orderBy: { attemptNumber: "desc" } });
  if (attempt?.status === "started") {
    await tx.transferAttempt.update({
      where: { id: attempt.id },
      data: {
        status: "failed",
        retryable: null,
        counted: false,
        errorType: "unexpected_transfer",
        errorMessage: "Stripe holds transfers of this payout that its plan does not explain.",
        finishedAt: ctx.clock.now(),
      },
    });
  }
  await holdForUnmatchedTransfers(tx, ctx, locked, unmatched);
  return "held";
}

async function settleLocked(
  tx: Tx,
  ctx: TResolvedContext,
  locked: Payout,
  booking: TLockedBooking,
  found: ReadonlyMap<number, Stripe.Transfer>,
): Promise<"transferred" | "rescheduled" | "failed"> {
  const plan = await ensureTransferPlan(tx, locked, booking);
  const attempt = await tx.transferAttempt.findFirst({ where: { payoutId: locked.id }, orderBy: { attemptNumber: "desc" } });
  const planned = plan.kind === "planned" ? plan.pending : [];
  for (const leg of planned) {
    const transfer = found.get(leg.leg);
    if (transfer) await recordLegTransfer(tx, ctx, locked, leg.id, transfer, "settled by the reconciliation sweep");
  }
  if (planned.every((leg) => found.has(leg.leg))) {
    if (attempt?.status === "started") {
      await tx.transferAttempt.update({
        where: { id: attempt.id },
        data: { status: "succeeded", stripeTransferId: found.values().next().value?.id ?? null, finishedAt: ctx.clock.now() },
      });
    }
    const done = await completeIfPaid(tx, ctx, locked, attempt?.attemptNumber ?? 0, "settled by the reconciliation sweep");
    if (done.kind === "transferred") return "transferred";
  }
  if (attempt?.status === "started") {
    await tx.transferAttempt.update({
      where: { id: attempt.id },
      data: {
        status: "failed",
        retryable: true,
        errorType: "stuck",
        errorMessage: "No answer recorded; no transfer found at Stripe.",
        finishedAt: ctx.clock.now(),
      },
    });
  }
  const error = "stuck in processing; no transfer found at Stripe";
  if (locked.attempts >= MAX_TRANSFER_ATTEMPTS) {
    await markFailed(tx, ctx, locked, error, attempt?.attemptNumber ?? locked.attempts);
    return "failed";
  }
  await changePayout(tx, locked, {
    event: "unclaim_to_scheduled",
    data: { processingStartedAt: null, lastError: error },
    audit: { actor: ctx.actor, action: "payout.transfer_rescheduled", reason: error, runId: ctx.runId, requestId: ctx.requestId },
  });
  return "rescheduled";
}
