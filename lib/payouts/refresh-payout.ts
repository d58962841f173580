import "server-only";

import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";

import { lockBooking, lockBookingOfPayout } from "./lock-booking";
import { syncPayoutWithBooking, type TSyncResult } from "./sync-payout-with-booking";

/**
 * Re-derives a booking's payout from the stored facts and requests what is now due (a
 * transfer, reversals). Idempotent: with nothing new it changes nothing. The functions
 * that follow tips, disputes, cancellations and admin actions call it.
 */
export async function refreshPayout(context: TServiceContext, input: { bookingId: string } | { payoutId: string }): Promise<TSyncResult> {
  const ctx = resolveContext(context);
  return ctx.db.$transaction(async (tx) => {
    const booking = "bookingId" in input ? await lockBooking(tx, input.bookingId) : await lockBookingOfPayout(tx, input.payoutId);
    return syncPayoutWithBooking(tx, booking, ctx, { reason: "follow-up" });
  }, TX_OPTIONS);
}
