import "server-only";

import type { Tip } from "@/generated/prisma/client";
import { recordAudit } from "@/lib/audit/record-audit";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import { ValidationError } from "@/lib/errors";
import { assertMinorUnits, normalizeCurrency } from "@/lib/money/money";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";
import { lockBooking } from "@/lib/payouts/lock-booking";
import { TRANSFERRED_STATUSES } from "@/lib/payouts/state-machine";
import { BOOKING_CANCELLED, FULLY_REFUNDED, syncPayoutWithBooking } from "@/lib/payouts/sync-payout-with-booking";
import { describeLateTip, isTipInWindow } from "@/lib/payouts/timing";
import { repriceChargeRefunds } from "@/lib/refunds/reprice-charge-refunds";

import { BOOKING_CANCELLED_TIP_REASON } from "./tip-rules";

export type TAddTipInput = {
  tipExternalId: string;
  bookingId: string;
  amount: number;
  currency: string;
  tippedAt: Date;
  /**
   * When we received the tip: its webhook delivery's receipt (default: now). A tip received before
   * the payout's transfer was made is paid, even when its delivery is applied only after it.
   */
  receivedAt?: Date;
  stripeChargeId?: string | null;
  stripePaymentIntentId?: string | null;
};

export type TAddTipResult = { tip: Tip; duplicate: boolean };

/**
 * Records a tip. Tipped within the tip window and received before the payout's transfer was
 * made, it is accepted and joins the booking's payout (amount and amount version go up). While
 * that transfer is in flight (or waits for its retry) it waits for it to settle: it joins the
 * payout if the transfer is tried again, or is paid with a top-up transfer after it
 * (lib/payouts/top-up-for-tips.ts); so is a tip received before the transfer was made
 * whose delivery is applied only after it (the sweep, a re-drive). When it was paid with a
 * charge that Stripe already (partly) refunded, the provider's part of that refund is re-priced
 * with their larger portion of the charge, as if the tip had arrived first. Otherwise (received
 * after the transfer was made, too late, in another currency, for a cancelled booking or
 * payout) it is recorded as rejected with the reason, audited, and never paid. Idempotent per
 * tip id.
 */
export async function addTip(context: TServiceContext, input: TAddTipInput): Promise<TAddTipResult> {
  const ctx = resolveContext(context);
  assertMinorUnits(input.amount, "amount");
  if (input.amount === 0) throw new ValidationError("A tip must be more than zero.");
  const currency = normalizeCurrency(input.currency);

  return ctx.db.$transaction(async (tx) => {
    const booking = await lockBooking(tx, input.bookingId);
    const existing = await tx.tip.findUnique({ where: { externalId: input.tipExternalId } });
    if (existing) return { tip: existing, duplicate: true };

    const payout = await tx.payout.findUnique({ where: { bookingId: booking.id } });
    const receivedAt = input.receivedAt ?? ctx.clock.now();

    let rejectionReason: string | null = null;
    if (currency !== booking.currency) {
      rejectionReason = `tip currency ${currency} differs from the booking's ${booking.currency}`;
    } else if (booking.cancelledAt && (input.tippedAt >= booking.cancelledAt || (payout && payout.status !== "cancelled"))) {
      // Tipped before the cancellation, it counts on the cancelled payout (never paid) as if it had
      // arrived first (cancelBooking). Not once money moved or is moving for the payout (it is not
      // cancelled then): a tip joining it would be paid with a top-up.
      rejectionReason = BOOKING_CANCELLED_TIP_REASON;
    } else if (booking.completedAt && !isTipInWindow(booking.completedAt, input.tippedAt, ctx.timing)) {
      rejectionReason = describeLateTip(booking.completedAt, input.tippedAt, ctx.timing);
    } else if (payout && TRANSFERRED_STATUSES.includes(payout.status) && !(payout.transferredAt && receivedAt < payout.transferredAt)) {
      rejectionReason = "the payout was already transferred";
    } else if (payout?.status === "cancelled" && payout.cancelReason !== FULLY_REFUNDED && payout.cancelReason !== BOOKING_CANCELLED) {
      // A payout closed because refunds took all of it still takes a tip tipped in the window
      // (it is reopened when the tip leaves something to pay), and one closed for its booking a tip
      // tipped before the cancellation (never paid: counted as if it had arrived first); one
      // cancelled by a person is closed.
      rejectionReason = "the payout was cancelled";
    } else if (payout?.status === "applied_to_debt") {
      // Closed when its claim found the provider's debts took all of it (recover-debts.ts): no transfer
      // follows it for a top-up to join.
      rejectionReason = "the payout was applied to the provider's debt";
    }

    const tip = await tx.tip.create({
      data: {
        externalId: input.tipExternalId,
        bookingId: booking.id,
        amount: input.amount,
        currency,
        status: rejectionReason ? "rejected" : "accepted",
        rejectionReason,
        tippedAt: input.tippedAt,
        receivedAt,
        // A tip paid with the booking's own PaymentIntent was paid with the booking's charge.
        stripeChargeId:
          input.stripeChargeId ??
          (input.stripePaymentIntentId && input.stripePaymentIntentId === booking.stripePaymentIntentId ? booking.stripeChargeId : null),
        stripePaymentIntentId: input.stripePaymentIntentId ?? null,
      },
    });
    await recordAudit(tx, {
      actor: ctx.actor,
      action: rejectionReason ? "tip.rejected" : "tip.accepted",
      entityType: "tip",
      entityId: tip.id,
      reason: rejectionReason,
      after: {
        bookingId: booking.id,
        payoutId: payout?.id ?? null,
        amount: tip.amount,
        currency,
        tippedAt: input.tippedAt.toISOString(),
        receivedAt: receivedAt.toISOString(),
        ...(rejectionReason || !payout || payout.status !== "processing" ? {} : { waitsFor: "the transfer in flight" }),
      },
      runId: ctx.runId,
      requestId: ctx.requestId,
    });
    if (!rejectionReason) {
      if (tip.stripeChargeId) {
        // The tip enlarges the provider's portion of its charge: refunds already on it are re-priced.
        await repriceChargeRefunds(tx, ctx, {
          bookingId: booking.id,
          stripeChargeId: tip.stripeChargeId,
          reason: `tip ${input.tipExternalId} paid with charge ${tip.stripeChargeId}`,
        });
      }
      await syncPayoutWithBooking(tx, booking, ctx, { reason: `tip ${input.tipExternalId} added` });
      await enqueueEvent(tx, {
        name: "tip/added",
        data: { tipId: tip.id, bookingId: booking.id },
        eventId: ctx.sourceEventId ?? `tip-added:${tip.id}`,
      });
    }
    return { tip: await tx.tip.findUniqueOrThrow({ where: { id: tip.id } }), duplicate: false };
  }, TX_OPTIONS);
}
