import "server-only";

import type Stripe from "stripe";

import type { Payout } from "@/generated/prisma/client";
import { resolveContext, TX_OPTIONS, type TResolvedContext, type TServiceContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { transaction } from "@/lib/direct-sql";
import { classifyStripeError } from "@/lib/stripe/classify-error";
import { findTransfersForPayout, type TTransferToFind } from "@/lib/stripe/transfers";

import { changePayout } from "./change-payout";
import { readCompletionFacts } from "./completion-facts";
import { lockPayoutAndBooking, type TLockedBooking } from "./lock-booking";
import { ensureTransferPlan, holdForUnmatchedTransfers, knownTransferIds } from "./payout-transfers";
import { transferGroupFor } from "./payout-transfers";
import { settleTipsThatWaited } from "./sync-payout-with-booking";
import { completeIfPaid, markFailed } from "./transfer-complete";
import { recordLegTransfer } from "./transfer-leg";
import { MAX_TRANSFER_ATTEMPTS } from "./transfer-types";

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

  return transaction(
    ctx.db,
    async (tx) => {
      const { booking, payout: locked } = await lockPayoutAndBooking(tx, payout.id);
      if (locked.status !== "processing" || locked.version !== payout.version) return "unchanged";
      const settled =
        unmatched.length > 0 ? await holdLocked(tx, ctx, locked, found, unmatched) : await settleLocked(tx, ctx, locked, booking, found);
      // Tips that arrived while it was stuck join the payout now, or are paid with a top-up.
      await settleTipsThatWaited(tx, booking, ctx);
      return settled;
    },
    TX_OPTIONS,
  );
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
    const done = await completeIfPaid(
      tx,
      ctx,
      locked,
      attempt?.attemptNumber ?? 0,
      "settled by the reconciliation sweep",
      await readCompletionFacts(tx, locked.id),
    );
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
