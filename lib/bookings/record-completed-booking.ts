import "server-only";

import type { Payout } from "@/generated/prisma/client";
import { recordAudit } from "@/lib/audit/record-audit";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import { ConflictError } from "@/lib/errors";
import { assertMinorUnits, normalizeCurrency } from "@/lib/money/money";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";
import { lockBooking } from "@/lib/payouts/lock-booking";
import { syncPayoutWithBooking } from "@/lib/payouts/sync-payout-with-booking";
import { applyKeptAccountState, lockStripeAccount } from "@/lib/payouts/update-provider-account";

export type TCompletedBookingInput = {
  bookingExternalId: string;
  completedAt: Date;
  currency: string;
  providerShare: number;
  stripeChargeId?: string | null;
  /** The PaymentIntent that paid, for platforms that record it (the charge is learnt from Stripe). */
  stripePaymentIntentId?: string | null;
  provider: { externalId: string; name: string; email: string; stripeAccountId?: string | null };
};

/**
 * A booking completed: records the provider and the booking (idempotent by external id)
 * and schedules its payout of share + tips, due at completion + the payout delay. Tips and
 * disputes that arrived before the booking are applied now, and so is what Stripe said of the
 * provider's account before any provider had it. Emits `booking/completed`.
 */
export async function recordCompletedBooking(
  context: TServiceContext,
  input: TCompletedBookingInput,
): Promise<{ bookingId: string; payout: Payout | null; duplicate: boolean }> {
  const ctx = resolveContext(context);
  const currency = normalizeCurrency(input.currency);
  assertMinorUnits(input.providerShare, "providerShare");

  return ctx.db.$transaction(async (tx) => {
    // What Stripe says of the account meanwhile waits for this transaction (applyKeptAccountState).
    if (input.provider.stripeAccountId) await lockStripeAccount(tx, input.provider.stripeAccountId);
    // Providers and bookings are inserted with ON CONFLICT so concurrent deliveries converge.
    await tx.provider.createMany({
      data: [
        {
          externalId: input.provider.externalId,
          name: input.provider.name,
          email: input.provider.email,
          stripeAccountId: input.provider.stripeAccountId ?? null,
        },
      ],
      skipDuplicates: true,
    });
    const provider = await tx.provider.findUniqueOrThrow({ where: { externalId: input.provider.externalId } });
    if (input.provider.stripeAccountId && !provider.stripeAccountId) {
      await tx.provider.update({ where: { id: provider.id }, data: { stripeAccountId: input.provider.stripeAccountId } });
    }

    await tx.booking.createMany({
      data: [
        {
          externalId: input.bookingExternalId,
          providerId: provider.id,
          currency,
          providerShare: input.providerShare,
          stripeChargeId: input.stripeChargeId ?? null,
          stripePaymentIntentId: input.stripePaymentIntentId ?? null,
        },
      ],
      skipDuplicates: true,
    });
    const ref = await tx.booking.findUniqueOrThrow({ where: { externalId: input.bookingExternalId }, select: { id: true } });
    const booking = await lockBooking(tx, ref.id);
    if (booking.providerId !== provider.id || booking.currency !== currency) {
      throw new ConflictError(`Booking ${input.bookingExternalId} is already recorded with another provider or currency.`, {
        bookingId: booking.id,
      });
    }
    if (booking.completedAt) {
      // Already completed: a repeated delivery. Nothing changes (but what Stripe said of the account).
      await applyKeptAccountState(tx, ctx, await tx.provider.findUniqueOrThrow({ where: { id: provider.id } }));
      const payout = await tx.payout.findUnique({ where: { bookingId: booking.id } });
      return { bookingId: booking.id, payout, duplicate: true };
    }
    const completed = await tx.booking.update({
      where: { id: booking.id },
      data: {
        completedAt: input.completedAt,
        stripeChargeId: input.stripeChargeId ?? booking.stripeChargeId,
        stripePaymentIntentId: input.stripePaymentIntentId ?? booking.stripePaymentIntentId,
      },
      include: { provider: true },
    });
    await recordAudit(tx, {
      actor: ctx.actor,
      action: "booking.completed",
      entityType: "booking",
      entityId: booking.id,
      after: { externalId: booking.externalId, completedAt: input.completedAt.toISOString(), providerShare: input.providerShare, currency },
      runId: ctx.runId,
      requestId: ctx.requestId,
    });
    const synced = await syncPayoutWithBooking(tx, completed, ctx, { reason: "booking completed" });
    // An account.updated that came before the provider's first booking applies now, as if it had
    // come after: the account is known ready, or this payout is held for it.
    const account = await applyKeptAccountState(tx, ctx, completed.provider);
    const payout = account && synced.payout ? await tx.payout.findUniqueOrThrow({ where: { id: synced.payout.id } }) : synced.payout;
    await enqueueEvent(tx, {
      name: "booking/completed",
      data: { bookingId: booking.id },
      eventId: ctx.sourceEventId ?? `booking-completed:${booking.id}`,
    });
    return { bookingId: booking.id, payout, duplicate: false };
  }, TX_OPTIONS);
}
