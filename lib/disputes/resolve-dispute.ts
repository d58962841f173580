import "server-only";

import type { Dispute, Payout } from "@/generated/prisma/client";
import type { DisputeOutcome } from "@/generated/prisma/enums";
import { recordAudit } from "@/lib/audit/record-audit";
import { NotFoundError, ValidationError } from "@/lib/errors";
import { assertMinorUnits } from "@/lib/money/money";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/payouts/context";
import { lockBooking, syncPayoutWithBooking } from "@/lib/payouts/sync-payout-with-booking";

export type TResolveDisputeInput = {
  /** One of: our id, the booking platform's id, Stripe's id. */
  disputeId?: string;
  externalId?: string;
  stripeDisputeId?: string;
  outcome: DisputeOutcome;
  /** The refund that falls on the provider, in the booking's currency's minor unit. */
  refundedAmount: number;
  resolvedAt: Date;
};

/**
 * A dispute was resolved. Before the transfer its refund reduces the payout (share + tips -
 * refunds; cancelled as "fully refunded" at zero once no tip can join it) and, when no
 * other cause of its hold remains, the payout is released. After the transfer the refund
 * becomes one transfer reversal per dispute. Idempotent: a second resolution of the same dispute changes nothing.
 */
export async function resolveDispute(
  context: TServiceContext,
  input: TResolveDisputeInput,
): Promise<{ dispute: Dispute; payout: Payout | null; duplicate: boolean; reversalIds: string[] }> {
  const ctx = resolveContext(context);
  assertMinorUnits(input.refundedAmount, "refundedAmount");
  if (input.outcome === "provider_won" && input.refundedAmount > 0) {
    throw new ValidationError("A dispute the provider won refunds nothing: refundedAmount must be 0.");
  }

  return ctx.db.$transaction(async (tx) => {
    const where = input.disputeId
      ? { id: input.disputeId }
      : input.externalId
        ? { externalId: input.externalId }
        : input.stripeDisputeId
          ? { stripeDisputeId: input.stripeDisputeId }
          : null;
    if (!where) throw new ValidationError("A dispute id is required.");
    const found = await tx.dispute.findUnique({ where });
    if (!found) throw new NotFoundError("Dispute", input.disputeId ?? input.externalId ?? input.stripeDisputeId ?? "");

    const booking = await lockBooking(tx, found.bookingId);
    const current = await tx.dispute.findUniqueOrThrow({ where: { id: found.id } });
    if (current.status === "resolved") {
      return { dispute: current, payout: await tx.payout.findUnique({ where: { bookingId: booking.id } }), duplicate: true, reversalIds: [] };
    }
    const dispute = await tx.dispute.update({
      where: { id: current.id },
      data: { status: "resolved", outcome: input.outcome, refundedAmount: input.refundedAmount, resolvedAt: input.resolvedAt },
    });
    await recordAudit(tx, {
      actor: ctx.actor,
      action: "dispute.resolved",
      entityType: "dispute",
      entityId: dispute.id,
      reason: input.outcome,
      before: { status: current.status },
      after: { status: dispute.status, outcome: input.outcome, refundedAmount: input.refundedAmount, currency: dispute.currency },
      runId: ctx.runId,
      requestId: ctx.requestId,
    });
    const synced = await syncPayoutWithBooking(tx, booking, ctx, {
      reason: input.refundedAmount > 0 ? `dispute resolved (${input.outcome}), refund ${input.refundedAmount}` : `dispute resolved (${input.outcome})`,
    });
    await enqueueEvent(tx, {
      name: "dispute/resolved",
      data: { disputeId: dispute.id, bookingId: booking.id, refundedAmount: input.refundedAmount },
      eventId: ctx.sourceEventId ?? `dispute-resolved:${dispute.id}`,
    });
    return { dispute, payout: synced.payout, duplicate: false, reversalIds: synced.reversalIds };
  }, TX_OPTIONS);
}
