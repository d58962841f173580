import "server-only";

import type Stripe from "stripe";

import type { Payout, PayoutTransfer, TransferReversal } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import type { TActor } from "@/lib/audit/record-audit";
import { payoutChangeEntry, recordAudit } from "@/lib/audit/record-audit";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { transaction } from "@/lib/direct-sql";
import { classifyStripeError, type TStripeFailure } from "@/lib/stripe/classify-error";
import { createTransferReversal, findReversalFor, reversalIdempotencyKey } from "@/lib/stripe/transfers";
import { sendStripeWrite } from "@/lib/stripe/write-gate";

import { changePayout, payoutSnapshot } from "./change-payout";
import { lockPayoutAndBooking } from "./lock-booking";
import { reversalFailedMessage } from "./payout-alert-texts";
import { reversalEvent } from "./reversal-event";

/** The key of one of our reversals: per cause (dispute or refund step) and reversed transfer (a repayment is one too). */
function keyOf(reversal: TransferReversal, transfer: Pick<PayoutTransfer, "leg" | "kind"> | null): string {
  return reversalIdempotencyKey(
    reversal.disputeId ?? reversal.id,
    transfer?.leg ?? 1,
    transfer?.kind === "repayment" ? "repayment" : "payout",
  );
}

/**
 * Records that Stripe made one of our reversals (pending, or cancelled after it was sent): the
 * reversal succeeds and the payout's reversed amount and status follow, audited.
 */
export async function confirmReversal(
  tx: Tx,
  audit: { actor: TActor; runId: string | null; requestId: string | null },
  payout: Payout,
  reversal: TransferReversal,
  stripeReversalId: string,
  reason: string,
): Promise<Payout> {
  const transfer = reversal.payoutTransferId
    ? await tx.payoutTransfer.findUnique({ where: { id: reversal.payoutTransferId }, select: { leg: true, kind: true } })
    : null;
  await tx.transferReversal.update({
    where: { id: reversal.id },
    data: { status: "succeeded", stripeReversalId, idempotencyKey: keyOf(reversal, transfer), failureReason: null },
  });
  const reversedAmount = payout.reversedAmount + reversal.amount;
  return changePayout(tx, payout, {
    event: reversalEvent(payout, reversedAmount, payout.repaidAmount),
    data: { reversedAmount },
    audit: { ...audit, action: "payout.reversed", reason, details: { stripeReversalId, reversalAmount: reversal.amount } },
  });
}

export type TReversalResult =
  | { kind: "reversed"; stripeReversalId: string }
  | { kind: "already_done"; status: string }
  | { kind: "retry"; error: string; delayMs: number | null }
  | { kind: "failed"; error: string; debtRecorded: boolean };

/**
 * Claws back a refund from a transferred payout with one Stripe transfer reversal per cause and
 * transfer: it marks the reversal sent (from then on it is never cancelled), looks for one already
 * made for it first, then creates one through the shared write gate under its idempotency key
 * (never two, even after Stripe forgets keys). If the connected account lacks the balance, the
 * debt is recorded against the provider and an admin is alerted.
 */
export async function reverseTransfer(context: TServiceContext, stripe: Stripe, input: { reversalId: string }): Promise<TReversalResult> {
  const ctx = resolveContext(context);
  const reversal = await ctx.db.transferReversal.findUniqueOrThrow({
    where: { id: input.reversalId },
    include: { payout: true, payoutTransfer: true },
  });
  if (reversal.status !== "pending") return { kind: "already_done", status: reversal.status };
  const transferId = reversal.payoutTransfer?.stripeTransferId ?? reversal.payout.stripeTransferId;
  if (!transferId) throw new Error(`Payout ${reversal.payoutId} has no Stripe transfer to reverse.`);
  if (!reversal.sentAt) {
    // Claim it: a reversal being sent is no longer cancelled by a failed refund (lib/payouts/give-back.ts).
    const { count } = await ctx.db.transferReversal.updateMany({
      where: { id: reversal.id, status: "pending" },
      data: { sentAt: ctx.clock.now() },
    });
    if (count === 0) {
      const now = await ctx.db.transferReversal.findUniqueOrThrow({ where: { id: reversal.id } });
      return { kind: "already_done", status: now.status };
    }
  }

  let stripeReversal: Stripe.TransferReversal | null = null;
  let failure: TStripeFailure | null = null;
  try {
    stripeReversal =
      (await findReversalFor(stripe, { transferId, reversalId: reversal.id })) ??
      (await sendStripeWrite(ctx.stripeWrites, () =>
        createTransferReversal(stripe, {
          transferId,
          amount: reversal.transferAmount ?? reversal.amount,
          idempotencyKey: keyOf(reversal, reversal.payoutTransfer),
          metadata: {
            payoutId: reversal.payoutId,
            reversalId: reversal.id,
            ...(reversal.disputeId ? { disputeId: reversal.disputeId } : {}),
          },
        }),
      ));
  } catch (error) {
    failure = classifyStripeError(error);
  }

  return transaction(
    ctx.db,
    async (tx) => {
      const { payout } = await lockPayoutAndBooking(tx, reversal.payoutId);
      const current = await tx.transferReversal.findUniqueOrThrow({ where: { id: reversal.id } });
      if (current.status !== "pending") return { kind: "already_done", status: current.status } as const;
      const audit = { actor: ctx.actor, runId: ctx.runId, requestId: ctx.requestId };

      if (stripeReversal) {
        await confirmReversal(tx, audit, payout, current, stripeReversal.id, "refund after transfer");
        return { kind: "reversed", stripeReversalId: stripeReversal.id } as const;
      }

      const f = failure!;
      const error = `${f.type}${f.code ? ` (${f.code})` : ""}: ${f.message}`;
      if (f.retry === "now") return { kind: "retry", error, delayMs: f.retryAfterMs ?? null } as const;

      // Lack of balance on the connected account, or a permanent refusal: the provider owes it.
      await tx.transferReversal.update({ where: { id: current.id }, data: { status: "failed", failureReason: error } });
      await tx.providerDebt.createMany({
        data: [
          {
            providerId: payout.providerId,
            payoutId: payout.id,
            reversalId: current.id,
            disputeId: current.disputeId,
            amount: current.amount,
            currency: current.currency,
            reason: `transfer reversal failed: ${error}`,
          },
        ],
        skipDuplicates: true,
      });
      await recordAudit(
        tx,
        payoutChangeEntry({
          ...audit,
          action: "payout.reversal_failed",
          entityId: payout.id,
          reason: error,
          before: payoutSnapshot(payout),
          after: { ...payoutSnapshot(payout), reversalId: current.id, providerOwes: current.amount },
        }),
      );
      await raiseAlert(tx, {
        kind: "reversal_failed",
        severity: "critical",
        title: "Transfer reversal failed: the provider owes the refund",
        message: reversalFailedMessage(payout.id, current, transferId, error),
        payoutId: payout.id,
        providerId: payout.providerId,
        dedupeKey: `reversal_failed:${current.id}`,
      });
      return { kind: "failed", error, debtRecorded: true } as const;
    },
    TX_OPTIONS,
  );
}
