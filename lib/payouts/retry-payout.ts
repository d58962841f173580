import "server-only";

import type { TServiceContext } from "@/lib/context";

import { runAdminPayoutAction, type TAdminActionInput } from "./admin-action";
import { changePayout } from "./change-payout";

/** Operator: puts a failed payout back to scheduled with a fresh set of attempts. */
export function retryPayout(ctx: TServiceContext, input: TAdminActionInput) {
  return runAdminPayoutAction(ctx, input, "retry", (tx, { payout, reason, ctx: c }) =>
    changePayout(tx, payout, {
      event: "retry",
      data: { attempts: 0, processingStartedAt: null },
      audit: { actor: c.actor, action: "payout.retried", reason, runId: c.runId, requestId: c.requestId },
    }),
  );
}
