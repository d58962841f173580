// What we know of whether a provider's Stripe account can receive payouts. Pure: no I/O.
import type { Provider } from "@/generated/prisma/client";

/**
 * "ready": Stripe said it can receive payouts. "not_ready": Stripe said it cannot. "unknown":
 * Stripe never told us (no account.updated came, no look-up was made): a new provider's record
 * says "not ready" by default only, so whoever needs the answer asks Stripe first
 * (lib/providers/learn-provider-account.ts). "no_account": the provider has no Stripe account.
 */
export type TProviderReadiness = "ready" | "not_ready" | "unknown" | "no_account";

export function providerReadiness(provider: Pick<Provider, "stripeAccountId" | "payoutsEnabled" | "accountCheckedAt">): TProviderReadiness {
  if (!provider.stripeAccountId) return "no_account";
  if (provider.payoutsEnabled) return "ready";
  return provider.accountCheckedAt === null ? "unknown" : "not_ready";
}
