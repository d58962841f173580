import "server-only";

import type { TServiceContext } from "@/lib/context";

import { runAdminPayoutAction, type TAdminActionInput } from "./admin-action";
import { changePayout } from "./change-payout";

/**
 * Operator: releases a held payout back to scheduled; it is transferred when due. It cannot
 * be released while its booking has an open dispute (whatever the hold was for) or while a
 * hold for an unready Stripe account still has that cause.
 */
export function releasePayout(ctx: TServiceContext, input: TAdminActionInput) {
  return runAdminPayoutAction(ctx, input, "release", (tx, { payout, reason, ctx: c }) =>
    changePayout(tx, payout, {
      event: "release",
      audit: { actor: c.actor, action: "payout.released", reason, runId: c.runId, requestId: c.requestId },
    }),
  );
}
