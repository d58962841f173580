import "server-only";

import type { Payout, PayoutTransfer } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import { recordAudit } from "@/lib/audit/record-audit";
import type { TResolvedContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { formatMoney } from "@/lib/money/format-money";

import { changePayout, changePayoutGathered } from "./change-payout";
import { failureAlertsSettled, plannedLegs, type TCompletionFacts } from "./completion-facts";
import { payoutFailedAlert } from "./payout-alert-texts";
import type { TTransferResult } from "./transfer-types";

/** What the payout's transfers made so far carry, in the payout's currency. */
export async function paidSoFar(tx: Tx, payoutId: string): Promise<number> {
  const paid = await tx.payoutTransfer.aggregate({
    where: { payoutId, kind: "payout", status: "succeeded" },
    _sum: { payoutAmount: true },
  });
  return paid._sum.payoutAmount ?? 0;
}

/**
 * The payout is transferred once every transfer of its plan is made: recorded with the first
 * transfer's id, audited, and its open alerts saying its transfer failed resolved. Until then it
 * stays processing (the next attempt sends what is left). `facts`: the payout's transfers and open
 * failure alerts as they are now (completion-facts.ts: read with the payout locked, kept up to date
 * by the writes since). `gather`: in a record batch, the change is written with the batch's others
 * (changePayoutGathered), for a caller that reads the payout back no more.
 */
export async function completeIfPaid(
  tx: Tx,
  ctx: TResolvedContext,
  payout: Payout,
  attemptNumber: number,
  note: string | null,
  facts: TCompletionFacts,
  options: { gather?: boolean } = {},
): Promise<TTransferResult> {
  const legs = plannedLegs(facts, payout.id);
  const pending = legs.filter((l) => l.status === "pending");
  const made = legs.filter(
    (l): l is PayoutTransfer & { stripeTransferId: string } => l.status === "succeeded" && l.stripeTransferId !== null,
  );
  const first = made[0];
  if (!first) return { kind: "skipped", reason: "nothing_transferred", status: payout.status };
  if (payout.status !== "processing") {
    return payout.stripeTransferId
      ? { kind: "transferred", stripeTransferId: payout.stripeTransferId, attemptNumber }
      : { kind: "skipped", reason: "already_settled", status: payout.status };
  }
  if (pending.length > 0) {
    return {
      kind: "retry",
      attemptNumber,
      delayMs: null,
      error: `${pending.length} transfer(s) of the payout still to make`,
      counted: false,
    };
  }
  await (options.gather ? changePayoutGathered : changePayout)(tx, payout, {
    event: "transfer_succeeded",
    data: {
      stripeTransferId: first.stripeTransferId,
      transferredAt: ctx.clock.now(),
      lastError: null,
      processingStartedAt: null,
      fundsExpectedAt: null,
      fundsWaitingSince: null,
    },
    audit: {
      actor: ctx.actor,
      action: "payout.transferred",
      reason: note ?? `Stripe made transfer ${first.stripeTransferId}${made.length > 1 ? ` and ${made.length - 1} more` : ""}`,
      runId: ctx.runId,
      requestId: ctx.requestId,
      details: {
        stripeTransferId: first.stripeTransferId,
        transferAmount: first.amount,
        transferCurrency: first.currency.toLowerCase(),
        transfers: made.map((l) => ({
          stripeTransferId: l.stripeTransferId,
          amount: l.amount,
          currency: l.currency,
          sourceChargeId: l.sourceChargeId,
        })),
      },
    },
  });
  await resolveTransferFailureAlerts(tx, ctx, payout, first.stripeTransferId, failureAlertsSettled(facts, payout.id));
  return { kind: "transferred", stripeTransferId: first.stripeTransferId, attemptNumber };
}

/**
 * The payout is transferred: its open alerts saying its transfer failed (or got no answer, or kept
 * being turned away) are resolved, as acknowledged by the system with the reason, each audited.
 * Alerts that ask a person to check money (unexpected transfers, amount mismatches) stay open, and
 * so does "got no answer" when a transfer of the payout was replaced unmade (failureAlertsSettled).
 */
async function resolveTransferFailureAlerts(
  tx: Tx,
  ctx: TResolvedContext,
  payout: Payout,
  stripeTransferId: string,
  alertIds: readonly string[],
): Promise<void> {
  const now = ctx.clock.now();
  const reason = `resolved: payout ${payout.id} (${formatMoney(payout.amount, payout.currency)}) was transferred (Stripe transfer ${stripeTransferId})`;
  for (const alertId of alertIds) {
    // One conditional update: an admin acknowledging it at the same time keeps theirs.
    const { count } = await tx.alert.updateMany({ where: { id: alertId, acknowledgedAt: null }, data: { acknowledgedAt: now } });
    if (count === 0) continue;
    await recordAudit(tx, {
      actor: ctx.actor,
      action: "alert.acknowledged",
      entityType: "alert",
      entityId: alertId,
      reason,
      before: { acknowledgedAt: null, acknowledgedById: null },
      after: { acknowledgedAt: now.toISOString(), acknowledgedById: null },
      runId: ctx.runId,
      requestId: ctx.requestId,
    });
  }
}

/** Marks a processing payout failed, audits it and raises one admin alert. */
export async function markFailed(tx: Tx, ctx: TResolvedContext, payout: Payout, error: string, attemptNumber: number) {
  const failed = await changePayout(tx, payout, {
    event: "transfer_failed",
    data: { lastError: error, processingStartedAt: null },
    audit: { actor: ctx.actor, action: "payout.failed", reason: error, runId: ctx.runId, requestId: ctx.requestId },
  });
  await raiseAlert(tx, payoutFailedAlert(payout, error, attemptNumber));
  return failed;
}
