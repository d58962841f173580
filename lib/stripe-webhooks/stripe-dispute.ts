import "server-only";

import { z } from "zod";

import type { DisputeOutcome } from "@/generated/prisma/enums";
import { openDispute } from "@/lib/disputes/open-dispute";
import { resolveDispute } from "@/lib/disputes/resolve-dispute";
import { ValidationError } from "@/lib/errors";
import type { TServiceContext } from "@/lib/payouts/context";
import { findChargeOwner, type TChargeOwner } from "@/lib/refunds/find-charge-owner";
import type { TApplyOutcome } from "@/lib/webhooks/types";

import { parseStripeObject, ZStripeId } from "./parse-stripe-object";

// Stripe disputes (chargebacks) drive the same services as the booking platform's disputes.
//
// Mapping: dispute.charge → Booking.stripeChargeId (scope "booking") or Tip.stripeChargeId
// (scope "tip"). A charge we do not know is deferred: its booking may not have completed
// yet, and a dispute must hold the payout once it does.
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
  status: z.string(),
  reason: z.string().nullish(),
  created: z.number().int().nonnegative(),
});

export type TStripeDispute = {
  id: string;
  chargeId: string;
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

export type TOpenedStripeDispute = { owner: TChargeOwner; duplicate: boolean };

/**
 * Records the Stripe dispute on its booking (idempotent by its Stripe id): the payout is
 * held while it is open. Null when the charge is not one we know (yet).
 */
export async function openStripeDispute(ctx: TServiceContext, dispute: TStripeDispute): Promise<TOpenedStripeDispute | null> {
  const owner = await findChargeOwner(ctx.db, dispute.chargeId);
  if (!owner) return null;
  if (dispute.currency !== owner.currency) {
    throw new ValidationError(`Dispute ${dispute.id} is in ${dispute.currency}, booking ${owner.bookingExternalId} in ${owner.currency}.`);
  }
  const opened = await openDispute(ctx, {
    bookingId: owner.bookingId,
    stripeDisputeId: dispute.id,
    stripeChargeId: dispute.chargeId,
    scope: owner.scope,
    reason: dispute.reason ? `Stripe dispute: ${dispute.reason}` : "Stripe dispute",
    openedAt: dispute.createdAt,
  });
  return { owner, duplicate: opened.duplicate };
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
        ? `Stripe dispute ${dispute.id} lost: ${resolved.dispute.refundedAmount} ${owner.currency} of the ${dispute.amount} disputed falls on the provider`
        : `Stripe dispute ${dispute.id} closed (${dispute.status}): nothing falls on the provider`,
  };
}

/** The deferral of a dispute event whose charge we do not know. */
export function waitingForCharge(dispute: TStripeDispute): TApplyOutcome {
  return { status: "deferred", reason: `waiting for the booking or tip paid with charge ${dispute.chargeId} (Stripe dispute ${dispute.id})` };
}
