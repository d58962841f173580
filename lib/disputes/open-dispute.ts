import "server-only";

import type { Dispute, Payout } from "@/generated/prisma/client";
import type { DisputeScope } from "@/generated/prisma/enums";
import { recordAudit } from "@/lib/audit/record-audit";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import { ValidationError } from "@/lib/errors";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";
import { lockBooking } from "@/lib/payouts/lock-booking";
import { TRANSFERRED_STATUSES } from "@/lib/payouts/state-machine";
import { syncPayoutWithBooking } from "@/lib/payouts/sync-payout-with-booking";

export type TOpenDisputeInput = {
  bookingId: string;
  /** The booking platform's dispute id, or Stripe's (at least one). */
  externalId?: string | null;
  stripeDisputeId?: string | null;
  /** For a Stripe dispute: the charge it is on. */
  stripeChargeId?: string | null;
  scope?: DisputeScope;
  reason?: string | null;
  openedAt: Date;
};

/**
 * A dispute opened: the booking's payout is held while it is open (nothing is transferred
 * until it is resolved). After a transfer the dispute is recorded as opened after it, so a
 * lost dispute becomes a transfer reversal. Idempotent per dispute id.
 */
export async function openDispute(
  context: TServiceContext,
  input: TOpenDisputeInput,
): Promise<{ dispute: Dispute; payout: Payout | null; duplicate: boolean }> {
  const ctx = resolveContext(context);
  if (!input.externalId && !input.stripeDisputeId) throw new ValidationError("A dispute needs an id.");

  return ctx.db.$transaction(async (tx) => {
    const booking = await lockBooking(tx, input.bookingId);
    const existing = await tx.dispute.findFirst({
      where: {
        OR: [
          ...(input.externalId ? [{ externalId: input.externalId }] : []),
          ...(input.stripeDisputeId ? [{ stripeDisputeId: input.stripeDisputeId }] : []),
        ],
      },
    });
    if (existing) {
      // A dispute recorded before its charge was kept learns it now.
      const dispute =
        input.stripeChargeId && !existing.stripeChargeId && existing.stripeDisputeId
          ? await tx.dispute.update({ where: { id: existing.id }, data: { stripeChargeId: input.stripeChargeId } })
          : existing;
      return { dispute, payout: await tx.payout.findUnique({ where: { bookingId: booking.id } }), duplicate: true };
    }
    const payout = await tx.payout.findUnique({ where: { bookingId: booking.id } });
    const dispute = await tx.dispute.create({
      data: {
        bookingId: booking.id,
        externalId: input.externalId ?? null,
        stripeDisputeId: input.stripeDisputeId ?? null,
        stripeChargeId: input.stripeDisputeId ? (input.stripeChargeId ?? null) : null,
        scope: input.scope ?? "booking",
        reason: input.reason ?? null,
        currency: booking.currency,
        openedAt: input.openedAt,
        openedAfterTransfer: payout ? TRANSFERRED_STATUSES.includes(payout.status) : false,
      },
    });
    await recordAudit(tx, {
      actor: ctx.actor,
      action: "dispute.opened",
      entityType: "dispute",
      entityId: dispute.id,
      reason: input.reason ?? null,
      after: { bookingId: booking.id, payoutId: payout?.id ?? null, payoutStatus: payout?.status ?? null, scope: dispute.scope },
      runId: ctx.runId,
      requestId: ctx.requestId,
    });
    const synced = await syncPayoutWithBooking(tx, booking, ctx, { reason: "dispute opened" });
    await enqueueEvent(tx, {
      name: "dispute/opened",
      data: { disputeId: dispute.id, bookingId: booking.id },
      eventId: ctx.sourceEventId ?? `dispute-opened:${dispute.id}`,
    });
    return { dispute, payout: synced.payout, duplicate: false };
  }, TX_OPTIONS);
}
