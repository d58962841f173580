import "server-only";

import type { TServiceContext } from "@/lib/context";

import { runAdminPayoutAction, type TAdminActionInput } from "./admin-action";
import { changePayout } from "./change-payout";

/** Admin: cancels a payout that has not been transferred; it will never be paid. */
export function cancelPayout(ctx: TServiceContext, input: TAdminActionInput) {
  return runAdminPayoutAction(ctx, input, "cancel", (tx, { payout, reason, ctx: c }) =>
    changePayout(tx, payout, {
      event: "cancel",
      data: { cancelReason: reason },
      audit: { actor: c.actor, action: "payout.cancelled", reason, runId: c.runId, requestId: c.requestId },
    }),
  );
}
