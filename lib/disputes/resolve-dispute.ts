import "server-only";

import type { Dispute, Payout } from "@/generated/prisma/client";
import type { DisputeOutcome } from "@/generated/prisma/enums";
import { recordAudit } from "@/lib/audit/record-audit";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { NotFoundError, ValidationError } from "@/lib/errors";
import { formatMoney } from "@/lib/money/format-money";
import { assertMinorUnits } from "@/lib/money/money";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";
import { lockBooking } from "@/lib/payouts/lock-booking";
import { syncPayoutWithBooking } from "@/lib/payouts/sync-payout-with-booking";
import { chargeLosses } from "@/lib/refunds/charge-losses";
import { findChargeOwner } from "@/lib/refunds/find-charge-owner";
import { providerPartOfChargeback } from "@/lib/refunds/provider-part";

export type TResolveDisputeInput = {
  /** One of: our id, the booking platform's id, Stripe's id. */
  disputeId?: string;
  externalId?: string;
  stripeDisputeId?: string;
  outcome: DisputeOutcome;
  resolvedAt: Date;
} & (
  | {
      /** The refund that falls on the provider, in the booking's currency's minor unit. */
      refundedAmount: number;
      chargeback?: never;
    }
  | {
      /**
       * A Stripe dispute on this charge: when lost, the provider's part is computed here,
       * under the booking's lock, from what refunds and other chargebacks on the charge
       * already took (lib/refunds/provider-part.ts).
       */
      chargeback: { stripeChargeId: string; disputedAmount: number };
      refundedAmount?: never;
    }
);

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
  if (input.chargeback) assertMinorUnits(input.chargeback.disputedAmount, "disputedAmount");
  else assertMinorUnits(input.refundedAmount, "refundedAmount");
  if (input.outcome === "provider_won" && (input.refundedAmount ?? 0) > 0) {
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
      return {
        dispute: current,
        payout: await tx.payout.findUnique({ where: { bookingId: booking.id } }),
        duplicate: true,
        reversalIds: [],
      };
    }
    const refundedAmount = input.chargeback ? await chargebackPart(tx, current.id, input.outcome, input.chargeback) : input.refundedAmount;
    const dispute = await tx.dispute.update({
      where: { id: current.id },
      data: {
        status: "resolved",
        outcome: input.outcome,
        refundedAmount,
        resolvedAt: input.resolvedAt,
        ...(input.chargeback ? { stripeChargeId: input.chargeback.stripeChargeId, disputedAmount: input.chargeback.disputedAmount } : {}),
      },
    });
    await recordAudit(tx, {
      actor: ctx.actor,
      action: "dispute.resolved",
      entityType: "dispute",
      entityId: dispute.id,
      reason: input.outcome,
      before: { status: current.status },
      after: { status: dispute.status, outcome: input.outcome, refundedAmount, currency: dispute.currency },
      runId: ctx.runId,
      requestId: ctx.requestId,
    });
    const synced = await syncPayoutWithBooking(tx, booking, ctx, {
      reason:
        refundedAmount > 0
          ? `dispute resolved (${input.outcome}), refund ${formatMoney(refundedAmount, booking.currency)}`
          : `dispute resolved (${input.outcome})`,
    });
    await enqueueEvent(tx, {
      name: "dispute/resolved",
      data: { disputeId: dispute.id, bookingId: booking.id, refundedAmount },
      eventId: ctx.sourceEventId ?? `dispute-resolved:${dispute.id}`,
    });
    return { dispute, payout: synced.payout, duplicate: false, reversalIds: synced.reversalIds };
  }, TX_OPTIONS);
}

/**
 * The provider's part of a Stripe dispute: nothing unless lost; lost, the disputed amount up
 * to what refunds and other lost chargebacks on the charge left of the provider's portion.
 */
async function chargebackPart(
  tx: Tx,
  disputeId: string,
  outcome: DisputeOutcome,
  chargeback: { stripeChargeId: string; disputedAmount: number },
): Promise<number> {
  if (outcome !== "customer_won") return 0;
  const owner = await findChargeOwner(tx, chargeback.stripeChargeId);
  if (!owner) throw new NotFoundError("Charge", chargeback.stripeChargeId);
  const borne = await chargeLosses(tx, chargeback.stripeChargeId, { exceptDisputeId: disputeId });
  return providerPartOfChargeback({
    disputedAmount: chargeback.disputedAmount,
    providerPortion: owner.providerPortion,
    alreadyBorne: borne.refunds + borne.chargebacks,
  });
}
