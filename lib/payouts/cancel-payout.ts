import "server-only";

import { ConflictError } from "@/lib/errors";

import { runAdminPayoutAction, type TAdminActionInput } from "./admin-action";
import { changePayout } from "./change-payout";
import { canTransition } from "./state-machine";
import type { TServiceContext } from "./context";

/** Admin: cancels a payout that has not been transferred; it will never be paid. */
export function cancelPayout(ctx: TServiceContext, input: TAdminActionInput) {
  return runAdminPayoutAction(ctx, input, "cancel", async (tx, { payout, reason, ctx: c }) => {
    const made = canTransition(payout.status, "cancel") ? await tx.payoutTransfer.count({ where: { payoutId: payout.id, kind: "payout", status: "succeeded" } }) : 0;
    if (made > 0) throw new ConflictError("Part of this payout was already transferred; it can be retried, not cancelled.", { payoutId: payout.id });
    return changePayout(tx, payout, {
      event: "cancel",
      data: { cancelReason: reason },
      audit: { actor: c.actor, action: "payout.cancelled", reason, runId: c.runId, requestId: c.requestId },
    });
  });
}
