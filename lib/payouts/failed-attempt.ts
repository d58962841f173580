// What a transfer try that Stripe refused records: the attempt's fields and the words of the
// payout's lastError (also the audit reason and the alert's). Pure: transfer-outcome.ts records
// them, the demo seed (lib/seed/payout-story.ts) writes the same.
import type { TransferAttempt } from "@/generated/prisma/client";
import type { TStripeFailure } from "@/lib/stripe/classify-error";

/** How the payout engine words a failure in lastError, audit reasons and alerts. */
export function describeStripeFailure(failure: Pick<TStripeFailure, "type" | "code" | "message">): string {
  return `${failure.type}${failure.code ? ` (${failure.code})` : ""}: ${failure.message}`;
}

/** A failed attempt's fields for `failure`; `stripeRequestId` is the request Stripe answered, if any. */
export function failedAttemptFields(
  failure: Pick<TStripeFailure, "retry" | "counts" | "type" | "code" | "message">,
  stripeRequestId: string | null,
): Pick<TransferAttempt, "status" | "retryable" | "counted" | "errorType" | "errorCode" | "errorMessage" | "stripeRequestId"> {
  return {
    status: "failed",
    retryable: failure.retry !== "never",
    counted: failure.counts,
    errorType: failure.type,
    errorCode: failure.code ?? null,
    errorMessage: failure.message,
    stripeRequestId,
  };
}
