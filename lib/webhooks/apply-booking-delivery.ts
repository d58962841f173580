import "server-only";

import type { WebhookEvent } from "@/generated/prisma/client";
import type { TActor } from "@/lib/audit/record-audit";
import { cancelBooking } from "@/lib/bookings/cancel-booking";
import { recordCompletedBooking } from "@/lib/bookings/record-completed-booking";
import type { TServiceContext } from "@/lib/context";
import { openDispute } from "@/lib/disputes/open-dispute";
import { resolveDispute } from "@/lib/disputes/resolve-dispute";
import { AppError, NotFoundError } from "@/lib/errors";
import { addTip } from "@/lib/tips/add-tip";

import { parseBookingWebhook, type TBookingWebhook, paymentIdsOf } from "./booking-webhook-schema";
import type { TApplyOutcome, TWebhookDeps } from "./types";

/** Who the booking platform's deliveries act as in the audit log. */
export const BOOKING_PLATFORM_ACTOR: TActor = { type: "webhook", id: "booking-platform", label: "Booking platform" };

/**
 * Applies one stored booking-platform delivery through the engine's services. Each service
 * is one transaction, idempotent by external id, so applying a delivery again (re-drive,
 * sweep, a concurrent applier) changes nothing twice. A delivery about a booking we do not
 * know yet (or a resolution of a dispute not yet opened) is `deferred`: it is applied when
 * what it waits for arrives. The delivery's id is the Inngest event id of what it causes.
 */
export async function applyBookingDelivery(deps: TWebhookDeps, delivery: WebhookEvent): Promise<TApplyOutcome> {
  let event: TBookingWebhook;
  try {
    event = parseBookingWebhook(delivery.payload);
  } catch (error) {
    return { status: "failed", error: `stored payload does not match the contract: ${describe(error)}` };
  }
  const ctx: TServiceContext = {
    db: deps.db,
    actor: BOOKING_PLATFORM_ACTOR,
    clock: deps.clock,
    requestId: `webhook:${delivery.id}`,
    sourceEventId: delivery.id,
  };
  try {
    return await applyEvent(ctx, event, delivery);
  } catch (error) {
    return outcomeOfError(error);
  }
}

async function applyEvent(ctx: TServiceContext, event: TBookingWebhook, delivery: WebhookEvent): Promise<TApplyOutcome> {
  if (event.type === "booking.completed") {
    const d = event.data;
    const result = await recordCompletedBooking(ctx, {
      bookingExternalId: d.bookingId,
      completedAt: new Date(d.completedAt),
      currency: d.currency,
      providerShare: d.providerShare,
      ...paymentIdsOf(d),
      provider: {
        externalId: d.provider.id,
        name: d.provider.name,
        email: d.provider.email,
        stripeAccountId: d.provider.stripeAccountId ?? null,
      },
    });
    return result.duplicate
      ? { status: "processed", note: "booking already recorded as completed; nothing changed" }
      : { status: "processed" };
  }

  const booking = await ctx.db.booking.findUnique({ where: { externalId: event.data.bookingId }, select: { id: true } });
  if (!booking) return { status: "deferred", reason: `waiting for booking.completed of booking ${event.data.bookingId}` };

  switch (event.type) {
    case "booking.cancelled": {
      const d = event.data;
      const result = await cancelBooking(ctx, { bookingId: booking.id, cancelledAt: new Date(d.cancelledAt), reason: d.reason });
      return result.duplicate ? { status: "processed", note: "booking already cancelled; nothing changed" } : { status: "processed" };
    }
    case "tip.created": {
      const d = event.data;
      const { tip, duplicate } = await addTip(ctx, {
        tipExternalId: d.tipId,
        bookingId: booking.id,
        amount: d.amount,
        currency: d.currency,
        tippedAt: new Date(d.createdAt),
        // Received when its delivery was, however late it is applied (a tip received before the transfer is paid).
        receivedAt: delivery.receivedAt,
        ...paymentIdsOf(d),
      });
      if (tip.status === "rejected") return { status: "processed", note: `tip rejected: ${tip.rejectionReason ?? "unknown reason"}` };
      return duplicate ? { status: "processed", note: "tip already recorded; nothing changed" } : { status: "processed" };
    }
    case "dispute.opened": {
      const d = event.data;
      const result = await openDispute(ctx, {
        bookingId: booking.id,
        externalId: d.disputeId,
        scope: d.scope,
        reason: d.reason,
        openedAt: new Date(d.openedAt),
      });
      return result.duplicate ? { status: "processed", note: "dispute already recorded; nothing changed" } : { status: "processed" };
    }
    case "dispute.resolved": {
      const d = event.data;
      const dispute = await ctx.db.dispute.findUnique({ where: { externalId: d.disputeId }, select: { id: true, bookingId: true } });
      if (!dispute) return { status: "deferred", reason: `waiting for dispute.opened of dispute ${d.disputeId}` };
      if (dispute.bookingId !== booking.id) {
        return { status: "failed", error: `dispute ${d.disputeId} belongs to another booking than ${d.bookingId}` };
      }
      const result = await resolveDispute(ctx, {
        disputeId: dispute.id,
        outcome: d.outcome,
        refundedAmount: d.refundedAmount,
        resolvedAt: new Date(d.resolvedAt),
      });
      return result.duplicate ? { status: "processed", note: "dispute already resolved; nothing changed" } : { status: "processed" };
    }
  }
}

/**
 * What a service error means for the delivery: an unknown booking or dispute → deferred
 * (applied when it arrives); anything else → failed with the error, kept for the sweep and
 * re-drive. A busy payout (a refund or cancellation while its transfer is in flight,
 * PayoutBusyError) is a failure that a later attempt resolves.
 */
export function outcomeOfError(error: unknown): TApplyOutcome {
  if (error instanceof NotFoundError && (error.details?.entity === "Booking" || error.details?.entity === "Dispute")) {
    return { status: "deferred", reason: `waiting for ${String(error.details.entity).toLowerCase()} ${String(error.details.id)}` };
  }
  if (!(error instanceof AppError)) console.error("webhook delivery: applying failed", error);
  return { status: "failed", error: describe(error) };
}

function describe(error: unknown): string {
  if (error instanceof AppError) {
    const issues = error.details?.issues;
    const detail = Array.isArray(issues) ? ` ${JSON.stringify(issues)}` : "";
    return `${error.code}: ${error.message}${detail}`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
