import "server-only";

import { openStripeDispute, outcomeOfStripeStatus, parseStripeDispute, resolveStripeDispute, waitingForCharge } from "./stripe-dispute";
import type { TStripeHandler } from "./types";

/**
 * charge.dispute.closed: won (or an inquiry closed without a chargeback) → provider_won,
 * nothing refunded, the payout released if nothing else holds it; lost → customer_won with
 * the provider's part (stripe-dispute.ts), taken from the payout or, after the transfer,
 * reversed. A dispute we never heard of is opened first (events may arrive in any order).
 */
export const handleChargeDisputeClosed: TStripeHandler<"charge.dispute.closed"> = async ({ deps, ctx, event, delivery }) => {
  const dispute = parseStripeDispute(event.data.object);
  const outcome = outcomeOfStripeStatus(dispute.status);
  if (!outcome) return { status: "failed", error: `Stripe dispute ${dispute.id} closed with unexpected status "${dispute.status}"` };
  const opened = await openStripeDispute({ ...ctx, sourceEventId: `${delivery.id}:opened` }, deps.stripe(), dispute);
  if (opened.kind === "unknown_charge") return waitingForCharge(dispute, opened);
  if (opened.kind === "needs_review") return opened.outcome;
  return resolveStripeDispute(ctx, dispute, opened.owner, outcome, new Date(event.created * 1000));
};
