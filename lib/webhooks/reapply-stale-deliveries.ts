import "server-only";

import { BUSY_ERROR_CODE } from "@/lib/payouts/sync-payout-with-booking";

import { applyDeferredFor, processDelivery } from "./process-delivery";
import type { TWebhookDeps } from "./types";

/** A delivery untouched for this long was left behind (a crash, a timeout), not in flight. */
export const STALE_DELIVERY_MS = 5 * 60 * 1000;
/**
 * The sweep re-applies a failing delivery this many times in all; then it waits for a re-drive
 * (except one that failed on a busy payout).
 */
export const MAX_AUTO_APPLY_ATTEMPTS = 5;
/** Deferred deliveries whose booking has arrived are re-tried this many times (a lost wake-up). */
const MAX_DEFERRED_ATTEMPTS = 10;

export type TReapplyResult = { reapplied: number; processed: number; failed: number; deferred: number; unblocked: number };

/**
 * For the reconciliation sweep: re-applies deliveries that a crash or a transient error
 * left `received` or `failed` (bounded by MAX_AUTO_APPLY_ATTEMPTS), and re-checks deferred
 * deliveries whose booking exists by now. Events they cause are written to the outbox;
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
      // A delivery refused only because its payout was being transferred (payout_busy) is
      // re-applied until it goes through: a transfer always settles, and giving up would lose
      // the refund or resolution it carries.
      OR: [{ applyAttempts: { lt: MAX_AUTO_APPLY_ATTEMPTS } }, { status: "failed", error: { startsWith: `${BUSY_ERROR_CODE}:` } }],
    },
    orderBy: [{ receivedAt: "asc" }, { id: "asc" }],
    take: limit,
  });
  for (const delivery of stale) {
    const outcome = await processDelivery(deps, delivery, { publish: false });
    result.reapplied += 1;
    if (outcome.status === "processed") result.processed += 1;
    else if (outcome.status === "failed") result.failed += 1;
    else if (outcome.status === "deferred") result.deferred += 1;
  }

  const waiting = await deps.db.webhookEvent.findMany({
    where: { status: "deferred", receivedAt: { lte: cutoff }, applyAttempts: { lt: MAX_DEFERRED_ATTEMPTS }, bookingExternalId: { not: null } },
    select: { bookingExternalId: true },
    distinct: ["bookingExternalId"],
    take: limit,
  });
  const bookingIds = waiting.map((w) => w.bookingExternalId).filter((id): id is string => id !== null);
  if (bookingIds.length > 0) {
    const arrived = await deps.db.booking.findMany({ where: { externalId: { in: bookingIds } }, select: { externalId: true } });
    for (const booking of arrived) result.unblocked += (await applyDeferredFor(deps, booking.externalId)).applied;
  }
  return result;
}
