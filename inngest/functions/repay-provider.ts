import { RetryAfterError } from "inngest";

import { defaultDeps, engineContext, type TEngineDeps } from "@/inngest/deps";
import { stripeWriteThrottle } from "@/inngest/flow-control";
import { withAfterCommitEffects } from "@/lib/after-commit/with-after-commit-effects";
import { inngest } from "@/lib/inngest/client";
import { payoutRepaymentRequested } from "@/lib/inngest/events";
import { repayProvider } from "@/lib/payouts/repay-provider";

export const REPAY_PROVIDER_FN = "repay-provider";

/** payout/repayment.requested: gives a provider back what reversals took for a refund that failed. */
export function createRepayProviderFunction(deps: TEngineDeps = defaultDeps) {
  return inngest.createFunction(
    {
      id: REPAY_PROVIDER_FN,
      triggers: [payoutRepaymentRequested],
      retries: 10,
      concurrency: [{ key: "event.data.payoutId", limit: 1 }],
      throttle: stripeWriteThrottle(),
    },
    async ({ event, step, runId }) =>
      step.run("repay", async () => {
        const r = await withAfterCommitEffects(deps.db, () =>
          repayProvider(engineContext(deps, REPAY_PROVIDER_FN, runId), deps.stripe(), { repaymentId: event.data.repaymentId }),
        );
        if (r.kind === "retry") throw new RetryAfterError(`repayment not made yet: ${r.error}`, r.delayMs ?? "1m");
        return r;
      }),
  );
}
