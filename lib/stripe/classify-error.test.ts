import Stripe from "stripe";
import { describe, expect, it } from "vitest";

import { BALANCE_INSUFFICIENT_RETRY_AFTER_MS, classifyStripeError } from "./classify-error";

const { errors } = Stripe;

function timeoutDetail(): Error {
  return Object.assign(new TypeError("ETIMEDOUT"), { code: "ETIMEDOUT" });
}

describe("classifyStripeError", () => {
  it("retries a connection error now and flags the outcome as unknown", () => {
    const error = new errors.StripeConnectionError({
      message: "An error occurred with our connection to Stripe. Request was retried 2 times.",
      detail: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
    });
    expect(classifyStripeError(error)).toEqual({
      retry: "now",
      counts: true,
      outcomeUnknown: true,
      reason: "connection",
      type: "StripeConnectionError",
      message: "An error occurred with our connection to Stripe. Request was retried 2 times.",
    });
  });

  it("treats a timeout as a connection error with an unknown outcome", () => {
    const error = new errors.StripeConnectionError({
      message: "Request aborted due to timeout being reached (300ms)",
      detail: timeoutDetail(),
    });
    expect(classifyStripeError(error)).toMatchObject({ retry: "now", outcomeUnknown: true, reason: "timeout" });
  });

  it("retries a 5xx now; the request may have been processed", () => {
    const error = new errors.StripeAPIError({
      type: "api_error",
      message: "An unknown error occurred",
      statusCode: 500,
      requestId: "req_500",
    });
    expect(classifyStripeError(error)).toEqual({
      retry: "now",
      counts: true,
      outcomeUnknown: true,
      reason: "server_error",
      type: "StripeAPIError",
      message: "An unknown error occurred",
      statusCode: 500,
      requestId: "req_500",
    });
  });

  it("treats an unparseable answer (StripeAPIError without status) as a server error", () => {
    const error = new errors.StripeAPIError({ message: "Invalid JSON received from the Stripe API" });
    expect(classifyStripeError(error)).toMatchObject({ retry: "now", outcomeUnknown: true, reason: "server_error" });
  });

  it("retries a 429 rate limit now; nothing happened", () => {
    const error = new errors.StripeRateLimitError({
      type: "invalid_request_error",
      code: "rate_limit",
      message: "Too many requests hit the API too quickly.",
      statusCode: 429,
    });
    expect(classifyStripeError(error)).toMatchObject({
      retry: "now",
      outcomeUnknown: false,
      reason: "rate_limit",
      code: "rate_limit",
      statusCode: 429,
    });
  });

  it("retries a lock_timeout now", () => {
    const error = new errors.StripeRateLimitError({
      type: "invalid_request_error",
      code: "lock_timeout",
      message: "This object cannot be accessed right now because another API request or Stripe process is currently accessing it.",
      statusCode: 429,
      headers: { "stripe-should-retry": "true" },
    });
    expect(classifyStripeError(error)).toMatchObject({ retry: "now", outcomeUnknown: false, reason: "lock_timeout" });
  });

  it("retries insufficient platform balance later, after an hour", () => {
    const error = new errors.StripeInvalidRequestError({
      type: "invalid_request_error",
      code: "balance_insufficient",
      message: "You have insufficient available funds in your Stripe account.",
      statusCode: 400,
    });
    expect(classifyStripeError(error)).toMatchObject({
      retry: "later",
      outcomeUnknown: false,
      reason: "balance_insufficient",
      retryAfterMs: BALANCE_INSUFFICIENT_RETRY_AFTER_MS,
    });
    expect(BALANCE_INSUFFICIENT_RETRY_AFTER_MS).toBe(60 * 60 * 1000);
  });

  it.each([
    [
      "a destination that does not exist",
      { code: "resource_missing", param: "destination", message: "No such destination: 'acct_missing'" },
    ],
    ["an invalid account", { code: "account_invalid", message: "The account is invalid." }],
    ["a destination named only in the message", { message: "No such destination: 'acct_gone'" }],
    ["transfers not allowed", { code: "transfers_not_allowed", message: "Transfers are not allowed for this account." }],
  ])("never retries %s", (_label, raw) => {
    const error = new errors.StripeInvalidRequestError({ type: "invalid_request_error", statusCode: 400, ...raw });
    expect(classifyStripeError(error)).toMatchObject({
      retry: "never",
      outcomeUnknown: false,
      reason: "destination_unusable",
      type: "StripeInvalidRequestError",
    });
  });

  it.each([
    ["by its code", { code: "insufficient_capabilities_for_transfer", param: "destination" }],
    ["by its message only", {}],
  ])("a destination without the transfers capability (%s) is not ready: not sent again as it is, and not counted", (_label, raw) => {
    const error = new errors.StripeInvalidRequestError({
      type: "invalid_request_error",
      statusCode: 400,
      message:
        "Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments",
      ...raw,
    });
    expect(classifyStripeError(error)).toMatchObject({
      retry: "never",
      counts: false,
      outcomeUnknown: false,
      reason: "destination_not_ready",
      type: "StripeInvalidRequestError",
    });
  });

  it("a destination that is not ready is not counted even when Stripe says not to retry", () => {
    const error = new errors.StripeInvalidRequestError({
      type: "invalid_request_error",
      statusCode: 400,
      code: "insufficient_capabilities_for_transfer",
      message:
        "Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments",
      headers: { "stripe-should-retry": "false" },
    });
    expect(classifyStripeError(error)).toMatchObject({ retry: "never", counts: false, reason: "destination_not_ready" });
  });

  it("never retries other invalid requests", () => {
    const error = new errors.StripeInvalidRequestError({
      type: "invalid_request_error",
      code: "parameter_invalid_integer",
      param: "amount",
      message: "This value must be greater than or equal to 1.",
      statusCode: 400,
    });
    expect(classifyStripeError(error)).toMatchObject({ retry: "never", outcomeUnknown: false, reason: "invalid_request" });
  });

  it("never retries authentication or permission errors", () => {
    const auth = new errors.StripeAuthenticationError({ message: "Invalid API Key provided: sk_test_****", statusCode: 401 });
    expect(classifyStripeError(auth)).toMatchObject({ retry: "never", outcomeUnknown: false, reason: "authentication" });

    const permission = new errors.StripePermissionError({
      type: "invalid_request_error",
      message: "The provided key does not have the required permissions for this endpoint.",
      statusCode: 403,
    });
    expect(classifyStripeError(permission)).toMatchObject({ retry: "never", reason: "permission" });

    const noAccess = new errors.StripePermissionError({
      type: "invalid_request_error",
      code: "account_invalid",
      message: "The provided key does not have access to account 'acct_x' (or that account does not exist).",
      statusCode: 403,
    });
    expect(classifyStripeError(noAccess)).toMatchObject({ retry: "never", reason: "destination_unusable" });
  });

  it("never retries an idempotency error", () => {
    const error = new errors.StripeIdempotencyError({
      type: "idempotency_error",
      message: "Keys for idempotent requests can only be used with the same parameters they were first used with.",
      statusCode: 400,
    });
    expect(classifyStripeError(error)).toMatchObject({ retry: "never", outcomeUnknown: false, reason: "idempotency" });
  });

  it("retries a 409 (same key still in flight) now, outcome unknown", () => {
    const error = new errors.StripeAPIError({
      type: "idempotency_error",
      message: "There is currently another in-progress request using this Idempotent Key.",
      statusCode: 409,
    });
    expect(classifyStripeError(error)).toMatchObject({ retry: "now", outcomeUnknown: true, reason: "conflict" });
  });

  describe("Stripe-Should-Retry is authoritative", () => {
    it("false stops a retry we would have made, keeping the outcome flag", () => {
      const error = new errors.StripeAPIError({
        type: "api_error",
        message: "An unknown error occurred",
        statusCode: 500,
        headers: { "stripe-should-retry": "false" },
      });
      expect(classifyStripeError(error)).toMatchObject({ retry: "never", outcomeUnknown: true });

      const rateLimited = new errors.StripeRateLimitError({
        code: "rate_limit",
        message: "Too many requests",
        statusCode: 429,
        headers: { "Stripe-Should-Retry": "false" },
      });
      expect(classifyStripeError(rateLimited)).toMatchObject({ retry: "never" });

      const broke = new errors.StripeInvalidRequestError({
        code: "balance_insufficient",
        message: "Insufficient funds",
        statusCode: 400,
        headers: { "stripe-should-retry": "false" },
      });
      const failure = classifyStripeError(broke);
      expect(failure.retry).toBe("never");
      expect(failure.retryAfterMs).toBeUndefined();
    });

    it("true makes a refused request retryable", () => {
      const error = new errors.StripeInvalidRequestError({
        type: "invalid_request_error",
        message: "Something transient",
        statusCode: 400,
        headers: { "stripe-should-retry": "true" },
      });
      expect(classifyStripeError(error)).toMatchObject({ retry: "now", outcomeUnknown: false });
    });
  });

  it("honours Retry-After on a retryable answer", () => {
    const error = new errors.StripeRateLimitError({
      code: "rate_limit",
      message: "Too many requests",
      statusCode: 429,
      headers: { "retry-after": "2" },
    });
    expect(classifyStripeError(error)).toMatchObject({ retry: "now", retryAfterMs: 2000 });
  });

  it("retries an unknown non-Stripe error now, outcome unknown", () => {
    expect(classifyStripeError(new TypeError("fetch failed"))).toEqual({
      retry: "now",
      counts: true,
      outcomeUnknown: true,
      reason: "unknown",
      type: "TypeError",
      message: "fetch failed",
    });
    expect(classifyStripeError("boom")).toMatchObject({ retry: "now", outcomeUnknown: true, type: "string", message: "boom" });
  });

  describe("tries that do not count toward the attempt limit", () => {
    it.each([
      [
        "a 429 rate limit",
        new errors.StripeRateLimitError({
          type: "invalid_request_error",
          code: "rate_limit",
          message: "Too many requests",
          statusCode: 429,
        }),
      ],
      [
        "a lock_timeout",
        new errors.StripeRateLimitError({
          type: "invalid_request_error",
          code: "lock_timeout",
          message: "locked",
          statusCode: 429,
          headers: { "stripe-should-retry": "true" },
        }),
      ],
      [
        "a 5xx Stripe says to retry",
        new errors.StripeAPIError({ type: "api_error", message: "try again", statusCode: 503, headers: { "stripe-should-retry": "true" } }),
      ],
      [
        "a connection refused before anything was sent",
        new errors.StripeConnectionError({
          message: "connect ECONNREFUSED",
          detail: Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:443"), { code: "ECONNREFUSED" }),
        }),
      ],
      [
        "insufficient platform balance (the payout waits for funds)",
        new errors.StripeInvalidRequestError({
          type: "invalid_request_error",
          code: "balance_insufficient",
          message: "insufficient funds",
          statusCode: 400,
        }),
      ],
    ])("%s", (_, error) => {
      expect(classifyStripeError(error).counts).toBe(false);
    });

    it("a connection that never reached Stripe has a known outcome: nothing happened", () => {
      const error = new errors.StripeConnectionError({
        message: "getaddrinfo ENOTFOUND api.stripe.com",
        detail: Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" }),
      });
      expect(classifyStripeError(error)).toMatchObject({ retry: "now", outcomeUnknown: false, reason: "not_sent", counts: false });
    });

    it.each([
      ["a timeout (Stripe may have acted)", new errors.StripeConnectionError({ message: "timeout", detail: timeoutDetail() })],
      ["a plain 5xx", new errors.StripeAPIError({ type: "api_error", message: "boom", statusCode: 500 })],
      [
        "an invalid request",
        new errors.StripeInvalidRequestError({ type: "invalid_request_error", message: "No such destination", statusCode: 400 }),
      ],
      [
        "a 429 Stripe says not to retry",
        new errors.StripeRateLimitError({
          type: "invalid_request_error",
          code: "rate_limit",
          message: "no",
          statusCode: 429,
          headers: { "stripe-should-retry": "false" },
        }),
      ],
    ])("%s counts", (_, error) => {
      expect(classifyStripeError(error).counts).toBe(true);
    });
  });

  it("recognizes Stripe errors from another copy of the SDK by shape", () => {
    const foreign = Object.assign(new Error("No such destination: 'acct_x'"), {
      type: "StripeInvalidRequestError",
      raw: {},
      statusCode: 400,
      code: "resource_missing",
      param: "destination",
    });
    expect(classifyStripeError(foreign)).toMatchObject({ retry: "never", reason: "destination_unusable" });
  });
});
