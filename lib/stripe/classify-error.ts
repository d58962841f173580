// Decides what a failed Stripe call means for the payout engine: retry now (with the
// caller's backoff), retry much later, or never; and whether Stripe may have acted anyway.
import Stripe from "stripe";

/** How long to wait before retrying a transfer refused for lack of platform balance. */
export const BALANCE_INSUFFICIENT_RETRY_AFTER_MS = 60 * 60 * 1000;

export type TStripeFailureReason =
  | "timeout"
  | "connection"
  /** The connection failed before the request was sent (refused, unknown host): Stripe never saw it. */
  | "not_sent"
  | "server_error"
  | "conflict"
  | "rate_limit"
  | "lock_timeout"
  | "balance_insufficient"
  /**
   * The destination (connected) account cannot receive transfers now: its `transfers` capability
   * is not active (`insufficient_capabilities_for_transfer`). It can become active again (Stripe
   * then sends account.updated), so the transfer waits for the account instead of failing.
   */
  | "destination_not_ready"
  | "destination_unusable"
  | "authentication"
  | "permission"
  | "idempotency"
  | "invalid_request"
  | "unknown";

export type TStripeFailure = {
  /** "now": retry with the caller's backoff; "later": retry after retryAfterMs; "never": permanent. */
  retry: "now" | "later" | "never";
  /**
   * False when Stripe turned the request away without acting on it for a reason that is not the
   * payout's (rate limited, lock_timeout, `Stripe-Should-Retry: true`, a connection that never
   * reached Stripe, funds not there yet): such a try does not count toward the attempt limit.
   */
  counts: boolean;
  /**
   * The request may have reached Stripe and we got no answer (or a 5xx): look the transfer up
   * before trusting that nothing happened.
   */
  outcomeUnknown: boolean;
  /** The SDK's error class name (e.g. "StripeConnectionError"), or the error's name. */
  type: string;
  /** Finer grained than `retry`; e.g. "destination_unusable" means the provider's account cannot receive transfers. */
  reason: TStripeFailureReason;
  code?: string;
  message: string;
  statusCode?: number;
  requestId?: string;
  retryAfterMs?: number;
};

/** Error codes that mean the destination (connected) account cannot receive the transfer. */
const DESTINATION_CODES = new Set([
  "account_invalid",
  "account_closed",
  "account_information_mismatch",
  "transfers_not_allowed",
  "platform_account_required",
]);

const DESTINATION_MESSAGES = [/no such destination/i, /capabilities enabled: .*transfers/i, /destination account/i];

/**
 * Stripe's code when the destination account lacks an active `transfers` capability ("Your
 * destination account needs to have at least one of the following capabilities enabled:
 * transfers, crypto_transfers, legacy_payments"): the account is not ready, which can change.
 */
export const DESTINATION_NOT_READY_CODE = "insufficient_capabilities_for_transfer";

const DESTINATION_NOT_READY_MESSAGE = /capabilities enabled: .*transfers/i;

/** SDK errors for requests Stripe refused (4xx) even when no status code is attached. */
const CLIENT_ERROR_TYPES = new Set(["StripeInvalidRequestError", "StripePermissionError", "StripeCardError"]);

type TStripeErrorLike = InstanceType<typeof Stripe.errors.StripeError>;

function isStripeError(error: unknown): error is TStripeErrorLike {
  if (error instanceof Stripe.errors.StripeError) return true;
  // A second copy of the SDK (CJS next to ESM) fails instanceof; its errors still look like this.
  return error instanceof Error && "type" in error && typeof error.type === "string" && error.type.startsWith("Stripe") && "raw" in error;
}

function header(error: TStripeErrorLike, name: string): string | undefined {
  const headers = error.headers;
  if (!headers) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? String(value[0]) : String(value);
  }
  return undefined;
}

function retryAfterHeaderMs(error: TStripeErrorLike): number | undefined {
  const value = header(error, "retry-after");
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function isTimeout(error: TStripeErrorLike): boolean {
  const detail = error.detail;
  if (detail instanceof Error && "code" in detail && detail.code === "ETIMEDOUT") return true;
  return /timeout/i.test(error.message);
}

function isDestinationNotReady(error: TStripeErrorLike): boolean {
  if (error.code === DESTINATION_NOT_READY_CODE) return true;
  return error.code === undefined && DESTINATION_NOT_READY_MESSAGE.test(error.message);
}

function isDestinationProblem(error: TStripeErrorLike): boolean {
  if (error.code !== undefined && DESTINATION_CODES.has(error.code)) return true;
  if (error.code === "resource_missing" && error.param === "destination") return true;
  return DESTINATION_MESSAGES.some((pattern) => pattern.test(error.message));
}

type TDecision = Pick<TStripeFailure, "retry" | "outcomeUnknown" | "reason" | "retryAfterMs">;

/** Connection errors raised before any byte reached Stripe. */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL"]);

function notSent(error: TStripeErrorLike): boolean {
  const detail = error.detail;
  return detail instanceof Error && "code" in detail && typeof detail.code === "string" && NOT_SENT_CODES.has(detail.code);
}

/** Reasons for which Stripe did not act on the request and the payout is not to blame. */
const NOT_COUNTED_REASONS: ReadonlySet<TStripeFailureReason> = new Set(["rate_limit", "lock_timeout", "not_sent", "balance_insufficient"]);

/** Stripe turned the request away unprocessed and it may be sent again as it is, after a pause (429s, never-sent connections). */
export function isTurnedAway(failure: TStripeFailure): boolean {
  return (
    !failure.outcomeUnknown &&
    failure.retry !== "never" &&
    (failure.reason === "rate_limit" || failure.reason === "lock_timeout" || failure.reason === "not_sent")
  );
}

function decide(error: TStripeErrorLike): TDecision {
  const status = error.statusCode;
  if (error.type === "StripeConnectionError") {
    if (notSent(error)) return { retry: "now", outcomeUnknown: false, reason: "not_sent" };
    return { retry: "now", outcomeUnknown: true, reason: isTimeout(error) ? "timeout" : "connection" };
  }
  if (error.code === "lock_timeout") return { retry: "now", outcomeUnknown: false, reason: "lock_timeout" };
  if (error.type === "StripeRateLimitError" || status === 429) {
    return { retry: "now", outcomeUnknown: false, reason: "rate_limit" };
  }
  if (error.code === "balance_insufficient") {
    return {
      retry: "later",
      outcomeUnknown: false,
      reason: "balance_insufficient",
      retryAfterMs: BALANCE_INSUFFICIENT_RETRY_AFTER_MS,
    };
  }
  if (error.type === "StripeIdempotencyError") return { retry: "never", outcomeUnknown: false, reason: "idempotency" };
  // 409: another request with the same idempotency key is still running; it may succeed.
  if (status === 409) return { retry: "now", outcomeUnknown: true, reason: "conflict" };
  if ((status !== undefined && status >= 500) || (status === undefined && error.type === "StripeAPIError")) {
    return { retry: "now", outcomeUnknown: true, reason: "server_error" };
  }
  if (error.type === "StripeAuthenticationError" || status === 401) {
    return { retry: "never", outcomeUnknown: false, reason: "authentication" };
  }
  if ((status !== undefined && status >= 400) || CLIENT_ERROR_TYPES.has(error.type)) {
    const permission = error.type === "StripePermissionError" || status === 403;
    return {
      retry: "never",
      outcomeUnknown: false,
      reason: isDestinationNotReady(error)
        ? "destination_not_ready"
        : isDestinationProblem(error)
          ? "destination_unusable"
          : permission
            ? "permission"
            : "invalid_request",
    };
  }
  // No HTTP answer and not a connection error (e.g. the SDK failed before sending).
  return { retry: "now", outcomeUnknown: true, reason: "unknown" };
}

export function classifyStripeError(error: unknown): TStripeFailure {
  if (!isStripeError(error)) {
    return {
      retry: "now",
      counts: true,
      outcomeUnknown: true,
      reason: "unknown",
      type: error instanceof Error ? error.name : typeof error,
      message: error instanceof Error ? error.message : String(error),
    };
  }

  const decision = decide(error);

  // Stripe's own verdict wins over our table.
  const shouldRetry = header(error, "stripe-should-retry");
  if (shouldRetry === "false") {
    decision.retry = "never";
    delete decision.retryAfterMs;
  } else if (shouldRetry === "true" && decision.retry === "never") {
    decision.retry = "now";
  }

  if (decision.retry !== "never") {
    const retryAfter = retryAfterHeaderMs(error);
    if (retryAfter !== undefined) decision.retryAfterMs = Math.max(decision.retryAfterMs ?? 0, retryAfter);
  }

  const failure: TStripeFailure = {
    ...decision,
    // A destination account that is not ready never counts (Stripe-Should-Retry or not): the
    // payout waits for the account, as it does when we knew it was not ready before sending.
    counts:
      decision.reason !== "destination_not_ready" &&
      (decision.retry === "never" || !(NOT_COUNTED_REASONS.has(decision.reason) || shouldRetry === "true")),
    type: error.type,
    message: error.message,
  };
  if (error.code !== undefined) failure.code = error.code;
  if (error.statusCode !== undefined) failure.statusCode = error.statusCode;
  if (error.requestId !== undefined) failure.requestId = error.requestId;
  return failure;
}
