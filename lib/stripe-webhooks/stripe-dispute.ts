import "server-only";

import type Stripe from "stripe";
import { z } from "zod";

import type { DisputeOutcome } from "@/generated/prisma/enums";
import { learnCharges } from "@/lib/charges/charge-funding";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import { openDispute } from "@/lib/disputes/open-dispute";
import { resolveDispute } from "@/lib/disputes/resolve-dispute";
import { formatMoney } from "@/lib/money/format-money";
import { holdForReview } from "@/lib/payouts/hold-for-review";
import { lockBooking } from "@/lib/payouts/lock-booking";
import { bookingExternalIdFromHints, matchCharge, type TChargeMatch, type TChargeOwner } from "@/lib/refunds/find-charge-owner";
import type { TApplyOutcome } from "@/lib/webhooks/types";

import { parseStripeObject, ZStripeId } from "./parse-stripe-object";
import { NEEDS_REVIEW_ERROR_CODE, STRIPE_UNREACHABLE_ERROR_CODE } from "./refund-outcome";

// Stripe disputes (chargebacks) drive the same services as the booking platform's disputes.
//
// Mapping: dispute.charge → Booking.stripeChargeId (scope "booking") or Tip.stripeChargeId
// (scope "tip"), else dispute.payment_intent → a booking's or tip's PaymentIntent, else the
// booking the charge's metadata.bookingId or transfer_group names (the charge is asked of Stripe
// for those: a dispute does not carry them). A charge we do not know is deferred: its booking may
// not have completed yet, and a dispute must hold the payout once it does; the sweep alerts when
// it still matches nothing after STRIPE_UNMATCHED_GRACE_MINUTES. One that matches a booking but
// cannot be applied as it is (another currency, a charge of the booking we cannot place) holds
// the payout for review and alerts.
//
// A Stripe dispute is its own Dispute row (keyed by stripeDisputeId), even when the booking
// platform also has an open dispute on the same booking: a chargeback is a separate money
// movement (the bank takes the money from the platform's balance) with its own outcome,
// and the booking platform's contract carries no Stripe dispute id to link the two. Both
// hold the payout; it is released when the last one is resolved. Nothing is counted twice
// because each resolution carries only the money it moved: the platform's refund as the
// platform reports it, the chargeback's provider part capped so that refunds and chargebacks
// on that charge never take more than the provider's portion of it, in either order
// (lib/refunds/provider-part.ts), and the payout's amount never goes below zero nor its
// reversals above what was transferred. A dispute
// already known by its Stripe id (from an earlier event in any order) is not opened twice,
// and one already resolved is not resolved twice.

const ZStripeDispute = z.looseObject({
  id: ZStripeId,
  amount: z.number().int().nonnegative(),
  currency: z.string().regex(/^[A-Za-z]{3}$/),
  charge: z.union([ZStripeId, z.looseObject({ id: ZStripeId })]),
  payment_intent: z.union([ZStripeId, z.looseObject({ id: ZStripeId })]).nullish(),
  status: z.string(),
  reason: z.string().nullish(),
  created: z.number().int().nonnegative(),
});

export type TStripeDispute = {
  id: string;
  chargeId: string;
  paymentIntentId: string | null;
  amount: number;
  currency: string;
  status: string;
  reason: string | null;
  createdAt: Date;
};

export function parseStripeDispute(object: unknown): TStripeDispute {
  const d = parseStripeObject(ZStripeDispute, object, "dispute");
  return {
    id: d.id,
    chargeId: typeof d.charge === "string" ? d.charge : d.charge.id,
    paymentIntentId: d.payment_intent == null ? null : typeof d.payment_intent === "string" ? d.payment_intent : d.payment_intent.id,
    amount: d.amount,
    currency: d.currency.toUpperCase(),
    status: d.status,
    reason: d.reason ?? null,
    createdAt: new Date(d.created * 1000),
  };
}

/** How a closed (or decided) Stripe dispute resolves ours. Inquiries closed without a chargeback and prevented disputes moved no money. */
const OUTCOMES: Record<string, DisputeOutcome> = {
  won: "provider_won",
  warning_closed: "provider_won",
  prevented: "provider_won",
  lost: "customer_won",
};

export function outcomeOfStripeStatus(status: string): DisputeOutcome | null {
  return OUTCOMES[status] ?? null;
}

export type TOpenedStripeDispute =
  | { kind: "opened"; owner: TChargeOwner; duplicate: boolean }
  /** No booking or tip we know is paid with the charge (yet); `unavailable`: Stripe could not be asked what the charge names. */
  | { kind: "unknown_charge"; unavailable: string | null }
  /** It matched a booking but cannot be applied as it is: the payout is held for review, an admin alerted. */
  | { kind: "needs_review"; outcome: TApplyOutcome };

/**
 * Finds the booking a Stripe dispute is about (see the top of this file), asking Stripe for the
 * charge's metadata and transfer group only when its ids match nothing.
 */
async function matchDispute(
  ctx: TServiceContext,
  stripe: Stripe,
  dispute: TStripeDispute,
): Promise<{ match: TChargeMatch; unavailable: string | null }> {
  const c = resolveContext(ctx);
  const audit = { actor: c.actor, runId: c.runId, requestId: c.requestId };
  const ref = { chargeId: dispute.chargeId, paymentIntentId: dispute.paymentIntentId };
  const byId = await c.db.$transaction((tx) => matchCharge(tx, audit, ref), TX_OPTIONS);
  if (byId.kind !== "none") return { match: byId, unavailable: null };
  const lookup = (await learnCharges(c.db, stripe, [dispute.chargeId], c.clock.now())).get(dispute.chargeId);
  const unavailable = lookup?.kind === "unavailable" ? lookup.message : null;
  const known = await c.db.stripeCharge.findUnique({ where: { id: dispute.chargeId } });
  const bookingExternalId = known
    ? bookingExternalIdFromHints({ metadataBookingId: known.metadataBookingId, transferGroup: known.transferGroup })
    : null;
  if (!bookingExternalId) return { match: byId, unavailable };
  const match = await c.db.$transaction(
    (tx) => matchCharge(tx, audit, { ...ref, paymentIntentId: ref.paymentIntentId ?? known?.paymentIntentId ?? null, bookingExternalId }),
    TX_OPTIONS,
  );
  return { match, unavailable: null };
}

/**
 * Records the Stripe dispute on its booking (idempotent by its Stripe id): the payout is held
 * while it is open. A dispute in another currency than its booking, or on a charge of the booking
 * we cannot place, is not recorded: the payout is held for review and an admin alerted.
 */
export async function openStripeDispute(ctx: TServiceContext, stripe: Stripe, dispute: TStripeDispute): Promise<TOpenedStripeDispute> {
  const { match, unavailable } = await matchDispute(ctx, stripe, dispute);
  if (match.kind === "none") return { kind: "unknown_charge", unavailable };
  const currency = match.kind === "owner" ? match.owner.currency : match.currency;
  const problem =
    match.kind === "booking_only"
      ? match.reason
      : dispute.currency !== currency
        ? `the dispute is in ${dispute.currency}, booking ${match.owner.bookingExternalId} in ${currency}`
        : null;
  if (problem) {
    const bookingId = match.kind === "owner" ? match.owner.bookingId : match.bookingId;
    const bookingExternalId = match.kind === "owner" ? match.owner.bookingExternalId : match.bookingExternalId;
    const c = resolveContext(ctx);
    await c.db.$transaction(async (tx) => {
      await lockBooking(tx, bookingId);
      await holdForReview(tx, c, {
        bookingId,
        reason: `Stripe dispute ${dispute.id} not applied: ${problem}`,
        alert: {
          kind: "stripe_dispute_unapplied",
          title: "Stripe dispute could not be applied to its booking",
          message:
            `Stripe dispute ${dispute.id} (${formatMoney(dispute.amount, dispute.currency)}, ${dispute.status}) on charge ${dispute.chargeId}` +
            `${dispute.paymentIntentId ? ` (PaymentIntent ${dispute.paymentIntentId})` : ""} names booking ${bookingExternalId}, but ${problem}. ` +
            "Decide it by hand or correct the booking, then re-drive the delivery.",
          dedupeKey: `stripe_dispute_unapplied:${dispute.id}`,
        },
      });
    }, TX_OPTIONS);
    return {
      kind: "needs_review",
      outcome: { status: "failed", error: `${NEEDS_REVIEW_ERROR_CODE}: ${problem}; booking ${bookingExternalId}'s payout held for review` },
    };
  }
  const owner = (match as Extract<TChargeMatch, { kind: "owner" }>).owner;
  const opened = await openDispute(ctx, {
    bookingId: owner.bookingId,
    stripeDisputeId: dispute.id,
    stripeChargeId: dispute.chargeId,
    scope: owner.scope,
    reason: dispute.reason ? `Stripe dispute: ${dispute.reason}` : "Stripe dispute",
    openedAt: dispute.createdAt,
  });
  return { kind: "opened", owner, duplicate: opened.duplicate };
}

/**
 * Resolves our record of a decided Stripe dispute. Won (or closed without a chargeback):
 * provider_won, nothing refunded. Lost: customer_won, and the provider bears the disputed
 * amount up to what they still have from the charge (their portion minus what refunds and
 * other chargebacks on it already took), computed under the booking's lock
 * (lib/disputes/resolve-dispute.ts); see lib/refunds/provider-part.ts for why.
 */
export async function resolveStripeDispute(
  ctx: TServiceContext,
  dispute: TStripeDispute,
  owner: TChargeOwner,
  outcome: DisputeOutcome,
  resolvedAt: Date,
): Promise<TApplyOutcome> {
  const resolved = await resolveDispute(ctx, {
    stripeDisputeId: dispute.id,
    outcome,
    chargeback: { stripeChargeId: dispute.chargeId, disputedAmount: dispute.amount },
    resolvedAt,
  });
  if (resolved.duplicate) return { status: "processed", note: `Stripe dispute ${dispute.id} already resolved; nothing changed` };
  return {
    status: "processed",
    note:
      outcome === "customer_won"
        ? `Stripe dispute ${dispute.id} lost: ${formatMoney(resolved.dispute.refundedAmount, owner.currency)} of the ${formatMoney(dispute.amount, dispute.currency)} disputed falls on the provider`
        : `Stripe dispute ${dispute.id} closed (${dispute.status}): nothing falls on the provider`,
  };
}

/**
 * The deferral of a dispute event whose charge we do not know. When Stripe could not be asked what
 * the charge names (its metadata or transfer group), the sweep asks again.
 */
export function waitingForCharge(dispute: TStripeDispute, opened: { unavailable: string | null }): TApplyOutcome {
  const waiting = `waiting for the booking or tip paid with charge ${dispute.chargeId} (Stripe dispute ${dispute.id})`;
  return {
    status: "deferred",
    reason: opened.unavailable
      ? `${STRIPE_UNREACHABLE_ERROR_CODE}: Stripe could not be asked about charge ${dispute.chargeId} (${opened.unavailable}); ${waiting}`
      : waiting,
  };
}
