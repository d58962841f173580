import "server-only";

import type Stripe from "stripe";

import type { TServiceContext } from "@/lib/context";
import { ConflictError, NotFoundError, UnavailableError } from "@/lib/errors";
import { refreshProviderAccount } from "@/lib/payouts/update-provider-account";
import { providerReadiness } from "@/lib/providers/account-readiness";
import { classifyStripeError } from "@/lib/stripe/classify-error";

/**
 * Before an admin action that needs the provider's account to receive payouts (a force release,
 * its four-eyes request and approval): when Stripe never told us whether the account of the
 * payout's provider can (a new provider, no account.updated yet: "not ready" by default only),
 * asks Stripe now and records the answer (refreshProviderAccount: audited, and the provider's
 * payouts held or released by it), so the action decides on what Stripe says, not on a default.
 * Outside any transaction. Stripe unreachable: 503, try again; Stripe refusing to show the
 * account: 409 with its reason.
 */
export async function learnProviderAccountIfUnknown(context: TServiceContext, stripe: Stripe, input: { payoutId: string }): Promise<void> {
  const payout = await context.db.payout.findUnique({ where: { id: input.payoutId }, select: { provider: true } });
  if (!payout) throw new NotFoundError("Payout", input.payoutId);
  const { provider } = payout;
  if (providerReadiness(provider) !== "unknown" || !provider.stripeAccountId) return;
  try {
    await refreshProviderAccount(context, stripe, provider.stripeAccountId);
  } catch (error) {
    const failure = classifyStripeError(error);
    // Not Stripe's (recording the answer failed): as it is.
    if (!failure.type.startsWith("Stripe")) throw error;
    if (failure.retry === "never") {
      throw new ConflictError(
        `Stripe would not say whether the provider's Stripe account ${provider.stripeAccountId} can receive payouts: ${failure.message}`,
        {
          stripeAccountId: provider.stripeAccountId,
        },
      );
    }
    throw new UnavailableError(
      `Could not ask Stripe whether the provider's Stripe account ${provider.stripeAccountId} can receive payouts (${failure.message}). Try again.`,
      {
        stripeAccountId: provider.stripeAccountId,
      },
    );
  }
}
