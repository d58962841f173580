import "server-only";

import type Stripe from "stripe";

import type { Prisma, PrismaClient } from "@/generated/prisma/client";
import { bookingExternalIdFromHints, findChargeOwner } from "@/lib/refunds/find-charge-owner";

// Which booking a Stripe event concerns, stored on the delivery (WebhookEvent.bookingExternalId)
// so that a delivery deferred for a booking we do not know yet is re-applied when that
// booking arrives (lib/webhooks/process-delivery.ts), and so a booking's deliveries can be
// listed. Known charges and transfers give it directly. An unknown charge gives it when
// the platform put the booking on the charge, as Stripe recommends for separate charges and
// transfers: metadata.bookingId (the booking platform's booking id), or transfer_group
// "booking_<id>" (the group Payouts puts on its transfers). Stripe's dispute payload
// carries only the charge id, so a dispute on an unknown charge has no booking reference:
// see deferredStripeDeliveriesForCharges.

type TEventRef = { type: string; data: { object: unknown } };

/** The booking the event concerns, when it can be told. */
export async function bookingExternalIdOf(db: PrismaClient, event: TEventRef): Promise<string | null> {
  const object = event.data.object as Record<string, unknown>;
  if (event.type.startsWith("charge.dispute.") || event.type.startsWith("refund.") || event.type === "charge.refund.updated") {
    // Disputes and refunds name their charge and its PaymentIntent.
    const chargeId = refOf(object.charge);
    const owner = chargeId ? await findChargeOwner(db, chargeId) : null;
    return owner?.bookingExternalId ?? (await bookingOfIntent(db, refOf(object.payment_intent)));
  }
  if (event.type.startsWith("charge.")) {
    const chargeId = idOf(object);
    const owner = chargeId ? await findChargeOwner(db, chargeId) : null;
    const charge = object as Partial<Stripe.Charge>;
    return (
      owner?.bookingExternalId ??
      (await bookingOfIntent(db, refOf(object.payment_intent))) ??
      bookingExternalIdFromHints({ metadataBookingId: charge.metadata?.bookingId, transferGroup: charge.transfer_group })
    );
  }
  if (event.type.startsWith("transfer.")) {
    const transferId = idOf(object);
    const payout = transferId
      ? await db.payout.findUnique({ where: { stripeTransferId: transferId }, select: { booking: { select: { externalId: true } } } })
      : null;
    return payout?.booking.externalId ?? bookingExternalIdFromHints({ transferGroup: (object as Partial<Stripe.Transfer>).transfer_group });
  }
  return null;
}

function refOf(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : idOf(value);
}

/** The booking paid with a PaymentIntent (its own, or one of its tips'). */
async function bookingOfIntent(db: PrismaClient, paymentIntentId: string | null): Promise<string | null> {
  if (!paymentIntentId) return null;
  const booking = await db.booking.findUnique({ where: { stripePaymentIntentId: paymentIntentId }, select: { externalId: true } });
  if (booking) return booking.externalId;
  const tip = await db.tip.findFirst({
    where: { stripePaymentIntentId: paymentIntentId },
    select: { booking: { select: { externalId: true } } },
  });
  return tip?.booking.externalId ?? null;
}

function idOf(value: unknown): string | null {
  if (typeof value !== "object" || value === null || !("id" in value)) return null;
  return typeof value.id === "string" && value.id !== "" ? value.id : null;
}

/**
 * Deferred Stripe deliveries about any of these charges or PaymentIntents (a dispute's or a
 * refund's `charge` and `payment_intent`, or the refunded charge itself): the ones to re-apply
 * when a booking with these ids (its own and its tips') arrives, including those that could not
 * name their booking.
 */
export function deferredStripeDeliveriesForCharges(
  chargeIds: readonly string[],
  paymentIntentIds: readonly string[] = [],
): Prisma.WebhookEventWhereInput {
  return {
    source: "stripe",
    status: "deferred",
    OR: [
      ...chargeIds.flatMap((chargeId) => [
        { payload: { path: ["data", "object", "charge"], equals: chargeId } },
        { type: "charge.refunded", payload: { path: ["data", "object", "id"], equals: chargeId } },
      ]),
      ...paymentIntentIds.map((id) => ({ payload: { path: ["data", "object", "payment_intent"], equals: id } })),
    ],
  };
}
