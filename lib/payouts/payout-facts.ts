// What the sync and the transfer decide on, read from a locked payout and its booking: the
// facts of eligibility, and whether a tip may still join. Pure: no I/O.
import type { Booking, Payout, Provider } from "@/generated/prisma/client";

import type { TEligibilityFacts } from "./eligibility";
import { isDue, tipWindowEndsAt, type TTimingRules } from "./timing";

/** The facts eligibility is decided on, from a locked payout and its booking. */
export function eligibilityFacts(
  payout: Pick<Payout, "status" | "amount" | "eligibleAt">,
  booking: Pick<Booking, "completedAt" | "cancelledAt"> & { provider: Pick<Provider, "stripeAccountId" | "payoutsEnabled"> },
  openDisputes: number,
): TEligibilityFacts {
  return {
    status: payout.status,
    amount: payout.amount,
    eligibleAt: payout.eligibleAt,
    bookingCompletedAt: booking.completedAt,
    bookingCancelledAt: booking.cancelledAt,
    openDisputes,
    providerStripeAccountId: booking.provider.stripeAccountId,
    providerPayoutsEnabled: booking.provider.payoutsEnabled,
  };
}

/**
 * Whether a tip may still join the payout: until the tip window has closed and the payout is
 * due (a payout with money is transferred then, and later tips are refused). A payout whose
 * refunds took everything is cancelled as "fully refunded" only after that, so the order of
 * a refund and a tip does not decide whether the tip is paid. Pure.
 */
export function tipsMayStillJoin(
  payout: Pick<Payout, "eligibleAt">,
  booking: Pick<Booking, "completedAt">,
  now: Date,
  timing: TTimingRules,
): boolean {
  if (!booking.completedAt) return true;
  return !isDue(payout.eligibleAt, now) || now.getTime() <= tipWindowEndsAt(booking.completedAt, timing).getTime();
}
