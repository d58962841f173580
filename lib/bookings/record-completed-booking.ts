import "server-only";

import { Prisma, type Booking, type Payout, type Provider } from "@/generated/prisma/client";
import { recordAudit } from "@/lib/audit/record-audit";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { sqlRows, transaction } from "@/lib/direct-sql";
import { ConflictError } from "@/lib/errors";
import { assertMinorUnits, normalizeCurrency } from "@/lib/money/money";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";
import { lockBooking, type TLockedBooking } from "@/lib/payouts/lock-booking";
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

  return transaction(
    ctx.db,
    async (tx) => {
      // What Stripe says of the account meanwhile waits for this transaction (applyKeptAccountState).
      if (input.provider.stripeAccountId) await lockStripeAccount(tx, input.provider.stripeAccountId);
      let provider = await recordProvider(tx, input.provider);
      if (input.provider.stripeAccountId && !provider.stripeAccountId) {
        provider = await tx.provider.update({ where: { id: provider.id }, data: { stripeAccountId: input.provider.stripeAccountId } });
      }

      // A booking first heard of now is inserted completed, in one round trip (the usual case);
      // one already recorded (a repeated delivery, concurrent deliveries) is locked and completed below.
      const inserted = await insertCompletedBooking(tx, { ...input, currency, providerId: provider.id });
      let completed: TLockedBooking;
      if (inserted) {
        completed = { ...inserted, provider };
      } else {
        const ref = await tx.booking.findUniqueOrThrow({ where: { externalId: input.bookingExternalId }, select: { id: true } });
        const booking = await lockBooking(tx, ref.id);
        if (booking.providerId !== provider.id || booking.currency !== currency) {
          throw new ConflictError(`Booking ${input.bookingExternalId} is already recorded with another provider or currency.`, {
            bookingId: booking.id,
          });
        }
        if (booking.completedAt) {
          // Already completed: a repeated delivery. Nothing changes (but what Stripe said of the account).
          await applyKeptAccountState(tx, ctx, booking.provider);
          const payout = await tx.payout.findUnique({ where: { bookingId: booking.id } });
          return { bookingId: booking.id, payout, duplicate: true };
        }
        completed = await tx.booking.update({
          where: { id: booking.id },
          data: {
            completedAt: input.completedAt,
            stripeChargeId: input.stripeChargeId ?? booking.stripeChargeId,
            stripePaymentIntentId: input.stripePaymentIntentId ?? booking.stripePaymentIntentId,
          },
          include: { provider: true },
        });
      }
      await recordAudit(tx, {
        actor: ctx.actor,
        action: "booking.completed",
        entityType: "booking",
        entityId: completed.id,
        after: {
          externalId: completed.externalId,
          completedAt: input.completedAt.toISOString(),
          providerShare: input.providerShare,
          currency,
        },
        runId: ctx.runId,
        requestId: ctx.requestId,
      });
      const synced = await syncPayoutWithBooking(tx, completed, ctx, { reason: "booking completed", bookingInsertedHere: !!inserted });
      // An account.updated that came before the provider's first booking applies now, as if it had
      // come after: the account is known ready, or this payout is held for it.
      const account = await applyKeptAccountState(tx, ctx, completed.provider);
      const payout = account && synced.payout ? await tx.payout.findUniqueOrThrow({ where: { id: synced.payout.id } }) : synced.payout;
      await enqueueEvent(tx, {
        name: "booking/completed",
        data: { bookingId: completed.id },
        eventId: ctx.sourceEventId ?? `booking-completed:${completed.id}`,
      });
      return { bookingId: completed.id, payout, duplicate: false };
    },
    TX_OPTIONS,
  );
}

/**
 * The provider, recorded if new (idempotent by external id; concurrent deliveries converge): one
 * round trip, a second only when a concurrent delivery inserted it after this statement's snapshot.
 */
async function recordProvider(tx: Tx, input: TCompletedBookingInput["provider"]): Promise<Provider> {
  const rows = await sqlRows<Provider[]>(
    tx,
    Prisma.sql`
    WITH inserted AS (
      INSERT INTO "Provider" ("externalId", "name", "email", "stripeAccountId")
      VALUES (${input.externalId}, ${input.name}, ${input.email}, ${input.stripeAccountId ?? null})
      ON CONFLICT DO NOTHING
      RETURNING *
    )
    SELECT * FROM inserted
    UNION ALL
    SELECT * FROM "Provider" WHERE "externalId" = ${input.externalId} AND NOT EXISTS (SELECT 1 FROM inserted)`,
  );
  return rows[0] ?? tx.provider.findUniqueOrThrow({ where: { externalId: input.externalId } });
}

/**
 * Inserts the booking, completed, unless one with its external id (or its charge or
 * PaymentIntent) is recorded already. The inserted row is this transaction's until it commits
 * (a concurrent delivery's insert waits for it), so it needs no lock of its own.
 */
async function insertCompletedBooking(
  tx: Tx,
  input: TCompletedBookingInput & { currency: string; providerId: string },
): Promise<Booking | null> {
  const rows = await sqlRows<Booking[]>(
    tx,
    Prisma.sql`
    INSERT INTO "Booking" ("externalId", "providerId", "currency", "providerShare", "stripeChargeId", "stripePaymentIntentId", "completedAt")
    VALUES (${input.bookingExternalId}, ${input.providerId}::uuid, ${input.currency}, ${input.providerShare},
            ${input.stripeChargeId ?? null}, ${input.stripePaymentIntentId ?? null}, ${input.completedAt})
    ON CONFLICT DO NOTHING
    RETURNING *`,
  );
  return rows[0] ?? null;
}
