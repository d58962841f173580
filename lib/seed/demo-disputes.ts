// Disputes in the demo histories: opened (and, before the transfer, the payout held), resolved,
// and, lost after the transfer, reversed from the payout's transfer or recorded as a debt.
import type { Prisma } from "@/generated/prisma/client";
import type { DisputeOutcome, DisputeScope } from "@/generated/prisma/enums";
import { payoutChangeEntry, type TActor } from "@/lib/audit/record-audit";
import { lossTaken } from "@/lib/money/money";
import { reversalFailedMessage } from "@/lib/payouts/payout-alert-texts";
import { reversalEvent } from "@/lib/payouts/reversal-event";
import { reversalIdempotencyKey } from "@/lib/stripe/transfers";

import {
  addMs,
  disputeExternalId,
  SECOND,
  type TBookingPlan,
  type TDemoContext,
  type TDisputeRow,
  type TOpenDispute,
} from "./demo-context";
import type { TPayoutRow } from "./demo-dataset-types";
import { PLATFORM_DISPUTE_REASONS, STRIPE_DISPUTE_REASONS } from "./demo-names";
import { ACTORS, type PayoutStory, payoutSnapshot } from "./payout-story";

/** The demo has no repayments (no refund behind a reversal fails). */
const NOTHING_REPAID = 0;

export function openDispute(
  ctx: TDemoContext,
  b: TBookingPlan,
  story: PayoutStory,
  openedAt: Date,
  source: "platform" | "stripe",
): TOpenDispute {
  const { random, ids } = ctx;
  const payout = story.payout;
  story.advanceTo(openedAt);
  const afterTransfer = payout.transferredAt !== null;
  ctx.disputeSeq += 1;
  const externalId = source === "platform" ? disputeExternalId(ctx.disputeSeq) : null;
  const stripeDisputeId = source === "stripe" ? ids.stripe("du") : null;
  const reason = source === "platform" ? random.pick(PLATFORM_DISPUTE_REASONS) : random.pick(STRIPE_DISPUTE_REASONS);
  const createdAt = addMs(openedAt, random.int(800, 5_000));
  const row: TDisputeRow = {
    id: ids.uuid(),
    externalId,
    stripeDisputeId,
    stripeChargeId: source === "stripe" ? (ctx.chargeOfBooking.get(b.id) ?? null) : null,
    bookingId: b.id,
    scope: "booking",
    reason,
    status: "open",
    outcome: null,
    refundedAmount: 0,
    currency: b.currency,
    openedAt,
    resolvedAt: null,
    openedAfterTransfer: afterTransfer,
    refundAppliedAt: null,
    createdAt,
    updatedAt: createdAt,
  };
  ctx.out.disputes.push(row);
  const actor: TActor = source === "platform" ? ACTORS.bookingWebhook : ACTORS.stripeWebhook;
  story.record({
    actor,
    action: "dispute.opened",
    entityType: "dispute",
    entityId: row.id,
    reason,
    after: { bookingId: b.id, payoutId: payout.id, payoutStatus: payout.status, scope: row.scope },
    at: createdAt,
  });
  if (!afterTransfer) {
    story.change(addMs(createdAt, random.int(2, 30)), actor, "payout.held", {
      event: "hold",
      data: { holdReason: "dispute_open", holdNote: "1 open dispute" },
      reason: "dispute opened",
    });
  }
  return { row, ref: externalId ?? stripeDisputeId ?? row.id, actor };
}

/** lib/disputes/resolve-dispute.ts; returns when the resolution was recorded. */
export function resolveDispute(
  ctx: TDemoContext,
  story: PayoutStory,
  dispute: TOpenDispute,
  resolvedAt: Date,
  outcome: DisputeOutcome,
  refundedAmount: number,
  scope: DisputeScope,
): Date {
  const row = dispute.row;
  const recordedAt = addMs(resolvedAt, ctx.random.int(800, 5_000));
  Object.assign(row, {
    status: "resolved",
    outcome,
    refundedAmount,
    scope,
    resolvedAt,
    updatedAt: recordedAt,
  } satisfies Partial<TDisputeRow>);
  story.record({
    actor: dispute.actor,
    action: "dispute.resolved",
    entityType: "dispute",
    entityId: row.id,
    reason: outcome,
    after: { status: "resolved", outcome, refundedAmount, currency: row.currency },
    at: recordedAt,
  });
  return recordedAt;
}

/**
 * A dispute lost after the transfer: the claim takes what the loss lowers the payout's amount by
 * (`lossTaken`, lib/money/money.ts) and requests its reversal of the payout's transfer
 * (lib/payouts/claims-after-transfer.ts); the reverse-transfer function makes it or, when the
 * provider's balance is too low, records a debt and alerts (lib/payouts/reverse-transfer.ts).
 */
export function reverse(
  ctx: TDemoContext,
  story: PayoutStory,
  dispute: TOpenDispute,
  requestedAt: Date,
  loss: number,
  fails: boolean,
): void {
  const { random, ids } = ctx;
  const payout = story.payout;
  const transfer = story.madeTransfer();
  const amount = lossTaken(payout, loss);
  const reversalId = ids.uuid();
  story.record(
    payoutChangeEntry({
      actor: dispute.actor,
      action: "payout.reversal_requested",
      entityId: payout.id,
      reason: `dispute ${dispute.ref} lost after transfer`,
      before: payoutSnapshot(payout),
      after: { ...payoutSnapshot(payout), reversalId, reversalAmount: amount, stripeTransferId: transfer.stripeTransferId },
      at: requestedAt,
    }),
  );
  const finishedAt = addMs(requestedAt, random.int(2, 12) * SECOND);
  const error = "StripeInvalidRequestError (balance_insufficient): The connected account's balance is too low to reverse this transfer.";
  const reversal = {
    id: reversalId,
    payoutId: payout.id,
    payoutTransferId: transfer.id,
    disputeId: dispute.row.id,
    stripeReversalId: fails ? null : ids.stripe("trr"),
    amount,
    currency: payout.currency,
    transferAmount: amount,
    transferCurrency: transfer.currency,
    status: fails ? "failed" : "succeeded",
    initiatedBy: "platform",
    idempotencyKey: reversalIdempotencyKey(dispute.row.id, transfer.leg),
    failureReason: fails ? error : null,
    sentAt: requestedAt,
    createdAt: requestedAt,
    updatedAt: finishedAt,
  } satisfies Prisma.TransferReversalCreateManyInput;
  ctx.out.reversals.push(reversal);
  const runId = ids.ulid(addMs(requestedAt, 500));

  if (!fails) {
    const reversedAmount = payout.reversedAmount + amount;
    story.change(finishedAt, ACTORS.reversal, "payout.reversed", {
      event: reversalEvent(payout, reversedAmount, NOTHING_REPAID),
      data: { reversedAmount },
      reason: "refund after transfer",
      runId,
      details: { stripeReversalId: reversal.stripeReversalId, reversalAmount: amount },
    });
    return;
  }

  ctx.out.debts.push({
    id: ids.uuid(),
    providerId: payout.providerId,
    payoutId: payout.id,
    reversalId,
    disputeId: dispute.row.id,
    amount,
    currency: payout.currency,
    status: "open",
    reason: `transfer reversal failed: ${error}`,
    createdAt: finishedAt,
  });
  story.record(
    payoutChangeEntry({
      actor: ACTORS.reversal,
      action: "payout.reversal_failed",
      entityId: payout.id,
      reason: error,
      before: payoutSnapshot(payout),
      after: { ...payoutSnapshot(payout), reversalId, providerOwes: amount },
      runId,
      at: finishedAt,
    }),
  );
  raiseReversalFailedAlert(ctx, payout, { ...reversal, stripeTransferId: transfer.stripeTransferId }, error, finishedAt);
}

/** As lib/payouts/reverse-transfer.ts raises it when the provider's balance cannot cover a reversal. */
function raiseReversalFailedAlert(
  ctx: TDemoContext,
  payout: TPayoutRow,
  reversal: { id: string; amount: number; currency: string; stripeTransferId: string },
  error: string,
  at: Date,
): void {
  ctx.out.alerts.push({
    id: ctx.ids.uuid(),
    kind: "reversal_failed",
    severity: "critical",
    title: "Transfer reversal failed: the provider owes the refund",
    message: reversalFailedMessage(payout.id, reversal, reversal.stripeTransferId, error),
    payoutId: payout.id,
    providerId: payout.providerId,
    dedupeKey: `reversal_failed:${reversal.id}`,
    createdAt: addMs(at, ctx.random.int(2, 40)),
  });
}
