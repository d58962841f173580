import "server-only";

import { z } from "zod";

import { updateProviderAccount } from "@/lib/payouts/update-provider-account";
import { classifyStripeError } from "@/lib/stripe/classify-error";
import { retrieveAccountReadiness } from "@/lib/stripe/transfers";

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
 * payouts are held for that reason (lib/providers/update-provider-account.ts). An account no
 * provider has yet keeps that state for the provider recorded with it later. The event
 * carries the whole account as it was when the event was created: one older than the state
 * recorded changes nothing; one from the same second as a different recorded state cannot be
 * ordered, so the account is asked of Stripe afresh and that answer applied (when Stripe cannot be
 * asked, the later delivery wins, as it did before anything was recorded in that second).
 */
export const handleAccountUpdated: TStripeHandler<"account.updated"> = async ({ deps, ctx, event }) => {
  const account = parseStripeObject(ZAccount, event.data.object, "account");
  const state = {
    stripeAccountId: account.id,
    payoutsEnabled: account.payouts_enabled === true,
    transfersActive: account.capabilities?.transfers === "active",
    disabledReason: account.requirements?.disabled_reason ?? null,
    stateAt: new Date(event.created * 1000),
    wholeSecond: true,
  };
  let result = await updateProviderAccount(ctx, state);
  if (result.stale === "same_second") {
    const fresh = await retrieveAccountReadiness(deps.stripe(), account.id).catch((error: unknown) => {
      console.warn(
        `stripe webhook: account ${account.id}: two states in one second and Stripe could not be asked; the later delivery wins`,
        classifyStripeError(error).message,
      );
      return null;
    });
    result = fresh
      ? await updateProviderAccount(ctx, { stripeAccountId: account.id, ...fresh, stateAt: ctx.clock?.now() ?? new Date() })
      : await updateProviderAccount(ctx, { ...state, overrideSameSecond: true });
  }
  if (result.stale === "older") {
    return { status: "processed", note: `account ${account.id}: a newer state is recorded; this older event changed nothing` };
  }
  if (!result.providerId) {
    // Kept for the provider recorded with this account (its first booking may come later).
    return {
      status: "processed",
      note: `no provider has Stripe account ${account.id} yet; its state (${result.ready ? "can" : "cannot"} receive payouts) is kept for the provider recorded with it`,
    };
  }
  if (result.ready) {
    return {
      status: "processed",
      note: `account ${account.id} can receive payouts${result.changed ? "" : " (unchanged)"}; ${result.released} payout(s) released`,
    };
  }
  return {
    status: "processed",
    note: `account ${account.id} cannot receive payouts${result.changed ? "" : " (unchanged)"}; ${result.held} payout(s) held`,
  };
};
