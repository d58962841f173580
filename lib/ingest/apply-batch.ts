import "server-only";

import { randomUUID } from "node:crypto";

import { Prisma, type WebhookEvent } from "@/generated/prisma/client";
import type { TServiceContext } from "@/lib/context";
import { sqlRows } from "@/lib/direct-sql";
import { publishAfterWork } from "@/lib/outbox/after-commit";
import { BOOKING_PLATFORM_ACTOR } from "@/lib/webhooks/apply-booking-delivery";
import { parseBookingWebhook, type TBookingWebhook } from "@/lib/webhooks/booking-webhook-schema";
import { recordNewCompletedBookings, type TCompletedDelivery } from "@/lib/webhooks/record-new-completed-bookings";
import { recordPlainTips, type TTipDelivery } from "@/lib/webhooks/record-plain-tips";
import type { TWebhookDeps } from "@/lib/webhooks/types";

import {
  abandonLanes,
  acquireLanes,
  bookingLaneKey,
  bookingOfLane,
  drainHeldLane,
  LANE_RENEW_MS,
  laneKeyOf,
  lookAgainAtLanes,
  releaseLanes,
  renewLanes,
} from "./apply-in-order";
import { applyDeferredFor, sendWithDeadline } from "./process-delivery";

/** What one batch came to (for tests and the benchmark). */
export type TBatchResult = {
  /** Deliveries recorded by the set-based path, in one transaction. */
  together: string[];
  /** Deliveries applied one at a time in their lanes (all the others the batch's lanes held). */
  oneByOne: string[];
  /** Lanes another server held: it applies what is in them. */
  heldElsewhere: number;
};

/**
 * Applies just-stored booking deliveries of many bookings at once. Their lanes are taken in one
 * statement (a lane held elsewhere is marked dirty and left to its holder, as in applyInOrder);
 * in each lane taken, the oldest received delivery, when it completes a booking first heard of
 * or is a tip that joins a scheduled payout, is recorded with the others like it in one
 * transaction per kind (recordNewCompletedBookings, recordPlainTips); the lanes with nothing else
 * to do are let go in one statement; every other lane (more deliveries, one the set-based paths
 * left, deferred deliveries that waited for the booking, a lane marked dirty meanwhile) is
 * applied one delivery at a time by drainHeldLane, exactly as a lone delivery's lane, in arrival
 * order. Then the Inngest events of what was recorded together are sent in one request.
 * Throws when the database fails (the lanes are let go first: the caller tries again, and what
 * a retry finds applied is no longer `received`; what it recorded together is carried over).
 */
export async function applyBatch(
  deps: TWebhookDeps,
  deliveries: readonly WebhookEvent[],
  /** What an earlier try of the same batch recorded together before it failed (applyBatchWithRetries passes it on). */
  carried: TBatchCarry = newBatchCarry(),
): Promise<TBatchResult> {
  const result: TBatchResult = { together: [], oneByOne: [], heldElsewhere: 0 };
  const keys = [...new Set(deliveries.map(laneKeyOf))];
  const given = new Map(deliveries.map((d) => [d.id, d]));
  const token = randomUUID();
  const held = await acquireLanes(deps.db, keys, token);
  result.heldElsewhere = keys.length - held.size;
  if (held.size === 0 && carried.published.length === 0) return result;
  const pending = new Set(held);
  // Every lane still held keeps its lease while the batch works on the others (a lane drained
  // late must not run out meanwhile); one taken over after all is left to its new holder.
  const renewal = setInterval(() => {
    const keysNow = [...pending];
    renewLanes(deps.db, keysNow, token).then(
      (kept) => {
        for (const key of keysNow) if (!kept.has(key)) pending.delete(key);
      },
      (error: unknown) => console.error("ingest: renewing a batch's lanes failed", error),
    );
  }, LANE_RENEW_MS);
  renewal.unref();
  try {
    const ctx = { db: deps.db, actor: BOOKING_PLATFORM_ACTOR, clock: deps.clock, requestId: null };
    // The order each lane's oldest delivery arrived in (a set keeps its insertion order): what is left is drained in it.
    const arrival = new Set<string>();
    // Lanes seen with nothing received left in them (to let go).
    const clear = new Set<string>();
    let waiting = new Set<string>();
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      // Rounds: each lane's oldest received delivery, recorded together when plain, until a round
      // records nothing (a tip behind its booking's completion goes in the round after it).
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const open = [...pending].filter((key) => !clear.has(key));
        if (open.length === 0) break;
        const lanes = await receivedByLane(deps, open, given);
        for (const key of lanes.keys()) arrival.add(key);
        for (const key of open) if (!lanes.has(key)) clear.add(key);
        const recorded = new Set(await recordTogether(ctx, lanes));
        if (recorded.size === 0) break;
        for (const [key, inLane] of lanes) {
          for (const d of inLane) if (recorded.has(d.id)) carried.bookings.add(d.bookingExternalId!);
          if (inLane.length === 1 && recorded.has(inLane[0]!.id)) clear.add(key);
        }
        result.together.push(...recorded);
        carried.published.push(...recorded);
      }
      // What waits for the bookings recorded together (those of an earlier try too: it failed after
      // its commit), looked for after the commits; the clear lanes nothing waits for are let go
      // together, and one marked dirty meanwhile (a delivery arrived for it) is looked at again.
      waiting = await deferredWaitingFor(deps, [...carried.bookings]);
      const letGo = [...clear].filter((key) => pending.has(key) && !waiting.has(bookingOfLane(key)));
      const released = await releaseLanes(deps.db, letGo, token);
      for (const key of released) pending.delete(key);
      const dirty = letGo.filter((key) => !released.has(key));
      if (dirty.length === 0) break;
      const kept = await lookAgainAtLanes(deps.db, dirty, token);
      for (const key of dirty) {
        clear.delete(key);
        if (!kept.has(key)) pending.delete(key); // taken over
      }
    }

    // Deliveries that waited for a booking recorded together, in its lane when the batch holds it.
    for (const bookingId of [...waiting].sort()) {
      const key = bookingLaneKey(bookingId);
      if (held.has(key) && !pending.has(key)) continue; // taken over
      carried.published.push(...(await applyDeferredFor(deps, bookingId, { knownWaiting: true })).appliedIds);
    }
    // In arrival order (of each lane's oldest delivery): deliveries the set-based path left are applied as they came.
    const drainOrder = [...new Set([...arrival, ...[...pending].sort()])];
    for (const key of drainOrder) {
      if (!pending.has(key)) continue; // taken over meanwhile (renewal): its new holder applies it
      const lane = await drainHeldLane(deps, key, token, { confirmHeld: true });
      pending.delete(key);
      result.oneByOne.push(...lane.applied);
    }
    const published = carried.published;
    if (published.length > 0) {
      await publishAfterWork(
        deps.db,
        { eventIds: published, limit: published.length, send: sendWithDeadline },
        "a batch of webhook deliveries",
      );
    }
    return result;
  } catch (error) {
    await abandonLanes(deps.db, [...pending], token).catch(() => undefined);
    throw error;
  } finally {
    clearInterval(renewal);
  }
}

/**
 * What a batch recorded together, kept across its tries: a try that fails after its commit (the
 * look for waiting deliveries, letting go, a drain) leaves those deliveries `processed`, so the
 * next try would not see them; it still wakes what waits for their bookings and sends their events.
 */
export type TBatchCarry = { bookings: Set<string>; published: string[] };

export function newBatchCarry(): TBatchCarry {
  return { bookings: new Set(), published: [] };
}

/** Set-based passes over a batch's lanes (a lane marked dirty while the batch held it is looked at again). */
const MAX_PASSES = 4;
/** Set-based rounds in a pass (a lane's deliveries one per round: a completion, then its tip). */
const MAX_ROUNDS = 4;

/**
 * The received deliveries of the lanes, oldest first, by lane (in the order their oldest arrived).
 * Which are received is read each time; a delivery the batch was given is not read again (a
 * delivery's payload never changes once stored), only the others (another server's, an older one).
 */
async function receivedByLane(
  deps: TWebhookDeps,
  keys: readonly string[],
  given: ReadonlyMap<string, WebhookEvent>,
): Promise<Map<string, WebhookEvent[]>> {
  const wanted = new Set(keys);
  const ids = await deps.db.webhookEvent.findMany({
    where: { status: "received", bookingExternalId: { in: keys.map(bookingOfLane) } },
    orderBy: [{ receivedAt: "asc" }, { id: "asc" }],
    select: { id: true },
  });
  const unknown = ids.filter(({ id }) => !given.has(id)).map(({ id }) => id);
  const read =
    unknown.length === 0
      ? new Map<string, WebhookEvent>()
      : new Map((await deps.db.webhookEvent.findMany({ where: { id: { in: unknown } } })).map((d) => [d.id, d]));
  // Deliveries are never deleted: each id read is in one of the two.
  const received = ids.map(({ id }) => given.get(id) ?? read.get(id)!);
  const lanes = new Map<string, WebhookEvent[]>();
  for (const d of received) {
    const key = laneKeyOf(d);
    if (wanted.has(key)) lanes.set(key, [...(lanes.get(key) ?? []), d]);
  }
  return lanes;
}

/**
 * Each lane's oldest delivery, when it is a completion or a tip: those of the plain case recorded
 * together, one transaction per kind. The ids recorded; a failure records nothing of its kind
 * (one transaction), and those lanes are applied one at a time.
 */
async function recordTogether(ctx: TServiceContext, lanes: ReadonlyMap<string, readonly WebhookEvent[]>): Promise<string[]> {
  const completions: TCompletedDelivery[] = [];
  const tips: TTipDelivery[] = [];
  for (const [, inLane] of lanes) {
    const first = parsedOf(inLane[0]!);
    if (first?.event.type === "booking.completed") completions.push(first as TCompletedDelivery);
    else if (first?.event.type === "tip.created") tips.push(first as TTipDelivery);
  }
  const recorded: string[] = [];
  try {
    recorded.push(...(await recordNewCompletedBookings(ctx, completions)).applied);
  } catch (error) {
    console.error(`webhook deliveries: recording ${completions.length} completions together failed; applying them one at a time`, error);
  }
  try {
    recorded.push(...(await recordPlainTips(ctx, tips)).applied);
  } catch (error) {
    console.error(`webhook deliveries: recording ${tips.length} tips together failed; applying them one at a time`, error);
  }
  return recorded;
}

/** The delivery and its event, when the set-based paths may record it (the booking platform's, a payload that parses), else null. */
function parsedOf(delivery: WebhookEvent): { delivery: WebhookEvent; event: TBookingWebhook } | null {
  if (delivery.source !== "booking_platform") return null;
  const known = parsed.get(delivery);
  if (known !== undefined) return known;
  let result: { delivery: WebhookEvent; event: TBookingWebhook } | null;
  try {
    result = { delivery, event: parseBookingWebhook(delivery.payload) };
  } catch {
    result = null;
  }
  parsed.set(delivery, result);
  return result;
}

/** Each delivery's payload parsed once (a batch looks at a lane's oldest delivery in every round). */
const parsed = new WeakMap<WebhookEvent, { delivery: WebhookEvent; event: TBookingWebhook } | null>();

/**
 * The bookings for which deliveries wait (deferred) that their arrival could wake, looked for after
 * the commit as recordOutcomeAndLookForWaiting does for one delivery: a deferred delivery of the
 * booking, or any of Stripe's (they may name only one of its charges: then all of them).
 */
async function deferredWaitingFor(deps: TWebhookDeps, bookingIds: readonly string[]): Promise<Set<string>> {
  if (bookingIds.length === 0) return new Set();
  const rows = await sqlRows<{ bookingExternalId: string | null; anyStripe: boolean }[]>(
    deps.db,
    Prisma.sql`
    SELECT DISTINCT "bookingExternalId", false AS "anyStripe" FROM "WebhookEvent"
    WHERE "status" = 'deferred' AND "bookingExternalId" = ANY(${[...bookingIds]}::text[])
    UNION ALL
    SELECT NULL, true WHERE EXISTS (SELECT 1 FROM "WebhookEvent" WHERE "status" = 'deferred' AND "source" = 'stripe')`,
  );
  if (rows.some((r) => r.anyStripe)) return new Set(bookingIds);
  return new Set(rows.flatMap((r) => (r.bookingExternalId ? [r.bookingExternalId] : [])));
}
