import "server-only";

import { openStripeDispute, parseStripeDispute, waitingForCharge } from "./stripe-dispute";
import type { TStripeHandler } from "./types";

/** charge.dispute.created: a customer disputed a charge with their bank → open the dispute; the payout is held. */
export const handleChargeDisputeCreated: TStripeHandler<"charge.dispute.created"> = async ({ deps, ctx, event }) => {
  const dispute = parseStripeDispute(event.data.object);
  const opened = await openStripeDispute(ctx, deps.stripe(), dispute);
  if (opened.kind === "unknown_charge") return waitingForCharge(dispute, opened);
  if (opened.kind === "needs_review") return opened.outcome;
  return opened.duplicate
    ? { status: "processed", note: `Stripe dispute ${dispute.id} already recorded; nothing changed` }
    : {
        status: "processed",
        note: `Stripe dispute ${dispute.id} opened on booking ${opened.owner.bookingExternalId} (${opened.owner.scope})`,
      };
};
