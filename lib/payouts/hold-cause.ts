// The automatic causes of a hold (a person's hold is not one): what holds a payout, and what
// keeps it held when one cause goes away (release-hold.ts). Pure: no I/O.
import type { Provider } from "@/generated/prisma/client";
import type { HoldReason } from "@/generated/prisma/enums";

export type THoldCause = {
  holdReason: Extract<HoldReason, "dispute_open" | "provider_account_not_ready">;
  holdNote: string;
  reason: string;
};

/**
 * The automatic causes of a hold that are present now, the first one wins: an open dispute
 * on the booking, then a provider's Stripe account that Stripe told us cannot receive
 * payouts (a record Stripe never confirmed is checked when the transfer is claimed
 * instead). Null when neither is present. An admin hold is not among them: only an admin
 * releases it, and nothing automatic touches a payout held for "admin_hold". Pure.
 */
export function presentHoldCause(
  booking: { provider: Pick<Provider, "payoutsEnabled" | "accountCheckedAt"> },
  openDisputes: number,
): THoldCause | null {
  if (openDisputes > 0) {
    return {
      holdReason: "dispute_open",
      holdNote: `${openDisputes} open dispute${openDisputes > 1 ? "s" : ""}`,
      reason: "a dispute on the booking is open",
    };
  }
  const { provider } = booking;
  if (!provider.payoutsEnabled && provider.accountCheckedAt !== null) {
    return {
      holdReason: "provider_account_not_ready",
      holdNote: "Stripe account cannot receive payouts",
      reason: "the provider's Stripe account cannot receive payouts",
    };
  }
  return null;
}
