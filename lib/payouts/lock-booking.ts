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
  // Locked and read in one round trip (`SELECT *`: the model's fields are its columns, none mapped).
  const rows = await tx.$queryRaw<Booking[]>`SELECT * FROM "Booking" WHERE id = ${bookingId}::uuid FOR UPDATE`;
  const booking = rows[0];
  if (!booking) throw new NotFoundError("Booking", bookingId);
  return { ...booking, provider: await tx.provider.findUniqueOrThrow({ where: { id: booking.providerId } }) };
}

/** Locks a payout and its booking (booking first). */
export async function lockPayoutAndBooking(tx: Tx, payoutId: string): Promise<{ booking: TLockedBooking; payout: Payout }> {
  const ref = await tx.payout.findUnique({ where: { id: payoutId }, select: { bookingId: true } });
  if (!ref) throw new NotFoundError("Payout", payoutId);
  const booking = await lockBooking(tx, ref.bookingId);
  return { booking, payout: await lockPayout(tx, payoutId) };
}
