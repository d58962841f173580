import "server-only";

import type { Payout } from "@/generated/prisma/client";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import { transaction } from "@/lib/direct-sql";
import { ConflictError } from "@/lib/errors";

import { lockBooking } from "./lock-booking";
import { syncPayoutWithBooking } from "./sync-payout-with-booking";

/**
 * Schedules the payout for a completed booking: share + accepted tips - applied refunds,
 * due at completion + the payout delay. Idempotent per booking: a second call returns
 * the same payout and changes nothing that has not changed. A payout already there (the
 * transaction that recorded the completion creates it) is returned as it is, in one read:
 * every fact recorded since synced it in its own transaction.
 */
export async function schedulePayout(context: TServiceContext, input: { bookingId: string }): Promise<Payout | null> {
  const ctx = resolveContext(context);
  const existing = await ctx.db.payout.findUnique({ where: { bookingId: input.bookingId } });
  if (existing) return existing;
  return transaction(
    ctx.db,
    async (tx) => {
      const booking = await lockBooking(tx, input.bookingId);
      if (!booking.completedAt) throw new ConflictError(`Booking ${booking.externalId} is not completed.`);
      const { payout } = await syncPayoutWithBooking(tx, booking, ctx, { reason: "booking completed" });
      return payout;
    },
    TX_OPTIONS,
  );
}
