import "server-only";

import { Prisma, type ChargeRefund, type Dispute, type Payout, type Tip } from "@/generated/prisma/client";
import type { Tx } from "@/lib/db";
import { sqlRows } from "@/lib/direct-sql";
import { dateFieldsOf, rowsFromJson } from "@/lib/json-rows";
import { columnsOf, prefixedColumnsOf, rowPart } from "@/lib/statement-names";

/**
 * The facts of a booking its payout is derived from (syncPayoutWithBooking): its accepted tips,
 * its disputes, and the changes in what Stripe refunds and chargebacks take on its charges that
 * were neither applied before the transfer nor settled after it (reversed, cancelled, repaid).
 */
export type TBookingFacts = { tips: Tip[]; disputes: Dispute[]; unappliedChargeRefunds: ChargeRefund[] };

const TIP_DATES = dateFieldsOf<Tip>()(["tippedAt", "receivedAt", "createdAt"]);
const DISPUTE_DATES = dateFieldsOf<Dispute>()(["openedAt", "resolvedAt", "refundAppliedAt", "createdAt", "updatedAt"]);
const CHARGE_REFUND_DATES = dateFieldsOf<ChargeRefund>()(["refundedAt", "appliedAt", "createdAt"]);

const PAYOUT_FIELDS = Prisma.PayoutScalarFieldEnum;

/** The booking's facts as columns; `bookingId`: a uuid expression. */
function factsColumns(bookingId: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    (SELECT coalesce(json_agg(t ORDER BY t."createdAt", t.id), '[]'::json)
       FROM (SELECT ${columnsOf(Prisma.TipScalarFieldEnum)} FROM "Tip" WHERE "bookingId" = ${bookingId} AND status = 'accepted') t) AS "tips",
    (SELECT coalesce(json_agg(d ORDER BY d."createdAt", d.id), '[]'::json)
       FROM (SELECT ${columnsOf(Prisma.DisputeScalarFieldEnum)} FROM "Dispute" WHERE "bookingId" = ${bookingId}) d) AS "disputes",
    (SELECT coalesce(json_agg(c ORDER BY c.sequence), '[]'::json)
       FROM (SELECT ${columnsOf(Prisma.ChargeRefundScalarFieldEnum)} FROM "ChargeRefund" cr
             WHERE cr."bookingId" = ${bookingId} AND cr.amount <> 0 AND cr."appliedAt" IS NULL
               AND NOT EXISTS (SELECT 1 FROM "TransferReversal" r WHERE r."chargeRefundId" = cr.id)
               AND NOT EXISTS (SELECT 1 FROM "PayoutTransfer" pt WHERE pt."chargeRefundId" = cr.id)) c) AS "chargeRefunds"`;
}

function factsOf(row: Record<string, unknown>): TBookingFacts {
  return {
    tips: rowsFromJson<Tip>(row.tips, TIP_DATES),
    disputes: rowsFromJson<Dispute>(row.disputes, DISPUTE_DATES),
    unappliedChargeRefunds: rowsFromJson<ChargeRefund>(row.chargeRefunds, CHARGE_REFUND_DATES),
  };
}

/**
 * Locks the booking's payout (if it has one) and reads the booking's facts, in one statement when
 * the payout exists (two when it does not). Call with the booking locked: its facts only change
 * under that lock, so the statement reads them as they are; should it wait for the payout's lock,
 * they are as they were when it began, just as when they were read before the payout was locked.
 */
export async function lockPayoutWithFacts(tx: Tx, bookingId: string): Promise<TBookingFacts & { payout: Payout | null }> {
  const read = (await lockPayoutsWithFactsOfMany(tx, [bookingId])).get(bookingId);
  if (read) return read;
  const [facts] = await sqlRows<Record<string, unknown>[]>(tx, Prisma.sql`SELECT ${factsColumns(Prisma.sql`${bookingId}::uuid`)}`);
  if (!facts) throw new Error(`Reading the facts of booking ${bookingId} returned no row.`);
  return { payout: null, ...factsOf(facts) };
}

/**
 * lockPayoutWithFacts of several bookings that have a payout, in one statement (a refresh batch's,
 * made once it holds the bookings: nobody else then changes their payouts or facts), by booking id.
 * A booking with no payout is not in the map.
 */
export async function lockPayoutsWithFactsOfMany(
  tx: Tx,
  bookingIds: readonly string[],
): Promise<Map<string, TBookingFacts & { payout: Payout }>> {
  if (bookingIds.length === 0) return new Map();
  const rows = await sqlRows<Record<string, unknown>[]>(
    tx,
    Prisma.sql`
    SELECT ${prefixedColumnsOf(PAYOUT_FIELDS, "p", "payout")}, ${factsColumns(Prisma.sql`p."bookingId"`)}
    FROM "Payout" p WHERE p."bookingId" = ANY(${bookingIds}::uuid[])
    ORDER BY p.id
    FOR UPDATE OF p`,
  );
  const read = new Map<string, TBookingFacts & { payout: Payout }>();
  for (const row of rows) {
    const payout = rowPart<Payout>(row, PAYOUT_FIELDS, "payout");
    read.set(payout.bookingId, { payout, ...factsOf(row) });
  }
  return read;
}
