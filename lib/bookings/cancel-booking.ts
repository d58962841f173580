import "server-only";

import type { Payout } from "@/generated/prisma/client";
import { recordAudit } from "@/lib/audit/record-audit";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";
import { lockBooking } from "@/lib/payouts/lock-booking";
import { syncPayoutWithBooking } from "@/lib/payouts/sync-payout-with-booking";

/**
 * A booking was cancelled: its payout is cancelled if the money has not moved (after a
 * transfer an admin alert is raised instead). Idempotent per booking.
 */
export async function cancelBooking(
  context: TServiceContext,
  input: { bookingId: string; cancelledAt: Date; reason: string },
): Promise<{ payout: Payout | null; duplicate: boolean }> {
  const ctx = resolveContext(context);
  return ctx.db.$transaction(async (tx) => {
    const locked = await lockBooking(tx, input.bookingId);
    if (locked.cancelledAt) {
      return { payout: await tx.payout.findUnique({ where: { bookingId: locked.id } }), duplicate: true };
    }
    const booking = await tx.booking.update({
      where: { id: locked.id },
      data: { cancelledAt: input.cancelledAt, cancellationReason: input.reason },
      include: { provider: true },
    });
    await recordAudit(tx, {
      actor: ctx.actor,
      action: "booking.cancelled",
      entityType: "booking",
      entityId: booking.id,
      reason: input.reason,
      after: { cancelledAt: input.cancelledAt.toISOString() },
      runId: ctx.runId,
      requestId: ctx.requestId,
    });
    const { payout } = await syncPayoutWithBooking(tx, booking, ctx, { reason: `booking cancelled: ${input.reason}` });
    await enqueueEvent(tx, {
      name: "booking/cancelled",
      data: { bookingId: booking.id },
      eventId: ctx.sourceEventId ?? `booking-cancelled:${booking.id}`,
    });
    return { payout, duplicate: false };
  }, TX_OPTIONS);
}
