import "server-only";

import type { PrismaClient, WebhookEvent } from "@/generated/prisma/client";
import { inngest } from "@/lib/inngest/client";
import { publishOutbox, type TPublishResult } from "@/lib/outbox/publish-outbox";
import { deferredStripeDeliveriesForCharges } from "@/lib/stripe-webhooks/booking-reference";
import { outcomeOfError } from "@/lib/webhooks/apply-booking-delivery";
import { recordOutcome, recordOutcomeAndLookForWaiting } from "@/lib/webhooks/store-delivery";
import type { TApplyOutcome, TWebhookDeps } from "@/lib/webhooks/types";

import { applyDelivery } from "./apply-delivery";

/** Safety bound on re-apply passes over one booking's deferred deliveries. */
const MAX_DEFERRED_PASSES = 20;
const DEFERRED_BATCH = 200;
/** How long a webhook request waits for Inngest to take its events before leaving them to the sweep. */
export const PUBLISH_DEADLINE_MS = 3_000;

export type TProcessOptions = {
  /** Send the Inngest events the delivery caused (default true; the sweep publishes once at its end). */
  publish?: boolean;
};

/**
 * Applies a stored delivery and records the outcome on it; when it was applied, re-applies
 * the deliveries of the same booking that were waiting (deferred) for it; then sends the
 * Inngest events those applications caused (each service wrote its event to the outbox in
 * its own transaction, with the delivery's id as the event id; the functions those events
 * start publish whatever follows, such as a transfer request). Never throws for an apply
 * failure: that is recorded as `failed` and kept for the sweep and re-drive. Nor for a
 * failure to re-apply the waiting deliveries once this one is recorded: they stay deferred
 * and the sweep re-applies them.
 */
export async function processDelivery(deps: TWebhookDeps, delivery: WebhookEvent, options: TProcessOptions = {}): Promise<TApplyOutcome> {
  const { outcome, waiting } = await applyAndRecord(deps, delivery, { recheckDeferred: true });
  const appliedIds = outcome.status === "processed" ? [delivery.id] : [];
  if (outcome.status === "processed" && delivery.bookingExternalId && waiting) {
    try {
      appliedIds.push(...(await applyDeferredFor(deps, delivery.bookingExternalId, { knownWaiting: true })).appliedIds);
    } catch (error) {
      // This delivery is applied and its outcome recorded; what waited for it stays deferred
      // and the reconciliation sweep re-applies it (reapplyStaleDeliveries).
      console.error(
        `webhook delivery ${delivery.id}: re-applying what waited for booking ${delivery.bookingExternalId} failed; left to the sweep`,
        error,
      );
    }
  }
  if (options.publish !== false) await publishDeliveryEvents(deps.db, appliedIds);
  return outcome;
}

/**
 * Re-applies the deferred deliveries (of any source) of one booking, including Stripe's that
 * name only one of its charges, oldest first, pass
 * after pass until a pass applies nothing more, so a chain resolves in any arrival order
 * (e.g. a resolution deferred behind its opening applies in the pass after the opening).
 * Records each outcome; does not publish (processDelivery does). Safe to call any time.
 */
export async function applyDeferredFor(
  deps: TWebhookDeps,
  bookingExternalId: string,
  options: {
    /** The caller has just seen that some may wait (recordOutcomeAndLookForWaiting): skip that look. */ knownWaiting?: boolean;
  } = {},
): Promise<{ applied: number; appliedIds: string[]; stillDeferred: number }> {
  const appliedIds: string[] = [];
  let stillDeferred = 0;
  // Most of the time nothing waits at all: one look (a superset of what is looked for below) saves four.
  const anyWaiting =
    options.knownWaiting === true ||
    (await deps.db.webhookEvent.findFirst({
      where: { status: "deferred", OR: [{ bookingExternalId }, { source: "stripe" }] },
      select: { id: true },
    })) !== null;
  if (!anyWaiting) return { applied: 0, appliedIds, stillDeferred };
  // Stripe's disputes and refunds name only a charge: also wake those about this booking's charges.
  const booking = await deps.db.booking.findUnique({
    where: { externalId: bookingExternalId },
    select: { stripeChargeId: true, stripePaymentIntentId: true, tips: { select: { stripeChargeId: true, stripePaymentIntentId: true } } },
  });
  // Charges Stripe described as this booking's (metadata.bookingId, transfer_group) that the booking does not name.
  const hinted = await deps.db.stripeCharge.findMany({
    where: { OR: [{ metadataBookingId: bookingExternalId }, { transferGroup: `booking_${bookingExternalId}` }] },
    select: { id: true },
  });
  const chargeIds = [booking?.stripeChargeId, ...(booking?.tips.map((t) => t.stripeChargeId) ?? []), ...hinted.map((c) => c.id)].filter(
    (id): id is string => !!id,
  );
  const intentIds = [booking?.stripePaymentIntentId, ...(booking?.tips.map((t) => t.stripePaymentIntentId) ?? [])].filter(
    (id): id is string => !!id,
  );
  const where = {
    OR: [
      { bookingExternalId, status: "deferred" as const },
      ...(chargeIds.length + intentIds.length > 0 ? [deferredStripeDeliveriesForCharges(chargeIds, intentIds)] : []),
    ],
  };
  for (let pass = 0; pass < MAX_DEFERRED_PASSES; pass++) {
    const waiting = await deps.db.webhookEvent.findMany({
      where,
      orderBy: [{ receivedAt: "asc" }, { id: "asc" }],
      take: DEFERRED_BATCH,
    });
    let progressed = 0;
    for (const delivery of waiting) {
      const { outcome } = await applyAndRecord(deps, delivery, { recheckDeferred: false });
      if (outcome.status === "deferred") continue;
      progressed += 1;
      if (outcome.status === "processed") appliedIds.push(delivery.id);
    }
    stillDeferred = waiting.length - progressed;
    if (progressed === 0) break;
  }
  return { applied: appliedIds.length, appliedIds, stillDeferred };
}

/**
 * Applies and records. A delivery found `deferred` is tried once more after it is marked:
 * what it waits for may have committed between the first look and the mark, after that
 * arrival's own re-apply pass had already looked for deferred deliveries. One of the two
 * always sees the other, so nothing stays deferred behind something that has arrived.
 */
async function applyAndRecord(
  deps: TWebhookDeps,
  delivery: WebhookEvent,
  options: { recheckDeferred: boolean },
): Promise<{
  outcome: TApplyOutcome;
  /** Whether deliveries of its booking may be waiting for it (when applied now). */ waiting: boolean;
}> {
  let outcome = await safeApply(deps, delivery);
  if (options.recheckDeferred && outcome.status === "processed" && delivery.bookingExternalId) {
    // The usual end of a delivery: its outcome and the look for what waited for it, in one round trip.
    const { waiting } = await recordOutcomeAndLookForWaiting(deps.db, delivery.id, outcome, delivery.bookingExternalId);
    return { outcome, waiting };
  }
  await recordOutcome(deps.db, delivery.id, outcome);
  if (options.recheckDeferred && outcome.status === "deferred") {
    const again = await safeApply(deps, delivery);
    if (again.status !== "deferred") {
      await recordOutcome(deps.db, delivery.id, again);
      outcome = again;
    }
  }
  return { outcome, waiting: true };
}

async function safeApply(deps: TWebhookDeps, delivery: WebhookEvent): Promise<TApplyOutcome> {
  try {
    return await applyDelivery(deps, delivery);
  } catch (error) {
    return outcomeOfError(error);
  }
}

/**
 * Sends the outbox events of the given deliveries (event id = delivery id), one at a time
 * so that concurrent publishers never lock two of the same rows in opposite orders. If
 * Inngest is unreachable they stay in the outbox and the reconciliation sweep sends them;
 * the deliveries are already stored and applied, so this never fails the request.
 */
export async function publishDeliveryEvents(db: PrismaClient, deliveryIds: readonly string[]): Promise<TPublishResult> {
  const total: TPublishResult = { sent: 0, failed: 0 };
  for (const id of deliveryIds) {
    try {
      const result = await publishOutbox(db, { eventIds: [id], send: sendWithDeadline });
      total.sent += result.sent;
      total.failed += result.failed;
      if (result.error) total.error = result.error;
      // Unreachable: the rest would fail the same way; the sweep sends them all.
      if (result.failed > 0) break;
    } catch (error) {
      console.error("webhook delivery: publishing its event failed; the sweep will send it", error);
      total.error = error instanceof Error ? error.message : String(error);
    }
  }
  return total;
}

type TOutboxMessage = { id: string; name: string; data: Record<string, unknown> };

/**
 * inngest.send, given up on after PUBLISH_DEADLINE_MS (a hanging Inngest must not hold the
 * sender's request open; the events stay unsent in the outbox for the sweep, and a send that
 * still lands later is deduplicated by its event id).
 */
export async function sendWithDeadline(events: TOutboxMessage[]): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Inngest did not accept the events within ${PUBLISH_DEADLINE_MS} ms`)), PUBLISH_DEADLINE_MS);
  });
  try {
    return await Promise.race([inngest.send(events), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
