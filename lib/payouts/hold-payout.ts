import "server-only";

import type { TServiceContext } from "@/lib/context";

import { runAdminPayoutAction, type TAdminActionInput } from "./admin-action";
import { changePayout } from "./change-payout";

/** Operator: holds a scheduled payout so it is not transferred until released. */
export function holdPayout(ctx: TServiceContext, input: TAdminActionInput) {
  return runAdminPayoutAction(ctx, input, "hold", (tx, { payout, reason, ctx: c }) =>
    changePayout(tx, payout, {
      event: "hold",
      data: { holdReason: "admin_hold", holdNote: reason },
      audit: { actor: c.actor, action: "payout.held", reason, runId: c.runId, requestId: c.requestId },
    }),
  );
}
