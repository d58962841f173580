import "server-only";

import type { PrismaClient } from "@/generated/prisma/client";
import { learnCharges } from "@/lib/charges/charge-funding";
import { BUSY_ERROR_CODE } from "@/lib/payouts/sync-payout-with-booking";
import { TRANSFER_NOT_RECORDED_ERROR_CODE } from "@/lib/stripe-webhooks/handle-transfer-reversed";
import { STRIPE_UNREACHABLE_ERROR_CODE } from "@/lib/stripe-webhooks/refund-outcome";
import { storedOutcome } from "@/lib/webhooks/store-delivery";
import type { TApplyOutcome, TWebhookDeps } from "@/lib/webhooks/types";

import { applyInOrder, laneKeyOf } from "./apply-in-order";
import { applyDeferredFor, processDelivery } from "./process-delivery";

/** A delivery untouched for this long was left behind (a crash, a timeout), not in flight. */
export const STALE_DELIVERY_MS = 5 * 60 * 1000;
/**
 * The sweep re-applies a failing delivery this many times in all; then it waits for a re-drive
 * (except one waiting for a transfer to settle: TRANSFER_SETTLING_ERROR_CODES).
 */
export const MAX_AUTO_APPLY_ATTEMPTS = 5;
/**
 * Failures that go away once a payout's transfer settles: a change refused while the transfer
 * is in flight (payout_busy), a transfer.reversed that arrived before the payout recorded its
 * transfer (transfer_not_recorded). The sweep re-applies these whatever their attempt count: a
 * transfer always settles, and giving up would lose the refund, resolution or reversal they carry.
 */
export const TRANSFER_SETTLING_ERROR_CODES: readonly string[] = [BUSY_ERROR_CODE, TRANSFER_NOT_RECORDED_ERROR_CODE];
/**
 * Stripe money events that could not be applied, or matched to their booking, because Stripe could
 * not be asked (failed or deferred with this code): re-applied whatever their attempt count, since
 * they go through once Stripe answers, and giving up would lose the refund or dispute they carry.
 */
const STRIPE_UNREACHABLE_PREFIX = `${STRIPE_UNREACHABLE_ERROR_CODE}:`;
/** Deferred deliveries whose booking (or charge) has arrived are re-tried this many times (a lost wake-up). */
const MAX_DEFERRED_ATTEMPTS = 10;

export type TReapplyResult = { reapplied: number; processed: number; failed: number; deferred: number; unblocked: number };

/**
 * For the reconciliation sweep: re-applies deliveries that a crash or a transient error
 * left `received` or `failed` (bounded by MAX_AUTO_APPLY_ATTEMPTS), and re-checks deferred
 * deliveries whose booking exists by now, including Stripe's that name only a charge the
 * booking or one of its tips was paid with (bounded by MAX_DEFERRED_ATTEMPTS), and Stripe's
 * that waited because Stripe could not be asked. Events they cause are written to the outbox;
 * the sweep publishes them afterwards.
 */
export async function reapplyStaleDeliveries(deps: TWebhookDeps, options: { now?: Date; limit?: number } = {}): Promise<TReapplyResult> {
  const now = options.now ?? deps.clock?.now() ?? new Date();
  const limit = options.limit ?? 100;
  const cutoff = new Date(now.getTime() - STALE_DELIVERY_MS);
  const result: TReapplyResult = { reapplied: 0, processed: 0, failed: 0, deferred: 0, unblocked: 0 };

  const stale = await deps.db.webhookEvent.findMany({
    where: {
      status: { in: ["received", "failed"] },
      receivedAt: { lte: cutoff },
      OR: [
        { applyAttempts: { lt: MAX_AUTO_APPLY_ATTEMPTS } },
        // Their errors read "<code>: <message>".
        ...TRANSFER_SETTLING_ERROR_CODES.map((code) => ({ status: "failed" as const, error: { startsWith: `${code}:` } })),
        { status: "failed", error: { startsWith: STRIPE_UNREACHABLE_PREFIX } },
      ],
    },
    orderBy: [{ receivedAt: "asc" }, { id: "asc" }],
    take: limit,
  });
  for (const delivery of stale) {
    let outcome: TApplyOutcome | null;
    try {
      if (delivery.status === "received") {
        // Never applied (its server crashed before its after() ran): in its lane, with any received after it.
        const lane = await applyInOrder(deps, laneKeyOf(delivery), { publish: false });
        if (!lane.applied.includes(delivery.id)) continue; // its lane's holder applies it
        outcome = storedOutcome(await deps.db.webhookEvent.findUniqueOrThrow({ where: { id: delivery.id } }));
      } else {
        outcome = await processDelivery(deps, delivery, { publish: false });
      }
    } catch (error) {
      // One delivery's trouble (its lane, the database for a moment) does not stop the sweep.
      console.error(`sweep: re-applying webhook delivery ${delivery.id} failed; the next sweep tries again`, error);
      continue;
    }
    result.reapplied += 1;
    if (outcome?.status === "processed") result.processed += 1;
    else if (outcome?.status === "failed") result.failed += 1;
    else if (outcome?.status === "deferred") result.deferred += 1;
  }

  for (const bookingExternalId of await bookingsWithStaleDeferredDeliveries(deps.db, { cutoff, limit })) {
    result.unblocked += (await applyDeferredFor(deps, bookingExternalId)).applied;
  }

  // Stripe's deferred because Stripe could not be asked what their charge names (its metadata or
  // transfer group may name a booking that arrived long ago): Stripe is asked again, and once it
  // has described the charge they are applied again.
  const unasked = await deps.db.webhookEvent.findMany({
    where: { source: "stripe", status: "deferred", receivedAt: { lte: cutoff }, error: { startsWith: STRIPE_UNREACHABLE_PREFIX } },
    orderBy: [{ receivedAt: "asc" }, { id: "asc" }],
    take: limit,
  });
  for (const delivery of unasked) {
    const chargeId = chargeOf(delivery.payload);
    if (!chargeId) continue;
    const lookup = (await learnCharges(deps.db, deps.stripe(), [chargeId], now)).get(chargeId);
    if (lookup && lookup.kind !== "known") continue;
    if ((await processDelivery(deps, delivery, { publish: false })).status === "processed") result.unblocked += 1;
  }
  return result;
}

/** The charge a stored Stripe dispute or refund event names (data.object.charge). */
function chargeOf(payload: unknown): string | null {
  const object = (payload as { data?: { object?: { charge?: unknown } } } | null)?.data?.object;
  const charge = object?.charge;
  if (typeof charge === "string") return charge || null;
  return typeof charge === "object" && charge !== null && "id" in charge && typeof charge.id === "string" ? charge.id : null;
}

/**
 * The bookings (external ids) that have arrived for deferred deliveries untouched since
 * `cutoff` and re-tried fewer than MAX_DEFERRED_ATTEMPTS times: those naming the booking, and
 * Stripe's that name only a charge (a dispute's `charge`, a refunded charge's `id`; as
 * applyDeferredFor finds them) now paid for by the booking or one of its tips. A wake-up lost
 * on the booking's arrival is caught here. Only arrived bookings are listed, so deliveries
 * that may wait forever (a dispute on a charge that is not a booking's) never crowd out the
 * ones that can go through.
 */
async function bookingsWithStaleDeferredDeliveries(db: PrismaClient, input: { cutoff: Date; limit: number }): Promise<string[]> {
  const rows = await db.$queryRaw<{ externalId: string }[]>`
    WITH waiting AS (
      SELECT w."bookingExternalId",
             CASE
               WHEN w."bookingExternalId" IS NOT NULL OR w.source <> 'stripe' THEN NULL
               WHEN w.type = 'charge.refunded' THEN w.payload #>> '{data,object,id}'
               WHEN jsonb_typeof(w.payload #> '{data,object,charge}') = 'string' THEN w.payload #>> '{data,object,charge}'
             END AS "chargeId",
             CASE
               WHEN w."bookingExternalId" IS NOT NULL OR w.source <> 'stripe' THEN NULL
               WHEN jsonb_typeof(w.payload #> '{data,object,payment_intent}') = 'string' THEN w.payload #>> '{data,object,payment_intent}'
             END AS "intentId"
      FROM "WebhookEvent" w
      WHERE w.status = 'deferred' AND w."receivedAt" <= ${input.cutoff} AND w."applyAttempts" < ${MAX_DEFERRED_ATTEMPTS}
    )
    SELECT b."externalId" FROM waiting JOIN "Booking" b ON b."externalId" = waiting."bookingExternalId"
    UNION
    SELECT b."externalId" FROM waiting JOIN "Booking" b ON b."stripeChargeId" = waiting."chargeId"
    UNION
    SELECT b."externalId" FROM waiting JOIN "Tip" t ON t."stripeChargeId" = waiting."chargeId" JOIN "Booking" b ON b.id = t."bookingId"
    UNION
    SELECT b."externalId" FROM waiting JOIN "StripeCharge" c ON c.id = waiting."chargeId"
      JOIN "Booking" b ON b."externalId" = c."metadataBookingId" OR 'booking_' || b."externalId" = c."transferGroup"
    UNION
    SELECT b."externalId" FROM waiting JOIN "Booking" b ON b."stripePaymentIntentId" = waiting."intentId"
    UNION
    SELECT b."externalId" FROM waiting JOIN "Tip" t ON t."stripePaymentIntentId" = waiting."intentId" JOIN "Booking" b ON b.id = t."bookingId"
    LIMIT ${input.limit}`;
  return rows.map((row) => row.externalId);
}
