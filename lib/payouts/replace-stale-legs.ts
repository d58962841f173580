import "server-only";

import type Stripe from "stripe";

import { recordAudit } from "@/lib/audit/record-audit";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import { transaction } from "@/lib/direct-sql";
import { classifyStripeError } from "@/lib/stripe/classify-error";
import { findTransfersForPayout, type TTransfersOfPayout } from "@/lib/stripe/transfers";

import type { TAttemptFacts } from "./attempt-facts";
import { lockPayoutAndBooking } from "./lock-booking";
import { holdForUnmatchedTransfers, knownTransferIds, transferGroupFor } from "./payout-transfers";
import { recordLegTransfer } from "./transfer-leg";

/**
 * Before a claim, outside any transaction: a payout whose amount changed (a tip joined, a refund
 * lowered it) after transfers were planned for it still has those transfers pending, planned for
 * an earlier amount version. Any of them may have reached Stripe (its answer lost, a 5xx, a retry
 * answered 429), so the plan is made anew (ensureTransferPlan) only after each was looked up there,
 * by payout, leg number, amount version and amount:
 * - one Stripe made is recorded as what it was (its version, its amount): it counts as paid, and
 *   the new plan pays only the difference (or holds an overpaid payout for a person);
 * - one Stripe does not have is replaced (superseded), audited;
 * - a transfer of the payout that none of its transfers explains holds it for review, alerted.
 * Nothing changes when Stripe cannot be asked: `unavailable` says why, and the claim waits (the
 * plan made at the claim would otherwise replace them unseen). Safe to run again at any point.
 */
export async function replaceStaleLegs(
  context: TServiceContext,
  stripe: Stripe,
  input: { payoutId: string },
  /** The attempt's facts as just read (transferPayout): nothing more is read when they show no stale transfer. */
  facts?: TAttemptFacts | null,
): Promise<{ unavailable: string } | null> {
  if (facts !== undefined && (facts === null || facts.status !== "scheduled" || !facts.staleLegs)) return null;
  const ctx = resolveContext(context);
  const payout = await ctx.db.payout.findUnique({ where: { id: input.payoutId }, include: { booking: true } });
  // Only a claim (from scheduled) makes a plan.
  if (!payout || payout.status !== "scheduled") return null;
  const legs = await ctx.db.payoutTransfer.findMany({ where: { payoutId: payout.id, kind: "payout" }, orderBy: { leg: "asc" } });
  if (!legs.some((l) => l.status === "pending" && l.amountVersion !== payout.amountVersion)) return null;

  // Every transfer not recorded yet is looked for, replaced ones too: any of them explains a transfer at Stripe.
  const unrecorded = legs.filter((l) => l.stripeTransferId === null);
  let atStripe: TTransfersOfPayout<(typeof unrecorded)[number]>;
  try {
    atStripe = await findTransfersForPayout(stripe, {
      transferGroup: transferGroupFor(payout.booking),
      payoutId: payout.id,
      legs: unrecorded,
      exclude: new Set(await knownTransferIds(ctx.db, payout.id)),
    });
  } catch (error) {
    return {
      unavailable: `could not look up at Stripe the transfers planned for an earlier amount of payout ${payout.id}: ${classifyStripeError(error).message}`,
    };
  }

  await transaction(
    ctx.db,
    async (tx) => {
      const { payout: first } = await lockPayoutAndBooking(tx, payout.id);
      // Changed since it was read (another amount, a claim): the next try looks again.
      if (first.version !== payout.version) return;
      let locked = first;
      const fresh = await tx.payoutTransfer.findMany({ where: { id: { in: unrecorded.map((l) => l.id) } } });
      const found: { leg: number; amountVersion: number; stripeTransferId: string; amount: number }[] = [];
      const replaced: { leg: number; amountVersion: number; amount: number; currency: string }[] = [];
      for (const leg of unrecorded) {
        const current = fresh.find((l) => l.id === leg.id);
        if (!current || current.stripeTransferId !== null) continue;
        const transfer = atStripe.found.get(leg);
        if (transfer) {
          // A replaced one (superseded) found now is unexpected money out: the recorder holds and alerts.
          const recorded = await recordLegTransfer(
            tx,
            ctx,
            locked,
            current.id,
            transfer,
            `found at Stripe before the plan was made anew: made for amount version ${current.amountVersion}`,
          );
          locked = recorded.payout;
          found.push({ leg: current.leg, amountVersion: current.amountVersion, stripeTransferId: transfer.id, amount: transfer.amount });
        } else if (current.status === "pending") {
          // Looked up, not made: the new plan takes its place (under a new leg number and key).
          await tx.payoutTransfer.update({ where: { id: current.id }, data: { status: "superseded" } });
          replaced.push({ leg: current.leg, amountVersion: current.amountVersion, amount: current.amount, currency: current.currency });
        }
      }
      if (replaced.length > 0) {
        await recordAudit(tx, {
          actor: ctx.actor,
          action: "payout.transfers_replaced",
          entityType: "payout",
          entityId: locked.id,
          reason: `the amount changed (now version ${locked.amountVersion}); Stripe has no transfer for ${replaced.length === 1 ? "the one" : `the ${replaced.length}`} planned before, so the plan is made anew`,
          before: { pending: replaced },
          after: { amountVersion: locked.amountVersion, foundAtStripe: found },
          runId: ctx.runId,
          requestId: ctx.requestId,
        });
      }
      await holdForUnmatchedTransfers(tx, ctx, locked, atStripe.unmatched);
    },
    TX_OPTIONS,
  );
  return null;
}
