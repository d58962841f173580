import "server-only";

import type Stripe from "stripe";

import { raiseAlert } from "@/lib/alerts/raise-alert";
import { recordAudit } from "@/lib/audit/record-audit";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import { transaction } from "@/lib/direct-sql";
import { formatMoney } from "@/lib/money/format-money";
import { BALANCE_INSUFFICIENT_RETRY_AFTER_MS, classifyStripeError } from "@/lib/stripe/classify-error";
import { createTransfer, findTransferForPayout } from "@/lib/stripe/transfers";
import { sendStripeWrite } from "@/lib/stripe/write-gate";

import { lockPayoutAndBooking } from "./lock-booking";
import { legKey } from "./payout-transfers";
import { transferGroupFor } from "./payout-transfers";
import { reverseWhatIsNotOwed } from "./request-reversals";
import { TRANSFERRED_STATUSES } from "./state-machine";
import { recordLegTransfer } from "./transfer-leg";
import { REFUSAL_ERROR_TYPES } from "./transfer-types";

export type TTopUpResult =
  | { kind: "transferred"; stripeTransferId: string; amount: number; recovered: boolean }
  | { kind: "already_done"; status: string }
  /** A dispute on the booking is open: nothing sent; the sweep requests it again once none is. */
  | { kind: "waiting_for_dispute" }
  | { kind: "retry"; error: string; delayMs: number | null }
  | { kind: "failed"; error: string };

/**
 * Sends one top-up transfer: a transfer of a payout already transferred that pays tips received
 * before that transfer was made (planned by lib/payouts/top-up-for-tips.ts topUpForTips as
 * the payout's next leg, with its own key `payout:<id>:v<amountVersion>:l<leg>`). Exactly once,
 * under retries and duplicate requests: it first looks the leg's transfer up at Stripe (transfer
 * group, metadata.payoutId, leg and amount version, and its amount; so one whose answer was lost,
 * or made more than 24 hours ago when its key has expired, is found rather than made again), then
 * sends it through the shared write gate under the leg's key, and records it on the leg (a second
 * record of the same transfer changes nothing). Like the payout's own transfer it is not sent while
 * a dispute on the booking is open (the sweep requests it again once none is). A refusal Stripe
 * stores under the key (no balance, an account that cannot receive transfers) moves the leg to a
 * new key for its next try; the first is audited and alerts an admin (a lack of funds is only
 * waited out); the sweep tries again every 15 minutes.
 */
export async function topUpPayout(context: TServiceContext, stripe: Stripe, input: { transferId: string }): Promise<TTopUpResult> {
  const ctx = resolveContext(context);
  const leg = await ctx.db.payoutTransfer.findUniqueOrThrow({
    where: { id: input.transferId },
    include: { payout: { include: { booking: { include: { provider: true } } } } },
  });
  if (leg.kind !== "payout") throw new Error(`${input.transferId} is not a transfer of a payout's amount.`);
  if (leg.status !== "pending") return { kind: "already_done", status: leg.status };
  const { payout } = leg;
  // A pending transfer of a payout not yet transferred belongs to its own transfer (transfer-payout.ts).
  if (!TRANSFERRED_STATUSES.includes(payout.status)) return { kind: "already_done", status: payout.status };
  const destination = payout.booking.provider.stripeAccountId;
  if (!destination) return { kind: "failed", error: "the provider has no Stripe account" };
  const disputeOpen = async () => (await ctx.db.dispute.count({ where: { bookingId: payout.bookingId, status: "open" } })) > 0;
  if (await disputeOpen()) return { kind: "waiting_for_dispute" };

  const transferGroup = transferGroupFor(payout.booking);
  const recorded = await ctx.db.payoutTransfer.findMany({
    where: { payoutId: payout.id, stripeTransferId: { not: null } },
    select: { stripeTransferId: true },
  });
  const exclude = new Set(recorded.map((r) => r.stripeTransferId!));
  let transfer: Stripe.Transfer | null;
  let recovered = false;
  try {
    transfer = await findTransferForPayout(stripe, { transferGroup, payoutId: payout.id, leg, exclude });
    recovered = transfer !== null;
    // Checked in the write's slot, right before it goes out, as for the payout's own transfer.
    transfer ??= await sendStripeWrite(ctx.stripeWrites, async () =>
      (await disputeOpen())
        ? null
        : createTransfer(stripe, {
            amount: leg.amount,
            currency: leg.currency,
            destination,
            transferGroup,
            sourceTransaction: leg.sourceChargeId,
            metadata: { payoutId: payout.id, amountVersion: String(leg.amountVersion), leg: String(leg.leg) },
            idempotencyKey: legKey(leg),
          }),
    );
  } catch (error) {
    const failure = classifyStripeError(error);
    const message = `${failure.type}${failure.code ? ` (${failure.code})` : ""}: ${failure.message}`;
    // Refused, and Stripe replays the refusal under this key for 24 h: the next try uses a new one.
    const refused = !failure.outcomeUnknown && REFUSAL_ERROR_TYPES.includes(failure.type);
    if (refused || (failure.retry === "never" && !failure.outcomeUnknown)) {
      await transaction(
        ctx.db,
        async (tx) => {
          await lockPayoutAndBooking(tx, payout.id);
          if (refused) {
            const { count } = await tx.payoutTransfer.updateMany({
              where: { id: leg.id, status: "pending", refusals: leg.refusals },
              data: { refusals: { increment: 1 } },
            });
            if (count === 0) return;
          }
          // The first refusal is on the timeline; later ones (the sweep tries again) only move the key.
          if (leg.refusals > 0) return;
          await recordAudit(tx, {
            actor: ctx.actor,
            action: "payout.top_up_refused",
            entityType: "payout",
            entityId: payout.id,
            reason: message,
            after: {
              transferId: leg.id,
              leg: leg.leg,
              amount: leg.amount,
              currency: leg.currency,
              refusals: leg.refusals + (refused ? 1 : 0),
            },
            runId: ctx.runId,
            requestId: ctx.requestId,
          });
          // A lack of funds is waited out, as for the payout's own transfer.
          if (failure.reason === "balance_insufficient") return;
          await raiseAlert(tx, {
            kind: "top_up_refused",
            severity: "critical",
            title: "Stripe refused a top-up transfer",
            message: `Stripe refused to transfer ${formatMoney(leg.amount, leg.currency)} to ${payout.booking.provider.name} for tips received before payout ${payout.id} was transferred: ${message}. The provider is owed it; the reconciliation sweep tries again.`,
            payoutId: payout.id,
            providerId: payout.providerId,
            dedupeKey: `top_up_refused:${leg.id}`,
          });
        },
        TX_OPTIONS,
      );
    }
    // No answer, a 5xx, a rate limit, no funds yet: the next try looks the transfer up first, then sends.
    if (failure.retry !== "never" || failure.outcomeUnknown) {
      return {
        kind: "retry",
        error: message,
        delayMs: failure.retryAfterMs ?? (failure.reason === "balance_insufficient" ? BALANCE_INSUFFICIENT_RETRY_AFTER_MS : null),
      };
    }
    return { kind: "failed", error: message };
  }
  if (!transfer) return { kind: "waiting_for_dispute" };

  const made = transfer;
  return transaction(
    ctx.db,
    async (tx) => {
      const { payout: locked } = await lockPayoutAndBooking(tx, payout.id);
      const current = await tx.payoutTransfer.findUniqueOrThrow({ where: { id: leg.id } });
      if (current.status !== "pending") return { kind: "already_done", status: current.status } as const;
      // Audited as the payout's transfer made (the payout has several now), with this note.
      await recordLegTransfer(
        tx,
        ctx,
        locked,
        leg.id,
        made,
        recovered
          ? "top-up for tips received before the transfer; found at Stripe after an earlier try"
          : "top-up for tips received before the transfer",
      );
      const after = await tx.payoutTransfer.findUniqueOrThrow({ where: { id: leg.id } });
      // recordLegTransfer refused a transfer recorded elsewhere already (and alerted): not this leg's.
      if (after.stripeTransferId !== made.id)
        return { kind: "failed", error: `Stripe transfer ${made.id} is recorded for another transfer of the payout` } as const;
      // A refund or dispute settled while it waited took more than was left at Stripe: what the
      // top-up overpays is reversed from it.
      const recorded = await tx.payout.findUniqueOrThrow({ where: { id: payout.id } });
      await reverseWhatIsNotOwed(
        tx,
        recorded,
        after,
        { actor: ctx.actor, runId: ctx.runId, requestId: ctx.requestId },
        "top-up made while a refund or dispute took more than was left at Stripe",
      );
      return { kind: "transferred", stripeTransferId: made.id, amount: leg.payoutAmount, recovered } as const;
    },
    TX_OPTIONS,
  );
}
