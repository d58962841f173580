import "server-only";

import type Stripe from "stripe";

import { raiseAlert } from "@/lib/alerts/raise-alert";
import { recordAudit } from "@/lib/audit/record-audit";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import { transaction } from "@/lib/direct-sql";
import { formatMoney } from "@/lib/money/format-money";
import { payoutAmount } from "@/lib/money/money";
import { classifyStripeError } from "@/lib/stripe/classify-error";
import { createTransfer, findRepaymentFor, repaymentIdempotencyKey } from "@/lib/stripe/transfers";
import { sendStripeWrite } from "@/lib/stripe/write-gate";

import { changePayout } from "./change-payout";
import { forgiveWholeDebts, lowerNewestDebt } from "./forgive-whole-debts";
import { lockPayoutAndBooking } from "./lock-booking";
import { transferGroupFor } from "./payout-transfers";
import { mulDivFloor } from "./plan-transfers";
import { providerPosition } from "./provider-position";
import { reverseWhatIsNotOwed } from "./request-reversals";
import { reversalEvent } from "./reversal-event";

/** While one of the payout's reversals is in flight, a repayment waits this long before looking again. */
export const REPAYMENT_WAIT_MS = 5 * 60 * 1000;

export type TRepaymentResult =
  | { kind: "repaid"; stripeTransferId: string; amount: number }
  | { kind: "already_done"; status: string }
  | { kind: "nothing_to_repay" }
  | { kind: "retry"; error: string; delayMs: number | null }
  | { kind: "failed"; error: string };

/**
 * Pays back to the provider what reversals took for a refund that then failed, or what the refund
 * took off the payout before its transfer (one repayment per failed refund's charge step,
 * lib/payouts/give-back.ts). It waits while a reversal of the payout is in flight, and
 * sends at most what reversals actually took and was not repaid yet, plus what refunds took off
 * the payout before its transfer, and never more than the rules still owe the provider
 * (amountToRepay: a refund or dispute settled after it was asked for takes its part); it looks for
 * a repayment already made first, then transfers through the shared write gate under the step's
 * key. The payout's repaid amount (or, for what was taken before the transfer, its amount) and
 * status follow (partially reversed, or transferred again), audited; what a repayment made before
 * such a loss overpays is reversed from it in the same transaction (reverseWhatIsNotOwed). A
 * refusal alerts an admin and leaves it pending for the sweep.
 */
export async function repayProvider(context: TServiceContext, stripe: Stripe, input: { repaymentId: string }): Promise<TRepaymentResult> {
  const ctx = resolveContext(context);
  const repayment = await ctx.db.payoutTransfer.findUniqueOrThrow({
    where: { id: input.repaymentId },
    include: { payout: { include: { booking: { include: { provider: true } } } } },
  });
  if (repayment.kind !== "repayment" || !repayment.chargeRefundId) throw new Error(`${input.repaymentId} is not a repayment.`);
  if (repayment.status !== "pending") return { kind: "already_done", status: repayment.status };
  const { payout } = repayment;
  const inFlight = await ctx.db.transferReversal.count({ where: { payoutId: payout.id, status: "pending", sentAt: { not: null } } });
  if (inFlight > 0) return { kind: "retry", error: `${inFlight} reversal(s) of the payout still in flight`, delayMs: REPAYMENT_WAIT_MS };

  const destination = payout.booking.provider.stripeAccountId;
  if (!destination) return { kind: "failed", error: "the provider has no Stripe account" };
  const transferGroup = transferGroupFor(payout.booking);
  let transfer: Stripe.Transfer | null;
  let amounts = { payoutAmount: repayment.payoutAmount, amount: repayment.amount };
  try {
    transfer = await findRepaymentFor(stripe, { transferGroup, chargeRefundId: repayment.chargeRefundId });
    if (!transfer) {
      const left = await amountToRepay(ctx, repayment.id);
      if (left === null) return settleNothing(ctx, repayment.id);
      amounts = left;
      transfer = await sendStripeWrite(ctx.stripeWrites, () =>
        createTransfer(stripe, {
          amount: amounts.amount,
          currency: repayment.currency,
          destination,
          transferGroup,
          metadata: { payoutId: payout.id, repaymentOf: repayment.chargeRefundId! },
          idempotencyKey: repaymentIdempotencyKey(repayment.chargeRefundId!, repayment.refusals),
        }),
      );
    }
  } catch (error) {
    const f = classifyStripeError(error);
    const message = `${f.type}${f.code ? ` (${f.code})` : ""}: ${f.message}`;
    // Stripe answered and refused (a 4xx other than a conflict or a rate limit): it stored that
    // answer under the key, and made no transfer. The next try uses a new key.
    const refused = f.statusCode !== undefined && f.statusCode >= 400 && f.statusCode < 500 && f.statusCode !== 409 && f.statusCode !== 429;
    if (refused)
      await ctx.db.payoutTransfer.update({
        where: { id: repayment.id },
        data: { refusals: { increment: 1 }, idempotencyKey: repaymentIdempotencyKey(repayment.chargeRefundId!, repayment.refusals + 1) },
      });
    if (f.retry !== "never") return { kind: "retry", error: message, delayMs: f.retryAfterMs ?? null };
    await transaction(ctx.db, (tx) =>
      raiseAlert(tx, {
        kind: "repayment_failed",
        severity: "critical",
        title: "Repayment to a provider refused by Stripe",
        message: `Stripe refused to repay ${formatMoney(amounts.amount, repayment.currency)} to ${payout.booking.provider.name} (payout ${payout.id}) after a refund failed: ${message}. The provider is owed it; it is tried again by the reconciliation sweep.`,
        payoutId: payout.id,
        providerId: payout.providerId,
        dedupeKey: `repayment_failed:${repayment.id}`,
      }),
    );
    return { kind: "failed", error: message };
  }

  const made = transfer;
  return transaction(
    ctx.db,
    async (tx) => {
      const { payout: locked } = await lockPayoutAndBooking(tx, payout.id);
      const current = await tx.payoutTransfer.findUniqueOrThrow({ where: { id: repayment.id } });
      if (current.status !== "pending") return { kind: "already_done", status: current.status } as const;
      const destinationPayment =
        typeof made.destination_payment === "string" ? made.destination_payment : (made.destination_payment?.id ?? null);
      const recorded = await tx.payoutTransfer.update({
        where: { id: current.id },
        data: { status: "succeeded", stripeTransferId: made.id, destinationPaymentId: destinationPayment, transferredAt: ctx.clock.now() },
      });
      // It gives back what reversals took first; the rest, what refunds took off the payout before
      // its transfer, is paid on top of the payout: its amount grows by it.
      const fromReversals = Math.min(current.payoutAmount, locked.reversedAmount - locked.repaidAmount);
      const repaidAmount = locked.repaidAmount + fromReversals;
      const refundedAmount = Math.max(0, locked.refundedAmount - (current.payoutAmount - fromReversals));
      const amount = payoutAmount({ providerShare: locked.providerShare, tipAmount: locked.tipAmount, refundedAmount });
      const repaid = await changePayout(tx, locked, {
        event: reversalEvent({ amount }, locked.reversedAmount, repaidAmount),
        data: { repaidAmount, refundedAmount },
        audit: {
          actor: ctx.actor,
          action: "payout.repaid",
          reason: "a refund whose part was reversed or taken off the payout failed at Stripe",
          runId: ctx.runId,
          requestId: ctx.requestId,
          details: {
            stripeTransferId: made.id,
            repaymentAmount: current.payoutAmount,
            transferAmount: made.amount,
            transferCurrency: made.currency,
          },
        },
      });
      // Made before a refund or dispute settled since took its part (its answer was lost, or it was
      // found at Stripe): what it overpays is reversed from it.
      await reverseWhatIsNotOwed(
        tx,
        repaid,
        recorded,
        { actor: ctx.actor, runId: ctx.runId, requestId: ctx.requestId },
        "repayment made while a refund or dispute took its part",
      );
      return { kind: "repaid", stripeTransferId: made.id, amount: current.payoutAmount } as const;
    },
    TX_OPTIONS,
  );
}

/**
 * What the repayment sends, settled under the booking's and the payout's locks right before it
 * goes out (the row updated to it). First, the open debts of the payout's reversals of the
 * repayment's charge (reversals still in flight when the refund failed, so not cancelled then, and
 * refused by Stripe since) are forgiven, whole ones, newest first, while they fit in the
 * repayment, as give-back.ts giveBack does for those refused before: what they stand
 * for was never taken; and the part of the repayment nothing took lowers the newest of those left
 * (lowerNewestDebt), as giveBack does too. Then it is never more than the provider lost and was not given back yet
 * (what reversals took, and what refunds took off the payout before its transfer), nor more than
 * the rules still owe them beyond what they hold and what else is on its way (providerPosition: a
 * refund or dispute settled since the repayment was asked for takes its part of it); a cut is
 * audited (payout.repayment_reduced). Null when nothing is left to send.
 */
async function amountToRepay(
  ctx: ReturnType<typeof resolveContext>,
  repaymentId: string,
): Promise<{ payoutAmount: number; amount: number } | null> {
  return transaction(
    ctx.db,
    async (tx) => {
      const found = await tx.payoutTransfer.findUniqueOrThrow({ where: { id: repaymentId }, select: { payoutId: true } });
      const { payout } = await lockPayoutAndBooking(tx, found.payoutId);
      const repayment = await tx.payoutTransfer.findUniqueOrThrow({ where: { id: repaymentId }, include: { chargeRefund: true } });
      const requested = { payoutAmount: repayment.payoutAmount, amount: repayment.amount };
      if (repayment.status !== "pending") return requested;
      const audit = { actor: ctx.actor, runId: ctx.runId, requestId: ctx.requestId };
      const stripeChargeId = repayment.chargeRefund?.stripeChargeId;
      let left = repayment.payoutAmount;
      const now = ctx.clock.now();
      const debts = stripeChargeId
        ? await tx.providerDebt.findMany({
            where: {
              payoutId: repayment.payoutId,
              status: { in: ["open", "settled"] },
              reversal: { is: { payoutId: repayment.payoutId, chargeRefund: { is: { stripeChargeId } } } },
            },
            orderBy: { createdAt: "desc" },
          })
        : [];
      left = await forgiveWholeDebts(tx, debts, left, {
        audit,
        payoutId: repayment.payoutId,
        reason: `Stripe refund on charge ${stripeChargeId} failed after transfer: the refund the debt recovered failed`,
        now,
        after: { repaymentId },
      });
      const forgiven = left;
      // Never more than reversals took and refunds took off the payout before its transfer, not given back yet.
      const taken = payout.reversedAmount - payout.repaidAmount + payout.refundedAmount;
      // What nothing took stands for a debt that is too big now (a reversal refused after the refund
      // failed, larger than what came back): it lowers the newest of those left (seed 63596).
      if (left > taken) {
        const rest = await lowerNewestDebt(
          tx,
          debts.map((d) => d.id),
          left - taken,
          {
            audit,
            payoutId: repayment.payoutId,
            reason: `Stripe refund on charge ${stripeChargeId} failed after transfer: part of the refund the debt recovered failed`,
            after: { repaymentId },
          },
        );
        left = taken + rest;
      }
      // Never more than the rules still owe beyond what the provider holds and what else is on its way.
      const { owed, held, onItsWay } = await providerPosition(tx, payout);
      const stillOwed = owed - held - (onItsWay - repayment.payoutAmount);
      left = Math.max(0, Math.min(left, taken, stillOwed));
      const amounts = {
        payoutAmount: left,
        amount: repayment.amount === repayment.payoutAmount ? left : mulDivFloor(left, repayment.amount, repayment.payoutAmount),
      };
      if (amounts.payoutAmount <= 0 || amounts.amount <= 0) return null;
      if (left < forgiven) {
        await recordAudit(tx, {
          ...audit,
          action: "payout.repayment_reduced",
          entityType: "payout",
          entityId: repayment.payoutId,
          reason:
            stillOwed <= taken
              ? `refunds or disputes settled since it was asked for take part of it: the provider is owed ${formatMoney(left, payout.currency)} more, not ${formatMoney(forgiven, payout.currency)}`
              : `reversals, and refunds before the transfer, took only ${formatMoney(left, payout.currency)} that was not given back yet`,
          after: { repaymentId, requested: forgiven, amount: left, currency: payout.currency },
        });
      }
      if (left < repayment.payoutAmount) await tx.payoutTransfer.update({ where: { id: repaymentId }, data: amounts });
      return amounts;
    },
    TX_OPTIONS,
  );
}

/** Nothing was taken that is not given back already: the repayment is not needed. */
async function settleNothing(ctx: ReturnType<typeof resolveContext>, repaymentId: string): Promise<TRepaymentResult> {
  await transaction(
    ctx.db,
    async (tx) => {
      const current = await tx.payoutTransfer.update({ where: { id: repaymentId }, data: { status: "superseded" } });
      await recordAudit(tx, {
        actor: ctx.actor,
        action: "payout.repayment_not_needed",
        entityType: "payout",
        entityId: current.payoutId,
        reason:
          "nothing it would give back is owed: the reversals took nothing not given back already, or refunds and disputes settled since take it",
        after: { repaymentId, amount: current.payoutAmount },
        runId: ctx.runId,
        requestId: ctx.requestId,
      });
    },
    TX_OPTIONS,
  );
  return { kind: "nothing_to_repay" };
}
