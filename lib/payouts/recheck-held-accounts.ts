import "server-only";

import type Stripe from "stripe";

import { raiseAlert } from "@/lib/alerts/raise-alert";
import type { TResolvedContext } from "@/lib/context";
import { transaction } from "@/lib/direct-sql";
import { refreshProviderAccount } from "@/lib/payouts/update-provider-account";
import { classifyStripeError } from "@/lib/stripe/classify-error";

/** A provider whose payouts wait for their Stripe account is re-checked at most this often. */
export const ACCOUNT_RECHECK_MS = 60 * 60 * 1000;
/** Stripe account look-ups per sweep (the least recently checked first). */
const ACCOUNT_CHECKS_PER_SWEEP = 20;

export type TAccountRecheck = { accountChecks: number; accountsReady: number; accountCheckErrors: number };

/**
 * Asks Stripe about held providers' accounts: those not heard of for an hour, least recently
 * asked first. Each look-up is stamped before it is made, answered or not, so accounts whose
 * look-ups keep failing take their turn instead of blocking the others; a refusal (an account
 * we may no longer read) raises an alert once a day.
 */
export async function recheckHeldAccounts(ctx: TResolvedContext, stripe: Stripe, now: Date): Promise<TAccountRecheck> {
  const hourAgo = new Date(now.getTime() - ACCOUNT_RECHECK_MS);
  const providers = await ctx.db.provider.findMany({
    where: {
      stripeAccountId: { not: null },
      payouts: { some: { status: "on_hold", holdReason: "provider_account_not_ready" } },
      AND: [
        { OR: [{ accountCheckedAt: null }, { accountCheckedAt: { lt: hourAgo } }] },
        { OR: [{ accountLookedUpAt: null }, { accountLookedUpAt: { lt: hourAgo } }] },
      ],
    },
    orderBy: [{ accountLookedUpAt: { sort: "asc", nulls: "first" } }, { accountCheckedAt: { sort: "asc", nulls: "first" } }],
    select: { id: true, stripeAccountId: true },
    take: ACCOUNT_CHECKS_PER_SWEEP,
  });
  const result: TAccountRecheck = { accountChecks: 0, accountsReady: 0, accountCheckErrors: 0 };
  for (const { id, stripeAccountId } of providers) {
    if (!stripeAccountId) continue;
    result.accountChecks += 1;
    await ctx.db.provider.update({ where: { id }, data: { accountLookedUpAt: now } });
    try {
      if ((await refreshProviderAccount(ctx, stripe, stripeAccountId)).ready) result.accountsReady += 1;
    } catch (error) {
      result.accountCheckErrors += 1;
      const failure = classifyStripeError(error);
      console.error(`sweep: could not check Stripe account ${stripeAccountId}`, failure.message);
      if (failure.retry === "never") {
        await transaction(ctx.db, (tx) =>
          raiseAlert(tx, {
            kind: "account_lookup_refused",
            severity: "warning",
            title: "Stripe refuses to show a provider's account",
            message: `Stripe refused to show account ${stripeAccountId} (${failure.message}). Its payouts stay held as "account not ready" until the provider reconnects or an admin acts.`,
            providerId: id,
            dedupeKey: `account_lookup_refused:${id}:${now.toISOString().slice(0, 10)}`,
          }),
        );
      }
    }
  }
  return result;
}
