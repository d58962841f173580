import "server-only";

import type { ChargeRefund, Payout } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import { recordAudit } from "@/lib/audit/record-audit";
import { ValidationError } from "@/lib/errors";
import { assertMinorUnits, normalizeCurrency } from "@/lib/money/money";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/payouts/context";
import { lockBooking, syncPayoutWithBooking } from "@/lib/payouts/sync-payout-with-booking";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";

import { priceRefundStep } from "./charge-losses";
import { findChargeOwner } from "./find-charge-owner";

export type TApplyChargeRefundInput = {
  stripeChargeId: string;
  /** The charge's currency (any case); must be the booking's. */
  currency: string;
  /** What the customer paid on the charge: its captured amount (its amount if never captured). */
  chargeAmount: number;
  /** Stripe's cumulative `amount_refunded` on the charge. */
  refundedTotal: number;
  /** When Stripe reported it (the event's creation time). */
  refundedAt: Date;
};

export type TApplyChargeRefundResult =
  /** No booking or tip names the charge (yet). */
  | { kind: "unknown_charge" }
  /** This total, or a higher one, is already recorded: a repeated or older event. Nothing changed. */
  | { kind: "already_recorded"; recordedTotal: number }
  | { kind: "recorded"; refund: ChargeRefund; payout: Payout | null; reversalIds: string[] };

/**
 * Stripe reports a charge's refunded total (cumulative). The provider's part of it is
 * proportional to their portion of the charge, rounded down (lib/refunds/provider-part.ts),
 * and with lost chargebacks on the charge never more than that portion. Only the increase
 * over the highest total already recorded is applied, as one ChargeRefund step, so
 * repeated, late and out-of-order events change nothing twice. Then the payout
 * follows the facts (syncPayoutWithBooking): before the transfer its amount drops (share +
 * tips - refunds; cancelled as "fully refunded" at zero once no tip can join it); after
 * the transfer the provider's part is recovered with one transfer reversal per step, as a
 * lost dispute is. One
 * transaction, audited; the booking is locked, so concurrent events for it queue up.
 */
export async function applyChargeRefund(context: TServiceContext, input: TApplyChargeRefundInput): Promise<TApplyChargeRefundResult> {
  const ctx = resolveContext(context);
  const currency = normalizeCurrency(input.currency);
  assertMinorUnits(input.chargeAmount, "chargeAmount");
  assertMinorUnits(input.refundedTotal, "refundedTotal");
  if (input.refundedTotal === 0) throw new ValidationError("Nothing was refunded on the charge.");

  return ctx.db.$transaction(async (tx) => {
    const found = await findChargeOwner(tx, input.stripeChargeId);
    if (!found) return { kind: "unknown_charge" } as const;
    const booking = await lockBooking(tx, found.bookingId);
    // Read again under the lock: a tip paid with this charge may have joined meanwhile.
    const owner = (await findChargeOwner(tx, input.stripeChargeId)) ?? found;
    if (currency !== owner.currency) {
      throw new ValidationError(`Charge ${input.stripeChargeId} is in ${currency}, its booking ${owner.bookingExternalId} in ${owner.currency}.`);
    }

    const previous = await tx.chargeRefund.findFirst({
      where: { stripeChargeId: input.stripeChargeId },
      orderBy: [{ customerRefundedTotal: "desc" }, { providerPortion: "desc" }],
    });
    if (previous && input.refundedTotal <= previous.customerRefundedTotal) {
      if (input.refundedTotal < previous.customerRefundedTotal && input.refundedAt > previous.refundedAt) {
        // A newer report of a lower total: a refund failed or was cancelled at Stripe. What the
        // provider already gave back is not paid out again automatically.
        await raiseAlert(tx, {
          kind: "charge_refund_decreased",
          severity: "warning",
          title: "Refunded amount on a charge went down",
          message:
            `Stripe now reports ${input.refundedTotal} ${currency} refunded on charge ${input.stripeChargeId} (booking ${owner.bookingExternalId}), ` +
            `down from ${previous.customerRefundedTotal}. The provider's part of the higher total (${previous.providerRefundedTotal}) stays deducted; ` +
            "pay the difference back manually if the refund really failed.",
          payoutId: (await tx.payout.findUnique({ where: { bookingId: booking.id }, select: { id: true } }))?.id ?? null,
          providerId: booking.providerId,
          dedupeKey: `charge_refund_decreased:${input.stripeChargeId}:${input.refundedTotal}`,
        });
      }
      return { kind: "already_recorded", recordedTotal: previous.customerRefundedTotal } as const;
    }

    // Refunds and lost chargebacks on the charge together take at most the provider's portion, whatever their order.
    const { providerRefundedTotal, amount, chargebacksBorne } = await priceRefundStep(tx, {
      stripeChargeId: input.stripeChargeId,
      chargeAmount: input.chargeAmount,
      providerPortion: owner.providerPortion,
      refundedTotal: input.refundedTotal,
    });
    const refund = await tx.chargeRefund.create({
      data: {
        bookingId: booking.id,
        stripeChargeId: input.stripeChargeId,
        currency,
        chargeAmount: input.chargeAmount,
        providerPortion: owner.providerPortion,
        customerRefundedTotal: input.refundedTotal,
        providerRefundedTotal,
        amount,
        refundedAt: input.refundedAt,
      },
    });
    await recordAudit(tx, {
      actor: ctx.actor,
      action: "booking.charge_refunded",
      entityType: "booking",
      entityId: booking.id,
      reason: `Stripe refund on ${owner.scope === "tip" ? "tip " : ""}charge ${input.stripeChargeId}`,
      before: { customerRefundedTotal: previous?.customerRefundedTotal ?? 0, providerRefundedTotal: previous?.providerRefundedTotal ?? 0 },
      after: {
        chargeRefundId: refund.id,
        stripeChargeId: input.stripeChargeId,
        currency,
        chargeAmount: input.chargeAmount,
        providerPortion: owner.providerPortion,
        customerRefundedTotal: input.refundedTotal,
        providerRefundedTotal,
        providerAmount: amount,
        ...(chargebacksBorne > 0 ? { chargebacksBorne } : {}),
      },
      runId: ctx.runId,
      requestId: ctx.requestId,
    });
    const synced = await syncPayoutWithBooking(tx, booking, ctx, {
      reason: `Stripe refund on charge ${input.stripeChargeId}: ${input.refundedTotal} ${currency} refunded in all, provider's part ${providerRefundedTotal}`,
    });
    await enqueueEvent(tx, {
      name: "charge/refunded",
      data: { bookingId: booking.id, chargeRefundId: refund.id },
      eventId: ctx.sourceEventId ?? `charge-refunded:${refund.id}`,
    });
    return { kind: "recorded", refund, payout: synced.payout, reversalIds: synced.reversalIds } as const;
  }, TX_OPTIONS);
}
