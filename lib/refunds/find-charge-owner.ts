import "server-only";

import type { Tx } from "@/lib/db";
import { ConflictError } from "@/lib/errors";

/** What a Stripe charge paid for, as far as payouts are concerned. */
export type TChargeOwner = {
  bookingId: string;
  bookingExternalId: string;
  currency: string;
  /** "booking": the booking's own charge (Booking.stripeChargeId); "tip": a charge that paid only tips. */
  scope: "booking" | "tip";
  /**
   * The part of the charge that was the provider's: for the booking's charge its provider
   * share plus the accepted tips paid with that same charge; for a tip charge the accepted
   * tips paid with it. Tips that name no charge are not counted towards any charge, and
   * rejected tips were never the provider's.
   */
  providerPortion: number;
};

/**
 * Maps a Stripe charge id to the booking it paid for: through Booking.stripeChargeId, else
 * through the tips paid with it (Tip.stripeChargeId). Null when no booking or tip we know
 * names the charge (yet). Pass a transaction with the booking locked for a stable answer.
 */
export async function findChargeOwner(tx: Tx, stripeChargeId: string): Promise<TChargeOwner | null> {
  const booking = await tx.booking.findUnique({ where: { stripeChargeId } });
  if (booking) {
    const tips = await tx.tip.aggregate({
      where: { bookingId: booking.id, stripeChargeId, status: "accepted" },
      _sum: { amount: true },
    });
    return {
      bookingId: booking.id,
      bookingExternalId: booking.externalId,
      currency: booking.currency,
      scope: "booking",
      providerPortion: booking.providerShare + (tips._sum.amount ?? 0),
    };
  }

  const tips = await tx.tip.findMany({ where: { stripeChargeId }, include: { booking: true } });
  const first = tips[0];
  if (!first) return null;
  if (tips.some((t) => t.bookingId !== first.bookingId)) {
    throw new ConflictError(`Charge ${stripeChargeId} is named by tips of more than one booking; it cannot be attributed.`, {
      stripeChargeId,
    });
  }
  return {
    bookingId: first.bookingId,
    bookingExternalId: first.booking.externalId,
    currency: first.booking.currency,
    scope: "tip",
    providerPortion: tips.filter((t) => t.status === "accepted").reduce((sum, t) => sum + t.amount, 0),
  };
}
