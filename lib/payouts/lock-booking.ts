import "server-only";

import type { Booking, Payout, Provider } from "@/generated/prisma/client";
import type { Tx } from "@/lib/db";
import { NotFoundError } from "@/lib/errors";

import { lockPayout } from "./change-payout";
import { MODEL_DATES, revive, type TJsonRow } from "./json-rows";

// The lock order of every change to a booking's payout: the booking first, then the payout.

export type TLockedBooking = Booking & { provider: Provider };

/**
 * Locks a booking row for the rest of the transaction and reads it with its provider, in one
 * statement. Every change to a booking's payout locks the booking first, then the payout, so
 * concurrent changes queue up in one order and cannot deadlock.
 */
export async function lockBooking(tx: Tx, bookingId: string): Promise<TLockedBooking> {
  return lockedWithProvider(
    await tx.$queryRaw<TBookingRow[]>`
      SELECT b.*, to_jsonb(p) AS "lockedProvider" FROM "Booking" b JOIN "Provider" p ON p.id = b."providerId"
      WHERE b.id = ${bookingId}::uuid FOR UPDATE OF b`,
    () => new NotFoundError("Booking", bookingId),
  );
}

/** Locks a payout and its booking (booking first). */
export async function lockPayoutAndBooking(tx: Tx, payoutId: string): Promise<{ booking: TLockedBooking; payout: Payout }> {
  // The payout's booking found and locked in one statement (a payout's booking never changes).
  const booking = lockedWithProvider(
    await tx.$queryRaw<TBookingRow[]>`
      SELECT b.*, to_jsonb(p) AS "lockedProvider" FROM "Booking" b JOIN "Provider" p ON p.id = b."providerId"
      WHERE b.id = (SELECT "bookingId" FROM "Payout" WHERE id = ${payoutId}::uuid) FOR UPDATE OF b`,
    () => new NotFoundError("Payout", payoutId),
  );
  return { booking, payout: await lockPayout(tx, payoutId) };
}

/** A booking row (`b.*`: the model's fields are its columns, none mapped) and its provider as JSON. */
type TBookingRow = Booking & { lockedProvider: TJsonRow };

function lockedWithProvider(rows: TBookingRow[], notFound: () => Error): TLockedBooking {
  const row = rows[0];
  if (!row) throw notFound();
  const { lockedProvider, ...booking } = row;
  return { ...booking, provider: revive<Provider>(lockedProvider, MODEL_DATES.provider) };
}
