import "server-only";

import Stripe from "stripe";

import { getEnv } from "@/lib/env";

export type TStripeClientOptions = {
  apiKey?: string;
  host?: string;
  port?: number;
  protocol?: "http" | "https";
  /** Retries the SDK makes itself, reusing the request's idempotency key. */
  maxNetworkRetries?: number;
  timeoutMs?: number;
};

/**
 * A Stripe client configured from the environment (lib/env.ts); any option overrides its
 * variable. STRIPE_API_HOST/PORT/PROTOCOL point the SDK at a local fake in tests.
 */
export function createStripeClient(options: TStripeClientOptions = {}): Stripe {
  const env = getEnv();
  return new Stripe(options.apiKey ?? env.STRIPE_SECRET_KEY, {
    host: options.host ?? env.STRIPE_API_HOST,
    port: options.port ?? env.STRIPE_API_PORT,
    protocol: options.protocol ?? env.STRIPE_API_PROTOCOL,
    maxNetworkRetries: options.maxNetworkRetries ?? env.STRIPE_MAX_NETWORK_RETRIES,
    timeout: options.timeoutMs ?? env.STRIPE_TIMEOUT_MS,
    appInfo: { name: "payouts" },
  });
}

let shared: Stripe | undefined;

/** The app's Stripe client, created on first use. */
export function getStripe(): Stripe {
  shared ??= createStripeClient();
  return shared;
}

/** For tests that change the Stripe environment variables between cases. */
export function resetStripeForTests(): void {
  shared = undefined;
}
