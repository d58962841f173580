import "server-only";

import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import { NotFoundError } from "@/lib/errors";

import { lockBooking } from "./lock-booking";
import { syncPayoutWithBooking, type TSyncResult } from "./sync-payout-with-booking";

/**
 * Re-derives a booking's payout from the stored facts and requests what is now due (a
 * transfer, reversals). Idempotent: with nothing new it changes nothing. The functions
 * that follow tips, disputes, cancellations and admin actions call it.
 */
export async function refreshPayout(context: TServiceContext, input: { bookingId: string } | { payoutId: string }): Promise<TSyncResult> {
  const ctx = resolveContext(context);
  return ctx.db.$transaction(async (tx) => {
    let bookingId: string;
    if ("bookingId" in input) {
      bookingId = input.bookingId;
    } else {
      const payout = await tx.payout.findUnique({ where: { id: input.payoutId }, select: { bookingId: true } });
      if (!payout) throw new NotFoundError("Payout", input.payoutId);
      bookingId = payout.bookingId;
    }
    const booking = await lockBooking(tx, bookingId);
    return syncPayoutWithBooking(tx, booking, ctx, { reason: "follow-up" });
  }, TX_OPTIONS);
}
