import { RetryAfterError } from "inngest";

import { defaultDeps, engineContext, type TEngineDeps } from "@/inngest/deps";
import { stripeWriteThrottle } from "@/inngest/flow-control";
import { withAfterCommitEffects } from "@/lib/after-commit/with-after-commit-effects";
import { inngest } from "@/lib/inngest/client";
import { payoutTopUpRequested } from "@/lib/inngest/events";
import { topUpPayout } from "@/lib/payouts/top-up-payout";

export const TOP_UP_PAYOUT_FN = "top-up-payout";

/**
 * payout/top-up.requested: pays, after a payout's transfer, the tips received before it was made
 * that could not join it in time (one top-up transfer, exactly once under its own key). A try
 * Stripe did not answer, or a lack of funds, is retried; the reconciliation sweep requests
 * top-ups still pending (one waiting for a dispute once it is resolved).
 */
export function createTopUpPayoutFunction(deps: TEngineDeps = defaultDeps) {
  return inngest.createFunction(
    {
      id: TOP_UP_PAYOUT_FN,
      triggers: [payoutTopUpRequested],
      retries: 10,
      concurrency: [{ key: "event.data.payoutId", limit: 1 }],
      throttle: stripeWriteThrottle(),
    },
    async ({ event, step, runId }) =>
      step.run("top-up", async () => {
        const r = await withAfterCommitEffects(deps.db, () =>
          topUpPayout(engineContext(deps, TOP_UP_PAYOUT_FN, runId), deps.stripe(), { transferId: event.data.transferId }),
        );
        if (r.kind === "retry") throw new RetryAfterError(`top-up not made yet: ${r.error}`, r.delayMs ?? "1m");
        return r;
      }),
  );
}
