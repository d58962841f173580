import "server-only";

import { openStripeDispute, outcomeOfStripeStatus, parseStripeDispute, resolveStripeDispute, waitingForCharge } from "./stripe-dispute";
import type { TStripeHandler } from "./types";

/**
 * charge.dispute.updated: acts only when the dispute is decided (won or lost), as
 * charge.dispute.closed would; evidence and other status changes change nothing. A
 * dispute we never heard of (its created event lost or still on its way) is opened first,
 * so the payout is held whatever the order of arrival.
 */
export const handleChargeDisputeUpdated: TStripeHandler<"charge.dispute.updated"> = async ({ deps, ctx, event, delivery }) => {
  const dispute = parseStripeDispute(event.data.object);
  const opened = await openStripeDispute({ ...ctx, sourceEventId: `${delivery.id}:opened` }, deps.stripe(), dispute);
  if (opened.kind === "unknown_charge") return waitingForCharge(dispute, opened);
  if (opened.kind === "needs_review") return opened.outcome;
  const outcome = dispute.status === "won" || dispute.status === "lost" ? outcomeOfStripeStatus(dispute.status) : null;
  if (!outcome) {
    return {
      status: "processed",
      note: opened.duplicate
        ? `Stripe dispute ${dispute.id} is ${dispute.status}; nothing changed`
        : `Stripe dispute ${dispute.id} (${dispute.status}) was not known yet: opened`,
    };
  }
  return resolveStripeDispute(ctx, dispute, opened.owner, outcome, new Date(event.created * 1000));
};
