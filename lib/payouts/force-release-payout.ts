import "server-only";

import type { TServiceContext } from "@/lib/context";
import { ConflictError } from "@/lib/errors";
import { providerReadiness } from "@/lib/providers/account-readiness";

import { runAdminPayoutAction, type TAdminActionInput } from "./admin-action";
import { changePayout } from "./change-payout";

/**
 * Admin: makes a scheduled or held payout due now, skipping the wait after completion, and
 * requests its transfer. Never while a dispute is open, never to an account that cannot
 * receive payouts. Runs inside requestForceRelease or approveForceRelease, which first ask
 * Stripe about an account whose readiness Stripe never told us (a new provider).
 */
export function forceReleasePayout(ctx: TServiceContext, input: TAdminActionInput) {
  return runAdminPayoutAction(ctx, input, "force_release", (tx, { payout, booking, reason, ctx: c }) => {
    if (providerReadiness(booking.provider) === "unknown") {
      // The callers ask Stripe first (learnProviderAccountIfUnknown); it did not answer in time.
      throw new ConflictError(
        "Cannot force release: Stripe has not said yet whether the provider's Stripe account can receive payouts. Try again.",
      );
    }
    const now = c.clock.now();
    const eligibleAt = payout.eligibleAt > now ? now : payout.eligibleAt;
    return changePayout(tx, payout, {
      event: "force_release",
      data: { eligibleAt },
      audit: { actor: c.actor, action: "payout.force_released", reason, runId: c.runId, requestId: c.requestId },
    });
  });
}
