// Whether a payout may be transferred now. Pure: the caller loads the facts.
import type { PayoutStatus } from "@/generated/prisma/enums";

import { isDue } from "./timing";

export type TEligibilityFacts = {
  status: PayoutStatus;
  amount: number;
  eligibleAt: Date;
  bookingCompletedAt: Date | null;
  bookingCancelledAt: Date | null;
  openDisputes: number;
  providerStripeAccountId: string | null;
  providerPayoutsEnabled: boolean;
};

export type TIneligibleReason =
  | "not_scheduled"
  | "booking_not_completed"
  | "booking_cancelled"
  | "not_due"
  | "dispute_open"
  | "provider_account_not_ready"
  | "nothing_to_pay";

export type TEligibility = { eligible: true } | { eligible: false; reasons: TIneligibleReason[] };

export const INELIGIBLE_REASON_TEXT: Record<TIneligibleReason, string> = {
  not_scheduled: "the payout is not scheduled",
  booking_not_completed: "the booking is not completed",
  booking_cancelled: "the booking was cancelled",
  not_due: "the payout is not due yet",
  dispute_open: "a dispute on the booking is open",
  provider_account_not_ready: "the provider's Stripe account cannot receive payouts",
  nothing_to_pay: "the amount is zero",
};

export type TEligibilityOptions = {
  /** Force release skips the wait; nothing else. */
  ignoreDueTime?: boolean;
};

export function evaluateEligibility(facts: TEligibilityFacts, now: Date, options: TEligibilityOptions = {}): TEligibility {
  const reasons: TIneligibleReason[] = [];
  if (facts.status !== "scheduled") reasons.push("not_scheduled");
  if (!facts.bookingCompletedAt) reasons.push("booking_not_completed");
  if (facts.bookingCancelledAt) reasons.push("booking_cancelled");
  if (!options.ignoreDueTime && !isDue(facts.eligibleAt, now)) reasons.push("not_due");
  if (facts.openDisputes > 0) reasons.push("dispute_open");
  if (!facts.providerStripeAccountId || !facts.providerPayoutsEnabled) reasons.push("provider_account_not_ready");
  if (facts.amount <= 0) reasons.push("nothing_to_pay");
  return reasons.length === 0 ? { eligible: true } : { eligible: false, reasons };
}

export function describeIneligibility(reasons: readonly TIneligibleReason[]): string {
  return reasons.map((r) => INELIGIBLE_REASON_TEXT[r]).join("; ");
}
