import "server-only";

import { ConflictError } from "@/lib/errors";

import { runAdminPayoutAction, type TAdminActionInput } from "./admin-action";
import { changePayout } from "./change-payout";
import type { TServiceContext } from "./context";

/**
 * Operator: releases a held payout back to scheduled; it is transferred when due. It cannot
 * be released while its booking has an open dispute (whatever the hold was for) or while a
 * hold for an unready Stripe account still has that cause.
 */
export function releasePayout(ctx: TServiceContext, input: TAdminActionInput) {
  return runAdminPayoutAction(ctx, input, "release", (tx, { payout, booking, reason, ctx: c, openDisputes }) => {
    if (payout.status === "on_hold" && openDisputes > 0) {
      // Whatever the hold was for, an open dispute keeps the payout from being paid.
      throw new ConflictError(
        payout.holdReason === "dispute_open"
          ? "This payout is held for an open dispute; it is released when the dispute is resolved."
          : "A dispute on this booking is open; the payout is released when the dispute is resolved.",
      );
    }
    if (payout.holdReason === "provider_account_not_ready" && !(booking.provider.stripeAccountId && booking.provider.payoutsEnabled)) {
      throw new ConflictError("The provider's Stripe account still cannot receive payouts.");
    }
    return changePayout(tx, payout, {
      event: "release",
      audit: { actor: c.actor, action: "payout.released", reason, runId: c.runId, requestId: c.requestId },
    });
  });
}
