import "server-only";

import type { Payout } from "@/generated/prisma/client";
import { recordAudit, recordAudits } from "@/lib/audit/record-audit";
import { resolveContext, TX_OPTIONS, type TResolvedContext, type TServiceContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";
import { lockBooking } from "@/lib/payouts/lock-booking";
import { ADJUSTABLE_STATUSES } from "@/lib/payouts/state-machine";
import { syncPayoutWithBooking } from "@/lib/payouts/sync-payout-with-booking";
import { paidSoFar } from "@/lib/payouts/transfer-complete";
import { repriceChargeRefunds } from "@/lib/refunds/reprice-charge-refunds";
import { BOOKING_CANCELLED_TIP_REASON } from "@/lib/tips/tip-rules";

/**
 * A booking was cancelled: its payout is cancelled if the money has not moved (after a
 * transfer an admin alert is raised instead). Tips tipped at or after the cancellation are not
 * the booking's: one that arrived before it is rejected now, as it would have been had it arrived
 * after (addTip), so the payout ends the same in either order; nor, once money moved, are tips
 * still waiting for a transfer (rejectTipsNotTheBookings). Idempotent per booking.
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
    await rejectTipsNotTheBookings(tx, ctx, booking.id, input.cancelledAt);
    const { payout } = await syncPayoutWithBooking(tx, booking, ctx, { reason: `booking cancelled: ${input.reason}` });
    await enqueueEvent(tx, {
      name: "booking/cancelled",
      data: { bookingId: booking.id },
      eventId: ctx.sourceEventId ?? `booking-cancelled:${booking.id}`,
    });
    return { payout, duplicate: false };
  }, TX_OPTIONS);
}

/**
 * Tips accepted before the cancellation arrived that are not the booking's now, rejected, each
 * audited, and what refunds on their charges took re-priced without them. While no money moved for
 * the payout (none yet, or one neither transferred, in flight nor partly paid): the tips tipped at
 * or after the cancellation, as addTip rejects them when they arrive after it. Once money moved or
 * is moving: the tips still waiting for the transfer (accepted, not yet joined to the payout),
 * whenever tipped: no transfer paid them, and a top-up never pays a cancelled booking's tips; the
 * ones a transfer carried stay, and the cancellation after the transfer alerts a person.
 */
async function rejectTipsNotTheBookings(tx: Tx, ctx: TResolvedContext, bookingId: string, cancelledAt: Date): Promise<void> {
  const payout = await tx.payout.findUnique({ where: { bookingId }, select: { id: true, status: true } });
  const noMoneyMoved =
    !payout || ((ADJUSTABLE_STATUSES.includes(payout.status) || payout.status === "cancelled") && (await paidSoFar(tx, payout.id)) === 0);
  const late = await tx.tip.findMany({
    where: { bookingId, status: "accepted", ...(noMoneyMoved ? { tippedAt: { gte: cancelledAt } } : { payoutId: null }) },
  });
  if (late.length === 0) return;
  await tx.tip.updateMany({
    where: { id: { in: late.map((t) => t.id) } },
    data: { status: "rejected", rejectionReason: BOOKING_CANCELLED_TIP_REASON, payoutId: null },
  });
  await recordAudits(
    tx,
    late.map((tip) => ({
      actor: ctx.actor,
      action: "tip.rejected" as const,
      entityType: "tip" as const,
      entityId: tip.id,
      reason: BOOKING_CANCELLED_TIP_REASON,
      before: { status: "accepted", payoutId: tip.payoutId },
      after: {
        status: "rejected",
        bookingId,
        payoutId: null,
        amount: tip.amount,
        currency: tip.currency,
        tippedAt: tip.tippedAt.toISOString(),
      },
      runId: ctx.runId,
      requestId: ctx.requestId,
    })),
  );
  for (const chargeId of new Set(late.flatMap((t) => (t.stripeChargeId ? [t.stripeChargeId] : [])))) {
    await repriceChargeRefunds(tx, ctx, {
      bookingId,
      stripeChargeId: chargeId,
      reason: `tips on charge ${chargeId} rejected: the booking was cancelled`,
    });
  }
}
