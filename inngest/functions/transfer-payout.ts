import { RetryAfterError } from "inngest";

import { inngest } from "@/inngest/client";
import { defaultDeps, engineContext, type TEngineDeps } from "@/inngest/deps";
import { payoutTransferRequested } from "@/inngest/events";
import { publishOutbox } from "@/lib/outbox/publish-outbox";
import { settleProcessingPayout } from "@/lib/payouts/sweep-payouts";
import { transferPayout } from "@/lib/payouts/transfer-payout";

export const TRANSFER_PAYOUT_FN = "transfer-payout";

/** Thrown to make Inngest retry the attempt step (with its backoff, or after a set delay). */
export class TransferRetryError extends Error {
  override name = "TransferRetryError";
}

/**
 * payout/transfer.requested: one run per payout at a time. Each try of the "transfer" step
 * is one whole attempt (claim, Stripe with the payout's idempotency key, record); a
 * retryable failure throws so Inngest retries it with backoff, up to 3 attempts in all;
 * the third failure or a permanent one marks the payout failed and alerts an admin.
 */
export function createTransferPayoutFunction(deps: TEngineDeps = defaultDeps) {
  return inngest.createFunction(
    {
      id: TRANSFER_PAYOUT_FN,
      triggers: [payoutTransferRequested],
      // 3 attempts in all (MAX_TRANSFER_ATTEMPTS): the first try and 2 retries.
      retries: 2,
      concurrency: [{ key: "event.data.payoutId", limit: 1 }],
      onFailure: async ({ event, runId }) => {
        // Retries exhausted by something other than a recorded Stripe failure (a crash, the
        // database): settle against Stripe so the payout ends transferred or failed, never stuck.
        const payoutId = event.data.event.data.payoutId;
        // Only if the failed run's attempt is the latest: a newer run may be transferring it now.
        const failedRunId = event.data.run_id;
        await settleProcessingPayout(engineContext(deps, TRANSFER_PAYOUT_FN, runId), deps.stripe(), { payoutId, runId: failedRunId });
      },
    },
    async ({ event, step, runId }) => {
      const result = await step.run("transfer", async () => {
        const r = await transferPayout(engineContext(deps, TRANSFER_PAYOUT_FN, runId), deps.stripe(), { payoutId: event.data.payoutId });
        if (r.kind === "retry") {
          if (r.delayMs) throw new RetryAfterError(`attempt ${r.attemptNumber} failed: ${r.error}`, r.delayMs);
          throw new TransferRetryError(`attempt ${r.attemptNumber} failed: ${r.error}`);
        }
        return r;
      });
      await step.run("publish-events", () => publishOutbox(deps.db));
      return result;
    },
  );
}
