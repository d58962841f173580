import "server-only";

import { ConflictError } from "@/lib/errors";

import { runAdminPayoutAction, type TAdminActionInput } from "./admin-action";
import { changePayout } from "./change-payout";
import type { TServiceContext } from "./context";

/**
 * Operator: releases a held payout back to scheduled; it is transferred when due. A hold
 * for an open dispute or an unready Stripe account cannot be released while the cause remains.
 */
export function releasePayout(ctx: TServiceContext, input: TAdminActionInput) {
  return runAdminPayoutAction(ctx, input, "release", (tx, { payout, booking, reason, ctx: c, openDisputes }) => {
    if (payout.status === "on_hold" && payout.holdReason === "dispute_open" && openDisputes > 0) {
      throw new ConflictError("This payout is held for an open dispute; it is released when the dispute is resolved.");
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
