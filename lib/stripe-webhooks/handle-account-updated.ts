import "server-only";

import { z } from "zod";

import { updateProviderAccount } from "@/lib/providers/update-provider-account";

import { parseStripeObject, ZStripeId } from "./parse-stripe-object";
import type { TStripeHandler } from "./types";

const ZAccount = z.looseObject({
  id: ZStripeId,
  payouts_enabled: z.boolean().nullish(),
  capabilities: z.looseObject({ transfers: z.string().nullish() }).nullish(),
  requirements: z.looseObject({ disabled_reason: z.string().nullish() }).nullish(),
});

/**
 * account.updated: a provider's connected account can receive payouts when payouts are
 * enabled and its `transfers` capability is active. Ready: payouts held for "provider
 * account not ready" are released (and transferred when due); not ready: scheduled
 * payouts are held for that reason (lib/providers/update-provider-account.ts).
 */
export const handleAccountUpdated: TStripeHandler<"account.updated"> = async ({ ctx, event }) => {
  const account = parseStripeObject(ZAccount, event.data.object, "account");
  const result = await updateProviderAccount(ctx, {
    stripeAccountId: account.id,
    payoutsEnabled: account.payouts_enabled === true,
    transfersActive: account.capabilities?.transfers === "active",
    disabledReason: account.requirements?.disabled_reason ?? null,
  });
  if (!result.providerId) {
    // Nothing to defer: a provider recorded later starts "not ready", and the engine asks
    // Stripe for the account's readiness before holding its first payout.
    return { status: "ignored", reason: `no provider has Stripe account ${account.id}` };
  }
  if (result.ready) {
    return { status: "processed", note: `account ${account.id} can receive payouts${result.changed ? "" : " (unchanged)"}; ${result.released} payout(s) released` };
  }
  return { status: "processed", note: `account ${account.id} cannot receive payouts${result.changed ? "" : " (unchanged)"}; ${result.held} payout(s) held` };
};
