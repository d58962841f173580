// The Stripe errors of the demo histories: the SDK's own error objects, classified by the engine's
// classifier (lib/stripe/classify-error.ts), so whether a try counts, may have reached Stripe or is
// retried at all is the engine's decision, not the seed's.
import Stripe from "stripe";

import { classifyStripeError, type TStripeFailure } from "@/lib/stripe/classify-error";

export type TStripeError = {
  failure: TStripeFailure;
  /** How long the failed call took, in ms. */
  durationMs: readonly [number, number];
  hasRequestId: boolean;
};

export const STRIPE_ERRORS = {
  /** No answer: the request may have reached Stripe (outcome unknown). */
  connection: {
    failure: classifyStripeError(
      new Stripe.errors.StripeConnectionError({
        message: "An error occurred with our connection to Stripe. Request was retried 2 times.",
      }),
    ),
    durationMs: [20_000, 42_000],
    hasRequestId: false,
  },
  /** A 500: Stripe may have made the transfer (outcome unknown). */
  api: {
    failure: classifyStripeError(new Stripe.errors.StripeAPIError({ message: "An unknown error occurred", statusCode: 500 })),
    durationMs: [900, 4_000],
    hasRequestId: true,
  },
  /** A 429: turned away unprocessed, not counted. */
  rateLimit: {
    failure: classifyStripeError(
      new Stripe.errors.StripeRateLimitError({
        message: "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.",
        code: "rate_limit",
        statusCode: 429,
      }),
    ),
    durationMs: [150, 600],
    hasRequestId: true,
  },
} as const satisfies Record<string, TStripeError>;

/** The provider's account is gone: a permanent refusal. */
export function invalidDestinationError(accountId: string): TStripeError {
  return {
    failure: classifyStripeError(
      new Stripe.errors.StripeInvalidRequestError({
        message: `No such destination: '${accountId}'`,
        code: "resource_missing",
        param: "destination",
        statusCode: 400,
      }),
    ),
    durationMs: [200, 700],
    hasRequestId: true,
  };
}
