import "server-only";

import { recordAudit, type TActor } from "@/lib/audit/record-audit";
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

/** How a Stripe money event names what it is about. */
export type TChargeRef = {
  chargeId: string;
  /** The PaymentIntent the charge belongs to (charge.payment_intent, dispute.payment_intent, refund.payment_intent). */
  paymentIntentId?: string | null;
  /** The booking the platform put on the charge: metadata.bookingId, or transfer_group "booking_<id>". */
  bookingExternalId?: string | null;
  /** What the customer paid on the charge, when the event carries it (else the cached charge is read). */
  chargeAmount?: number;
  chargeCurrency?: string;
};

export type TChargeMatch =
  | { kind: "owner"; owner: TChargeOwner }
  /** The event names a booking we know (by its metadata or transfer group), but not which of its parts the charge paid. */
  | { kind: "booking_only"; bookingId: string; bookingExternalId: string; currency: string; reason: string }
  | { kind: "none" };

/** The booking a charge's metadata or transfer group names (as Payouts' own transfers are grouped: booking_<id>). */
export function bookingExternalIdFromHints(hints: { metadataBookingId?: string | null; transferGroup?: string | null }): string | null {
  const fromMetadata = hints.metadataBookingId;
  if (typeof fromMetadata === "string" && fromMetadata.trim() !== "" && fromMetadata.length <= 191) return fromMetadata.trim();
  const match = typeof hints.transferGroup === "string" ? /^booking_(.{1,191})$/.exec(hints.transferGroup) : null;
  return match?.[1] ?? null;
}

/**
 * Finds what a Stripe charge paid for, by every id a platform may have recorded: the charge
 * itself (booking or tip), its PaymentIntent (booking or tip), then the booking named by the
 * charge's metadata or transfer group. A booking or tip known by its PaymentIntent, or a booking
 * with no payment recorded that the charge's metadata names, learns the charge id (audited), so
 * the next event matches it directly. Call inside the transaction that applies the event, again
 * after locking the booking it found.
 */
export async function matchCharge(
  tx: Tx,
  actor: { actor: TActor; runId: string | null; requestId: string | null },
  ref: TChargeRef,
): Promise<TChargeMatch> {
  const direct = await findChargeOwner(tx, ref.chargeId);
  if (direct) return { kind: "owner", owner: direct };

  if (ref.paymentIntentId) {
    const booking = await tx.booking.findUnique({ where: { stripePaymentIntentId: ref.paymentIntentId } });
    if (booking && booking.stripeChargeId === null) {
      await learnCharge(tx, actor, booking.id, { booking: true }, ref);
      const owner = await findChargeOwner(tx, ref.chargeId);
      if (owner) return { kind: "owner", owner };
    }
    const tips = await tx.tip.findMany({
      where: { stripePaymentIntentId: ref.paymentIntentId, stripeChargeId: null },
      select: { bookingId: true },
    });
    const tipBooking = tips[0]?.bookingId;
    if (tipBooking && tips.every((t) => t.bookingId === tipBooking)) {
      await learnCharge(tx, actor, tipBooking, { booking: false }, ref);
      const owner = await findChargeOwner(tx, ref.chargeId);
      if (owner) return { kind: "owner", owner };
    }
    if (booking) {
      return {
        kind: "booking_only",
        bookingId: booking.id,
        bookingExternalId: booking.externalId,
        currency: booking.currency,
        reason: `charge ${ref.chargeId} belongs to PaymentIntent ${ref.paymentIntentId} of booking ${booking.externalId}, which already records charge ${booking.stripeChargeId}`,
      };
    }
  }

  if (ref.bookingExternalId) {
    const booking = await tx.booking.findUnique({ where: { externalId: ref.bookingExternalId } });
    if (!booking) return { kind: "none" };
    const intentAgrees = booking.stripePaymentIntentId === null || booking.stripePaymentIntentId === ref.paymentIntentId;
    // The charge may be one of the booking's tips' whose tip has not arrived yet (the platform puts
    // the booking on tip charges too). Unless its PaymentIntent is the booking's, a charge smaller
    // than the provider's share cannot have paid the booking: it waits, unmatched, for the tip that
    // names it (and is alerted after STRIPE_UNMATCHED_GRACE_MINUTES if none does).
    const sameIntent = booking.stripePaymentIntentId !== null && booking.stripePaymentIntentId === ref.paymentIntentId;
    if (!sameIntent && (await tooSmallForBooking(tx, ref, booking))) return { kind: "none" };
    if (booking.stripeChargeId === null && intentAgrees) {
      await learnCharge(tx, actor, booking.id, { booking: true }, ref);
      const owner = await findChargeOwner(tx, ref.chargeId);
      if (owner) return { kind: "owner", owner };
    }
    return {
      kind: "booking_only",
      bookingId: booking.id,
      bookingExternalId: booking.externalId,
      currency: booking.currency,
      reason:
        `charge ${ref.chargeId} names booking ${booking.externalId}, but that booking was paid with ` +
        `${booking.stripeChargeId ? `charge ${booking.stripeChargeId}` : `PaymentIntent ${booking.stripePaymentIntentId}`} and no tip of it names this charge`,
    };
  }
  return { kind: "none" };
}

async function tooSmallForBooking(tx: Tx, ref: TChargeRef, booking: { currency: string; providerShare: number }): Promise<boolean> {
  const charge =
    ref.chargeAmount !== undefined && ref.chargeCurrency !== undefined
      ? { amount: ref.chargeAmount, currency: ref.chargeCurrency }
      : await tx.stripeCharge.findUnique({ where: { id: ref.chargeId }, select: { amount: true, currency: true } });
  return charge !== null && charge.currency.toUpperCase() === booking.currency && charge.amount < booking.providerShare;
}

async function learnCharge(
  tx: Tx,
  audit: { actor: TActor; runId: string | null; requestId: string | null },
  bookingId: string,
  target: { booking: boolean },
  ref: TChargeRef,
) {
  if (target.booking) {
    await tx.booking.update({
      where: { id: bookingId },
      data: { stripeChargeId: ref.chargeId, ...(ref.paymentIntentId ? { stripePaymentIntentId: ref.paymentIntentId } : {}) },
    });
    if (ref.paymentIntentId) {
      // Tips paid with the booking's own PaymentIntent were paid with this charge too (as
      // transfer-payout.ts records them): they are part of the provider's portion of it.
      await tx.tip.updateMany({
        where: { bookingId, stripePaymentIntentId: ref.paymentIntentId, stripeChargeId: null },
        data: { stripeChargeId: ref.chargeId },
      });
    }
  } else {
    await tx.tip.updateMany({
      where: { bookingId, stripePaymentIntentId: ref.paymentIntentId ?? "", stripeChargeId: null },
      data: { stripeChargeId: ref.chargeId },
    });
  }
  await recordAudit(tx, {
    ...audit,
    action: "booking.charge_learned",
    entityType: "booking",
    entityId: bookingId,
    reason: ref.paymentIntentId
      ? `Stripe charge ${ref.chargeId} of PaymentIntent ${ref.paymentIntentId} recorded on the ${target.booking ? "booking" : "tips"}`
      : `Stripe charge ${ref.chargeId} names the booking in its metadata or transfer group`,
    after: { stripeChargeId: ref.chargeId, stripePaymentIntentId: ref.paymentIntentId ?? null, scope: target.booking ? "booking" : "tip" },
  });
}
