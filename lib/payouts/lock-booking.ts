import "server-only";

import type { Booking, Payout, Provider } from "@/generated/prisma/client";
import type { Tx } from "@/lib/db";
import { NotFoundError } from "@/lib/errors";

import { lockPayout } from "./change-payout";

// The lock order of every change to a booking's payout: the booking first, then the payout.

export type TLockedBooking = Booking & { provider: Provider };

/**
 * Locks a booking row for the rest of the transaction. Every change to a booking's
 * payout locks the booking first, then the payout, so concurrent changes queue up in
 * one order and cannot deadlock.
 */
export async function lockBooking(tx: Tx, bookingId: string): Promise<TLockedBooking> {
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "Booking" WHERE id = ${bookingId}::uuid FOR UPDATE`;
  if (rows.length === 0) throw new NotFoundError("Booking", bookingId);
  return tx.booking.findUniqueOrThrow({ where: { id: bookingId }, include: { provider: true } });
}

/** Locks a payout and its booking (booking first). */
export async function lockPayoutAndBooking(tx: Tx, payoutId: string): Promise<{ booking: TLockedBooking; payout: Payout }> {
  const ref = await tx.payout.findUnique({ where: { id: payoutId }, select: { bookingId: true } });
  if (!ref) throw new NotFoundError("Payout", payoutId);
  const booking = await lockBooking(tx, ref.bookingId);
  return { booking, payout: await lockPayout(tx, payoutId) };
}
