import { RetryAfterError } from "inngest";

import { defaultDeps, engineContext, type TEngineDeps } from "@/inngest/deps";
import { stripeWriteThrottle } from "@/inngest/flow-control";
import { withAfterCommitEffects } from "@/lib/after-commit/with-after-commit-effects";
import { inngest } from "@/lib/inngest/client";
import { payoutReversalRequested } from "@/lib/inngest/events";
import { reverseTransfer } from "@/lib/payouts/reverse-transfer";

export const REVERSE_TRANSFER_FN = "reverse-transfer";

/** payout/reversal.requested: one Stripe transfer reversal per lost post-transfer dispute. */
export function createReverseTransferFunction(deps: TEngineDeps = defaultDeps) {
  return inngest.createFunction(
    {
      id: REVERSE_TRANSFER_FN,
      triggers: [payoutReversalRequested],
      retries: 5,
      concurrency: [{ key: "event.data.payoutId", limit: 1 }],
      throttle: stripeWriteThrottle(),
    },
    async ({ event, step, runId }) =>
      step.run("reverse", async () => {
        const r = await withAfterCommitEffects(deps.db, () =>
          reverseTransfer(engineContext(deps, REVERSE_TRANSFER_FN, runId), deps.stripe(), { reversalId: event.data.reversalId }),
        );
        if (r.kind === "retry") throw new RetryAfterError(`reversal failed: ${r.error}`, r.delayMs ?? "1m");
        return r;
      }),
  );
}
