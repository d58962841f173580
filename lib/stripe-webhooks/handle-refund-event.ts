import "server-only";

import type Stripe from "stripe";
import { z } from "zod";

import { bookingExternalIdFromHints } from "@/lib/refunds/find-charge-owner";
import { fetchRefundState, recordRefund, refundCounts } from "@/lib/refunds/refund-state";
import type { TApplyOutcome } from "@/lib/webhooks/types";

import { parseStripeObject, ZStripeId } from "./parse-stripe-object";
import { applyRefundOutcome } from "./refund-outcome";
import type { TRelevantStripeEvent } from "./relevant-events";
import type { TStripeHandlerInput } from "./types";

const ZId = z.union([ZStripeId, z.looseObject({ id: ZStripeId })]);

const ZRefund = z.looseObject({
  id: ZStripeId,
  amount: z.number().int().nonnegative(),
  currency: z.string().regex(/^[A-Za-z]{3}$/),
  charge: ZId.nullish(),
  payment_intent: ZId.nullish(),
  status: z.string().nullish(),
  failure_reason: z.string().nullish(),
  created: z.number().int().nonnegative(),
});

const idOf = (value: z.infer<typeof ZId> | null | undefined) => (value == null ? null : typeof value === "string" ? value : value.id);

export type TRefundEventType = Extract<
  TRelevantStripeEvent,
  "refund.created" | "refund.updated" | "refund.failed" | "charge.refund.updated"
>;

/**
 * refund.created / refund.updated / refund.failed / charge.refund.updated (Stripe sends the
 * first that applies; a refund that fails or is cancelled sends refund.failed or refund.updated,
 * and the older charge.refund.updated): the refund's status is kept, then what is refunded on its
 * charge now is asked of Stripe afresh (failed and cancelled refunds left out) and applied, so a
 * failed refund gives the provider's part back exactly once whichever event arrives first, and the
 * others change nothing. When Stripe cannot be asked, a refund this event reports as failed or
 * cancelled for the first time lowers the last recorded total by its amount, when that total
 * is from after the refund was made (an older one never counted it).
 */
export async function handleRefundEvent<T extends TRefundEventType>(input: TStripeHandlerInput<T>): Promise<TApplyOutcome> {
  const { deps, ctx } = input;
  const event = input.event as Stripe.Event;
  const refund = parseStripeObject(ZRefund, event.data.object, "refund");
  const chargeId = idOf(refund.charge);
  if (!chargeId) return { status: "ignored", reason: `refund ${refund.id} is not on a charge` };
  const reportedAt = new Date(event.created * 1000);
  const status = refund.status ?? "pending";
  const recorded = await recordRefund(deps.db, event.data.object as Stripe.Refund, reportedAt);
  const now = ctx.clock?.now() ?? new Date();
  const fresh = await fetchRefundState(deps.db, deps.stripe(), chargeId, now);
  const ref = {
    stripeChargeId: chargeId,
    paymentIntentId: idOf(refund.payment_intent) ?? fresh?.charge.paymentIntentId ?? null,
    bookingExternalId: fresh
      ? bookingExternalIdFromHints({ metadataBookingId: fresh.charge.metadataBookingId, transferGroup: fresh.charge.transferGroup })
      : null,
  };
  if (fresh) {
    return applyRefundOutcome(ctx, {
      ...ref,
      currency: fresh.charge.currency,
      chargeAmount: fresh.charge.amount,
      refundedTotal: fresh.refundedTotal,
      refundedAt: now,
      current: true,
      refundsRecorded: true,
      reason: `Stripe refund ${refund.id} is ${status}${refund.failure_reason ? ` (${refund.failure_reason})` : ""}`,
    });
  }
  // Stripe could not be asked: only a refund newly reported failed or cancelled changes the total.
  const newlyGone =
    !refundCounts(status) && recorded.changed && (recorded.previousStatus === null || refundCounts(recorded.previousStatus));
  if (!newlyGone)
    return { status: "processed", note: `refund ${refund.id} is ${status}; the charge's refunded total comes with charge.refunded` };
  const latest = await deps.db.chargeRefund.findFirst({ where: { stripeChargeId: chargeId }, orderBy: { sequence: "desc" } });
  if (!latest)
    return {
      status: "processed",
      note: `refund ${refund.id} ${status} before any refund on charge ${chargeId} was recorded; nothing to give back`,
    };
  // The recorded total counts the refund only when it is from when the refund existed (an event
  // created, or a look-up made, after it); an older total never had it, and the charge.refunded
  // that would add it is older than this report (it changes nothing when it comes).
  if (latest.refundedAt.getTime() < refund.created * 1000) {
    return {
      status: "processed",
      note: `refund ${refund.id} ${status}; the refunded total recorded for charge ${chargeId} predates it, so nothing to give back`,
    };
  }
  return applyRefundOutcome(ctx, {
    ...ref,
    currency: refund.currency,
    chargeAmount: latest.chargeAmount,
    refundedTotal: Math.max(0, latest.customerRefundedTotal - refund.amount),
    refundedAt: reportedAt,
    current: true,
    reason: `Stripe refund ${refund.id} ${status}${refund.failure_reason ? ` (${refund.failure_reason})` : ""}`,
  });
}
