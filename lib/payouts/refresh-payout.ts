import "server-only";

import type { AsyncResource } from "node:async_hooks";

import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import type { Db } from "@/lib/db";
import { transaction } from "@/lib/direct-sql";
import { onePer } from "@/lib/one-per";
import { GO_ALONE, together } from "@/lib/together";

import { distinctPayoutIds, inProviderOrder, workEachMember } from "./batch-members";
import { lockPayoutsWithFactsOfMany } from "./booking-facts";
import { lockBooking, lockBookingOfPayout, lockBookingsOfPayouts } from "./lock-booking";
import { syncPayoutWithBooking, type TSyncResult } from "./sync-payout-with-booking";

/**
 * Re-derives a booking's payout from the stored facts and requests what is now due (a
 * transfer, reversals). Idempotent: with nothing new it changes nothing. The functions
 * that follow tips, disputes, cancellations and admin actions call it.
 */
export async function refreshPayout(context: TServiceContext, input: { bookingId: string } | { payoutId: string }): Promise<TSyncResult> {
  const ctx = resolveContext(context);
  return transaction(
    ctx.db,
    async (tx) => {
      const booking = "bookingId" in input ? await lockBooking(tx, input.bookingId) : await lockBookingOfPayout(tx, input.payoutId);
      return syncPayoutWithBooking(tx, booking, ctx, { reason: "follow-up" });
    },
    TX_OPTIONS,
  );
}

/**
 * refreshPayout of several payouts in one transaction: their bookings locked in one statement that
 * waits for no other transaction and their providers read in one (lockBookingsOfPayouts: a payout
 * whose booking is held elsewhere, or that does not exist, is GO_ALONE), then each payout re-derived
 * as alone, in its caller's async context (`scopes`), in the order of their providers
 * (inProviderOrder). All or nothing. One payout at most once.
 */
export async function refreshPayouts(
  db: Db,
  members: readonly { context: TServiceContext; payoutId: string }[],
  scopes: readonly AsyncResource[],
): Promise<(TSyncResult | typeof GO_ALONE)[]> {
  const payoutIds = distinctPayoutIds(
    members.map((m) => m.payoutId),
    "refreshPayouts",
  );
  return transaction(
    db,
    async (tx) => {
      const bookings = await lockBookingsOfPayouts(tx, payoutIds);
      const order = inProviderOrder(
        payoutIds.map((id) => {
          const booking = bookings.get(id);
          return booking ? { providerId: booking.providerId, currency: booking.currency } : undefined;
        }),
      );
      // Their payouts locked and facts read in one statement: each member changes only its own.
      const read = await lockPayoutsWithFactsOfMany(
        tx,
        [...bookings.values()].map((b) => b.id),
      );
      return workEachMember(tx, members.length, order, scopes, (i) => {
        const booking = bookings.get(payoutIds[i]!)!;
        return syncPayoutWithBooking(tx, booking, resolveContext(members[i]!.context), { reason: "follow-up", read: read.get(booking.id) });
      });
    },
    TX_OPTIONS,
  );
}

const refresherOf = onePer((db: Db) =>
  together<{ context: TServiceContext; payoutId: string }, TSyncResult>({
    alone: (m) => refreshPayout(m.context, { payoutId: m.payoutId }),
    all: (members, scopes) => refreshPayouts(db, members, scopes),
    key: (m) => m.payoutId,
  }),
);

/** refreshPayout of a payout, with the refreshes other callers of this process make at the same moment (lib/together.ts). */
export function refreshPayoutTogether(context: TServiceContext, input: { payoutId: string }): Promise<TSyncResult> {
  return refresherOf(resolveContext(context).db)({ context, payoutId: input.payoutId });
}
