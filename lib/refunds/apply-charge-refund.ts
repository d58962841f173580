import "server-only";

import type { ChargeRefund, Payout } from "@/generated/prisma/client";
import { resolveContext, TX_OPTIONS, type TResolvedContext, type TServiceContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { formatMoney } from "@/lib/money/format-money";
import { assertMinorUnits, normalizeCurrency } from "@/lib/money/money";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";
import { holdForReview } from "@/lib/payouts/hold-for-review";
import { lockBooking } from "@/lib/payouts/lock-booking";
import { syncPayoutWithBooking } from "@/lib/payouts/sync-payout-with-booking";

import { rebalanceChargeLoss } from "./charge-losses";
import { matchCharge, type TChargeRef } from "./find-charge-owner";
import { recordedRefundedTotal } from "./refund-state";

export type TApplyChargeRefundInput = Omit<TChargeRef, "chargeId"> & {
  /** The refunded charge (ch_…). */
  stripeChargeId: string;
  /** The charge's currency (any case); must be the booking's. */
  currency: string;
  /** What the customer paid on the charge: its captured amount (its amount if never captured). */
  chargeAmount: number;
  /** What is refunded on the charge now: its refunds that did not fail or get cancelled. */
  refundedTotal: number;
  /** When Stripe reported it (the event's creation time, or when it was fetched). */
  refundedAt: Date;
  /**
   * True when the total was just fetched from Stripe (the charge's refunds, listed afresh): it is
   * the current state whatever the order events arrived in. False for a total read from an event:
   * one older than the last recorded changes nothing.
   */
  current?: boolean;
  /**
   * True when the charge's refunds were just listed from Stripe and recorded (StripeRefund,
   * lib/refunds/refund-state.ts): the total is then read from the recorded refunds under the
   * booking's lock, so an answer that took longer than a newer one (which recorded a refund
   * failed since, or one made since) does not win over it.
   */
  refundsRecorded?: boolean;
  /** Why, for the audit log (e.g. "Stripe refund re_… failed"). */
  reason?: string;
};

export type TApplyChargeRefundResult =
  /** No booking or tip names the charge (yet). */
  | { kind: "unknown_charge" }
  /** This total is already recorded, or a newer one is: nothing changed. */
  | { kind: "already_recorded"; recordedTotal: number }
  | { kind: "recorded"; refund: ChargeRefund; payout: Payout | null; reversalIds: string[] }
  /** It matched a booking but could not be applied as it is: the payout is held for review and an admin alerted. */
  | { kind: "needs_review"; reason: string; bookingExternalId: string };

/**
 * Stripe reports what is refunded on a charge (charge.refunded, or the charge's refunds listed
 * afresh after a refund event: one that failed or was cancelled no longer counts). The provider's
 * part of it is proportional to their portion of the charge, and with lost chargebacks on the
 * charge never more than that portion (lib/refunds/provider-part.ts): what they bear moves to that
 * with one step (lib/refunds/charge-losses.ts), up when more is refunded, down when a refund
 * failed. Then the payout follows the facts (syncPayoutWithBooking): before the transfer its
 * amount moves; after it a step up is recovered with reversals and a step down cancels a reversal
 * not yet made or is repaid. One transaction, audited; the booking is locked, so concurrent
 * events for it queue up. A charge that matches a booking but not as it is (another currency,
 * more refunded than charged, a charge the booking cannot place) holds the payout and alerts.
 */
export async function applyChargeRefund(context: TServiceContext, input: TApplyChargeRefundInput): Promise<TApplyChargeRefundResult> {
  const ctx = resolveContext(context);
  const currency = normalizeCurrency(input.currency);
  assertMinorUnits(input.chargeAmount, "chargeAmount");
  assertMinorUnits(input.refundedTotal, "refundedTotal");
  const audit = { actor: ctx.actor, runId: ctx.runId, requestId: ctx.requestId };
  const ref: TChargeRef = {
    chargeId: input.stripeChargeId,
    paymentIntentId: input.paymentIntentId ?? null,
    bookingExternalId: input.bookingExternalId ?? null,
    chargeAmount: input.chargeAmount,
    chargeCurrency: currency,
  };
  return ctx.db.$transaction(async (tx) => {
    const found = await matchCharge(tx, audit, ref);
    if (found.kind === "none") return { kind: "unknown_charge" } as const;
    const booking = await lockBooking(tx, found.kind === "owner" ? found.owner.bookingId : found.bookingId);
    // Read again under the lock: a tip paid with this charge may have joined meanwhile.
    const match = await matchCharge(tx, audit, ref);
    // A total just looked up: as recorded now, under the lock (a slower look-up never wins over a newer one).
    const facts = input.refundsRecorded ? { ...input, refundedTotal: await recordedRefundedTotal(tx, input.stripeChargeId) } : input;
    const review = (reason: string, dedupe: string) =>
      needsReview(tx, ctx, booking.id, booking.externalId, facts, currency, reason, dedupe);
    if (match.kind !== "owner") {
      return review(match.kind === "booking_only" ? match.reason : `charge ${input.stripeChargeId} could not be placed`, "unplaced");
    }
    const owner = match.owner;
    if (currency !== owner.currency) {
      return review(
        `charge ${input.stripeChargeId} is in ${currency}, its booking ${owner.bookingExternalId} in ${owner.currency}`,
        "currency",
      );
    }
    if (facts.refundedTotal > input.chargeAmount || input.chargeAmount === 0) {
      return review(
        `Stripe reports ${formatMoney(facts.refundedTotal, currency)} refunded on charge ${input.stripeChargeId}, more than its ${formatMoney(input.chargeAmount, currency)}`,
        "amount",
      );
    }
    const latest = await tx.chargeRefund.findFirst({ where: { stripeChargeId: input.stripeChargeId }, orderBy: { sequence: "desc" } });
    if (latest) {
      // From an event: one older than the last recorded changes nothing; within the same second
      // the higher total is the newer (a refund only fails days after it was made).
      const older =
        !input.current &&
        (input.refundedAt < latest.refundedAt ||
          (input.refundedAt.getTime() === latest.refundedAt.getTime() && facts.refundedTotal < latest.customerRefundedTotal));
      if (older || latest.customerRefundedTotal === facts.refundedTotal) {
        return { kind: "already_recorded", recordedTotal: latest.customerRefundedTotal } as const;
      }
    } else if (facts.refundedTotal === 0) {
      return { kind: "already_recorded", recordedTotal: 0 } as const;
    }
    const failed = latest !== null && facts.refundedTotal < latest.customerRefundedTotal;
    const reason =
      input.reason ??
      (failed
        ? `Stripe refunds on charge ${input.stripeChargeId} went down to ${formatMoney(facts.refundedTotal, currency)} (a refund failed or was cancelled)`
        : `Stripe refund on ${owner.scope === "tip" ? "tip " : ""}charge ${input.stripeChargeId}: ${formatMoney(facts.refundedTotal, currency)} refunded in all`);
    const refund = await rebalanceChargeLoss(tx, ctx, {
      bookingId: booking.id,
      stripeChargeId: input.stripeChargeId,
      currency,
      providerPortion: owner.providerPortion,
      chargeAmount: input.chargeAmount,
      refundedTotal: facts.refundedTotal,
      refundedAt: input.refundedAt,
      cause: failed ? "refund_failed" : "refund",
      reason,
    });
    if (!refund) return { kind: "already_recorded", recordedTotal: facts.refundedTotal } as const;
    const synced = await syncPayoutWithBooking(tx, booking, ctx, { reason });
    await enqueueEvent(tx, {
      name: "charge/refunded",
      data: { bookingId: booking.id, chargeRefundId: refund.id },
      eventId: ctx.sourceEventId ?? `charge-refunded:${refund.id}`,
    });
    return { kind: "recorded", refund, payout: synced.payout, reversalIds: synced.reversalIds } as const;
  }, TX_OPTIONS);
}

async function needsReview(
  tx: Tx,
  ctx: TResolvedContext,
  bookingId: string,
  bookingExternalId: string,
  input: TApplyChargeRefundInput,
  currency: string,
  reason: string,
  dedupe: string,
): Promise<TApplyChargeRefundResult> {
  await holdForReview(tx, ctx, {
    bookingId,
    reason: `Stripe refund not applied: ${reason}`,
    alert: {
      kind: "stripe_refund_unapplied",
      title: "Stripe refund could not be applied to its booking",
      message:
        `Stripe reports ${formatMoney(input.refundedTotal, currency)} refunded on charge ${input.stripeChargeId}` +
        `${input.paymentIntentId ? ` (PaymentIntent ${input.paymentIntentId})` : ""} of booking ${bookingExternalId}, but ${reason}. Apply it by hand or correct the booking, then re-drive the delivery.`,
      dedupeKey: `stripe_refund_unapplied:${input.stripeChargeId}:${dedupe}:${input.refundedTotal}`,
    },
  });
  return { kind: "needs_review", reason, bookingExternalId };
}
