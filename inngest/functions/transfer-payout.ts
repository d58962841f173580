import { RetryAfterError } from "inngest";

import { defaultDeps, engineContext, type TEngineDeps } from "@/inngest/deps";
import { stripeWriteThrottle } from "@/inngest/flow-control";
import { withAfterCommitEffects } from "@/lib/after-commit/with-after-commit-effects";
import { inngest } from "@/lib/inngest/client";
import { payoutTransferRequested } from "@/lib/inngest/events";
import { settleProcessingPayout } from "@/lib/payouts/settle-processing-payout";
import { transferPayout } from "@/lib/payouts/transfer-payout";
import { MAX_TRANSFER_ATTEMPTS } from "@/lib/payouts/transfer-types";

export const TRANSFER_PAYOUT_FN = "transfer-payout";
/** What Inngest accepts as a function's `retries` (0 to 20). */
type TInngestRetries = NonNullable<Parameters<typeof inngest.createFunction>[0]["retries"]>;

/** Inngest retries of one run: the counted attempts' retries, plus room for tries that do not count (rate limits) and crashes. */
export const TRANSFER_RUN_RETRIES = (MAX_TRANSFER_ATTEMPTS - 1 + 8) as TInngestRetries;

/** Thrown to make Inngest retry the attempt step (with its backoff, or after a set delay). */
export class TransferRetryError extends Error {
  override name = "TransferRetryError";
}

/**
 * payout/transfer.requested: one run per payout at a time, and runs started no faster than the
 * shared Stripe write rate (throttle; lib/stripe/write-gate.ts is the ceiling for all writes
 * together). Each try of the "transfer" step is one whole attempt (learn the funding, claim,
 * Stripe with each transfer's idempotency key, record); a retryable failure throws so Inngest
 * retries it with backoff. The engine counts attempts itself (MAX_TRANSFER_ATTEMPTS): the third
 * counted failure or a permanent one marks the payout failed and alerts an admin; tries Stripe
 * turned away unprocessed (429s) are retried after Stripe's pause without counting, a lack of
 * funds puts the payout on hold until they are due (the sweep picks it up then), and a provider's
 * account Stripe refuses transfers to (no active transfers capability) puts it on hold until
 * Stripe says the account is ready (account.updated, or the sweep asking).
 */
export function createTransferPayoutFunction(deps: TEngineDeps = defaultDeps) {
  return inngest.createFunction(
    {
      id: TRANSFER_PAYOUT_FN,
      triggers: [payoutTransferRequested],
      // The engine decides when a payout fails (MAX_TRANSFER_ATTEMPTS counted attempts); these
      // retries also carry the tries that do not count (rate limits) and crashes.
      retries: TRANSFER_RUN_RETRIES,
      concurrency: [{ key: "event.data.payoutId", limit: 1 }],
      throttle: stripeWriteThrottle(),
      onFailure: async ({ event, runId }) => {
        // Retries exhausted by something other than a recorded Stripe failure (a crash, the
        // database): settle against Stripe so the payout ends transferred or failed, never stuck.
        const payoutId = event.data.event.data.payoutId;
        // Only if the failed run's attempt is the latest: a newer run may be transferring it now.
        const failedRunId = event.data.run_id;
        await withAfterCommitEffects(deps.db, () =>
          settleProcessingPayout(engineContext(deps, TRANSFER_PAYOUT_FN, runId), deps.stripe(), { payoutId, runId: failedRunId }),
        );
      },
    },
    async ({ event, step, runId }) => {
      const result = await step.run("transfer", async () => {
        const r = await withAfterCommitEffects(deps.db, () =>
          transferPayout(engineContext(deps, TRANSFER_PAYOUT_FN, runId), deps.stripe(), { payoutId: event.data.payoutId }),
        );
        if (r.kind === "retry") {
          const what = r.counted ? `attempt ${r.attemptNumber} failed` : "Stripe turned the attempt away (not counted)";
          if (r.delayMs) throw new RetryAfterError(`${what}: ${r.error}`, r.delayMs);
          throw new TransferRetryError(`${what}: ${r.error}`);
        }
        return r;
      });
      return result;
    },
  );
}
