// What the booking platform is told, and when. Pure: no I/O.
import type { PayoutStatus } from "@/generated/prisma/enums";

export const PLATFORM_EVENT_TYPES = [
  "payout.scheduled",
  "payout.held",
  "payout.released",
  "payout.transferred",
  "payout.failed",
  "payout.reversed",
  "payout.cancelled",
  "payout.applied_to_debt",
  "provider.bank_payout_failed",
] as const;

export type TPlatformEventType = (typeof PLATFORM_EVENT_TYPES)[number];

export function isPlatformEventType(value: string): value is TPlatformEventType {
  return (PLATFORM_EVENT_TYPES as readonly string[]).includes(value);
}

/** The parts of a payout the events depend on. */
export type TPayoutEventState = { status: PayoutStatus; reversedAmount: number; repaidAmount: number };

/**
 * The event a change of a payout gives the platform, or null (`before` null: it was created).
 * Decided by the status it lands in, so every status is named here: a new status that is not
 * mapped does not compile. `processing` is ours alone (the platform sees the outcome); a claim
 * put back (processing → scheduled) tells nothing new. A reversal, a further reversal or a
 * repayment after the transfer is `payout.reversed` while something stays reversed, and
 * `payout.transferred` once a repayment gave all of it back.
 */
export function platformEventForPayoutChange(before: TPayoutEventState | null, after: TPayoutEventState): TPlatformEventType | null {
  const lostBefore = before ? before.reversedAmount - before.repaidAmount : 0;
  const lost = after.reversedAmount - after.repaidAmount;
  const from = before?.status ?? null;
  const moved = from !== after.status;
  switch (after.status) {
    case "scheduled":
      if (from === "on_hold") return "payout.released";
      return from === null || from === "failed" || from === "cancelled" ? "payout.scheduled" : null;
    case "on_hold":
      return moved ? "payout.held" : null;
    case "processing":
      return null;
    case "transferred":
      if (from === "processing") return "payout.transferred";
      // A repayment gave back what reversals took.
      return moved || lost !== lostBefore ? "payout.transferred" : null;
    case "partially_reversed":
    case "reversed":
      return moved || lost !== lostBefore ? "payout.reversed" : null;
    case "failed":
      return moved ? "payout.failed" : null;
    case "cancelled":
      return moved ? "payout.cancelled" : null;
    case "applied_to_debt":
      // The provider's open debts took all of it at its claim: nothing is sent to Stripe.
      return moved ? "payout.applied_to_debt" : null;
    default: {
      const unmapped: never = after.status;
      throw new Error(`No platform event for payout status ${String(unmapped)}`);
    }
  }
}

/** An endpoint's stored filter (a JSON array of event type names; empty: all). */
export function eventTypesOf(stored: unknown): string[] {
  return Array.isArray(stored) ? stored.filter((t): t is string => typeof t === "string") : [];
}
