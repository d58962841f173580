import "server-only";

import { Prisma, type Booking, type Payout, type Provider } from "@/generated/prisma/client";
import type { Tx } from "@/lib/db";
import { sqlRows } from "@/lib/direct-sql";
import { NotFoundError } from "@/lib/errors";
import { columnsOf, prefixedColumnsOf, rowPart } from "@/lib/statement-names";

// The lock order of every change to a booking's payout: the booking first, then the payout.

const BOOKING_COLUMNS = columnsOf(Prisma.BookingScalarFieldEnum);
const PAYOUT_FIELDS = Prisma.PayoutScalarFieldEnum;
const PROVIDER_FIELDS = Prisma.ProviderScalarFieldEnum;
const PROVIDER_COLUMNS = columnsOf(PROVIDER_FIELDS);
const PAYOUT_AND_PROVIDER_COLUMNS = Prisma.sql`${prefixedColumnsOf(PAYOUT_FIELDS, "p", "payout")}, ${prefixedColumnsOf(PROVIDER_FIELDS, "pr", "provider")}`;

export type TLockedBooking = Booking & { provider: Provider };

/**
 * Locks a booking row for the rest of the transaction. Every change to a booking's
 * payout locks the booking first, then the payout, so concurrent changes queue up in
 * one order and cannot deadlock.
 */
export async function lockBooking(tx: Tx, bookingId: string): Promise<TLockedBooking> {
  // Locked and read in one round trip (every column, named: see columnsOf).
  const rows = await sqlRows<Booking[]>(tx, Prisma.sql`SELECT ${BOOKING_COLUMNS} FROM "Booking" WHERE id = ${bookingId}::uuid FOR UPDATE`);
  return withProvider(tx, rows[0], () => new NotFoundError("Booking", bookingId));
}

/** Locks a payout's booking, found and locked in one statement (a payout's booking never changes). */
export async function lockBookingOfPayout(tx: Tx, payoutId: string): Promise<TLockedBooking> {
  return withProvider(tx, await lockBookingRowOfPayout(tx, payoutId), () => new NotFoundError("Payout", payoutId));
}

/** The payout's booking row, found and locked in one statement; undefined when there is no such payout. */
async function lockBookingRowOfPayout(tx: Tx, payoutId: string): Promise<Booking | undefined> {
  const rows = await sqlRows<Booking[]>(
    tx,
    Prisma.sql`
    SELECT ${BOOKING_COLUMNS} FROM "Booking" WHERE id = (SELECT "bookingId" FROM "Payout" WHERE id = ${payoutId}::uuid) FOR UPDATE`,
  );
  return rows[0];
}

/**
 * Locks a payout and its booking (booking first), in two statements: the booking's lock, then the
 * payout's lock with the booking's provider read and its open disputes counted in the same statement. That second statement
 * begins once the booking's lock is held, so the provider it reads is as it is after the lock's
 * previous holder committed (withProvider, below); should it wait for the payout's lock, the
 * provider is as it was when it began, just as when the provider was read by a statement of its
 * own before the payout was locked.
 */
export async function lockPayoutAndBooking(
  tx: Tx,
  payoutId: string,
): Promise<{
  booking: TLockedBooking;
  payout: Payout;
  /** The booking's open disputes, counted in the same statement. */ openDisputes: number;
}> {
  const booking = await lockBookingRowOfPayout(tx, payoutId);
  if (!booking) throw new NotFoundError("Payout", payoutId);
  const rows = await sqlRows<Record<string, unknown>[]>(
    tx,
    Prisma.sql`
    SELECT ${PAYOUT_AND_PROVIDER_COLUMNS},
      (SELECT count(*)::int FROM "Dispute" d WHERE d."bookingId" = ${booking.id}::uuid AND d.status = 'open') AS "openDisputes"
    FROM "Payout" p JOIN "Provider" pr ON pr.id = ${booking.providerId}::uuid
    WHERE p.id = ${payoutId}::uuid
    FOR UPDATE OF p`,
  );
  const row = rows[0];
  if (!row) throw new NotFoundError("Payout", payoutId);
  return {
    booking: { ...booking, provider: rowPart<Provider>(row, PROVIDER_FIELDS, "provider") },
    payout: rowPart<Payout>(row, PAYOUT_FIELDS, "payout"),
    openDisputes: Number(row.openDisputes),
  };
}

/**
 * The locked booking's provider, read in a statement of its own once the lock is held: a statement
 * that waited for the lock sees only the row it locked as it is now, and any other row (a provider
 * joined in) as it was when the statement began, before what the lock's previous holder committed
 * (an account update holds and releases payouts with their bookings locked).
 */
async function withProvider(tx: Tx, booking: Booking | undefined, notFound: () => Error): Promise<TLockedBooking> {
  if (!booking) throw notFound();
  const [provider] = await sqlRows<Provider[]>(
    tx,
    Prisma.sql`SELECT ${PROVIDER_COLUMNS} FROM "Provider" WHERE id = ${booking.providerId}::uuid`,
  );
  if (!provider) throw new NotFoundError("Provider", booking.providerId);
  return { ...booking, provider };
}

export type TLockedPayout = Awaited<ReturnType<typeof lockPayoutAndBooking>>;

/**
 * lockPayoutAndBooking for several payouts at once, in the same two statements: the bookings' locks,
 * then the payouts' locks, each payout with its booking's provider read and open disputes counted
 * once the booking locks are held. It never waits: a booking or payout another transaction holds
 * is passed over (SKIP LOCKED), and its payout left out of the map, as is a payout that does not
 * exist (its caller deals with it alone, waiting as alone). Waiting for one payout's lock would
 * hold every other one's, and taking several bookings in any one order could deadlock with a
 * transaction that takes them in another (an account update takes a provider's bookings one by one).
 */
export async function lockPayoutsAndBookings(tx: Tx, payoutIds: readonly string[]): Promise<Map<string, TLockedPayout>> {
  const bookings = await sqlRows<Booking[]>(
    tx,
    Prisma.sql`
    SELECT ${BOOKING_COLUMNS} FROM "Booking"
    WHERE id IN (SELECT "bookingId" FROM "Payout" WHERE id = ANY(${payoutIds}::uuid[]))
    ORDER BY id FOR UPDATE SKIP LOCKED`,
  );
  const byId = new Map(bookings.map((b) => [b.id, b]));
  const bookingIds = [...byId.keys()];
  const rows = await sqlRows<Record<string, unknown>[]>(
    tx,
    Prisma.sql`
    SELECT ${PAYOUT_AND_PROVIDER_COLUMNS},
      (SELECT count(*)::int FROM "Dispute" d WHERE d."bookingId" = p."bookingId" AND d.status = 'open') AS "openDisputes"
    FROM "Payout" p
    JOIN "Booking" b ON b.id = p."bookingId"
    JOIN "Provider" pr ON pr.id = b."providerId"
    WHERE p.id = ANY(${payoutIds}::uuid[]) AND p."bookingId" = ANY(${bookingIds}::uuid[])
    ORDER BY p.id
    FOR UPDATE OF p SKIP LOCKED`,
  );
  const locked = new Map<string, TLockedPayout>();
  for (const row of rows) {
    const payout = rowPart<Payout>(row, PAYOUT_FIELDS, "payout");
    const booking = byId.get(payout.bookingId);
    // Only payouts of the bookings locked are read (a payout's booking never changes).
    if (!booking) throw new Error(`Payout ${payout.id} was locked without its booking.`);
    locked.set(payout.id, {
      booking: { ...booking, provider: rowPart<Provider>(row, PROVIDER_FIELDS, "provider") },
      payout,
      openDisputes: Number(row.openDisputes),
    });
  }
  return locked;
}

const BOOKING_FIELDS = Prisma.BookingScalarFieldEnum;

/**
 * lockBookingOfPayout for several payouts at once: the bookings locked in one statement, passing
 * over those another transaction holds (SKIP LOCKED, as lockPayoutsAndBookings), then their
 * providers read in one statement once the locks are held. By payout id; a payout whose booking
 * was passed over, or that does not exist, is left out.
 */
export async function lockBookingsOfPayouts(tx: Tx, payoutIds: readonly string[]): Promise<Map<string, TLockedBooking>> {
  const rows = await sqlRows<Record<string, unknown>[]>(
    tx,
    Prisma.sql`
    SELECT p.id::text AS "payoutId", ${prefixedColumnsOf(BOOKING_FIELDS, "b", "booking")}
    FROM "Booking" b JOIN "Payout" p ON p."bookingId" = b.id
    WHERE p.id = ANY(${payoutIds}::uuid[])
    ORDER BY b.id FOR UPDATE OF b SKIP LOCKED`,
  );
  const bookings = rows.map((row) => ({ payoutId: String(row.payoutId), booking: rowPart<Booking>(row, BOOKING_FIELDS, "booking") }));
  const providerIds = [...new Set(bookings.map((b) => b.booking.providerId))];
  const providers = await sqlRows<Provider[]>(
    tx,
    Prisma.sql`SELECT ${PROVIDER_COLUMNS} FROM "Provider" WHERE id = ANY(${providerIds}::uuid[])`,
  );
  const providerById = new Map(providers.map((p) => [p.id, p]));
  const locked = new Map<string, TLockedBooking>();
  for (const { payoutId, booking } of bookings) {
    const provider = providerById.get(booking.providerId);
    if (!provider) throw new NotFoundError("Provider", booking.providerId);
    locked.set(payoutId, { ...booking, provider });
  }
  return locked;
}
