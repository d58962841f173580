import "server-only";

import type { ChargeRefund } from "@/generated/prisma/client";
import type { TResolvedContext } from "@/lib/context";
import type { Tx } from "@/lib/db";

import { rebalanceChargeLoss } from "./charge-losses";
import { findChargeOwner } from "./find-charge-owner";

/**
 * A tip paid with `stripeChargeId` was accepted: the provider's portion of that charge grew, so
 * what refunds and lost chargebacks on it take grows too (their proportional part of the refunds,
 * and a chargeback that took all they had takes the tip as well). Records the difference as one
 * step (lib/refunds/charge-losses.ts), so the provider's loss does not depend on whether the tip
 * arrived before or after them. The payout then takes the step like any other
 * (syncPayoutWithBooking). Nothing when nothing on the charge took anything yet. Call it with the
 * booking locked, after the tip is stored.
 */
export async function repriceChargeRefunds(
  tx: Tx,
  ctx: TResolvedContext,
  input: { bookingId: string; stripeChargeId: string; reason: string },
): Promise<ChargeRefund | null> {
  const touched =
    (await tx.chargeRefund.count({ where: { stripeChargeId: input.stripeChargeId } })) +
    (await tx.dispute.count({
      where: { stripeChargeId: input.stripeChargeId, stripeDisputeId: { not: null }, status: "resolved", outcome: "customer_won" },
    }));
  if (touched === 0) return null;
  const owner = await findChargeOwner(tx, input.stripeChargeId);
  if (!owner || owner.bookingId !== input.bookingId) return null;
  return rebalanceChargeLoss(tx, ctx, {
    bookingId: input.bookingId,
    stripeChargeId: input.stripeChargeId,
    currency: owner.currency,
    providerPortion: owner.providerPortion,
    chargeAmount: null,
    refundedTotal: null,
    refundedAt: ctx.clock.now(),
    cause: "reprice",
    reason: input.reason,
  });
}
