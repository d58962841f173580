import "server-only";

import type Stripe from "stripe";

import type { Prisma } from "@/generated/prisma/client";
import { processDelivery } from "@/lib/ingest/process-delivery";
import { classifyStripeError } from "@/lib/stripe/classify-error";
import { CONNECT_STRIPE_EVENTS, PLATFORM_STRIPE_EVENTS } from "@/lib/stripe-webhooks/relevant-events";
import { storeStripeEvent } from "@/lib/stripe-webhooks/store-stripe-event";
import type { TWebhookDeps } from "@/lib/webhooks/types";

// Stripe retries a webhook for three days, then gives up; its events API keeps every event for
// 30 days. The reconciliation sweep walks that list forward from the last event it saw, on the
// platform and on the connected accounts that matter, and applies any event we never received
// through the same path as a webhook: stored by its id (so one that arrives later by webhook is a
// duplicate, and one already received is skipped), then applied.

/** How far back the first walk looks (Stripe's webhook retries last three days). */
export const RECOVERY_LOOKBACK_MS = 3 * 24 * 60 * 60 * 1000;
/** Pages of 100 events per walk and run. */
const MAX_PAGES = 10;
/** Connected accounts walked per run, the least recently walked first. */
export const ACCOUNTS_PER_RUN = 20;
/** A provider matters while it had a payout in this window (or payouts held for its account). */
const ACTIVE_MS = 30 * 24 * 60 * 60 * 1000;

type TCursor = { lastEventId?: string; since?: number; walkedAt?: string };

export type TRecoveryResult = { walks: number; seen: number; recovered: number; errors: string[] };

const stateKey = (account: string | null) => `stripe_events:${account ?? "platform"}`;

async function readCursor(deps: TWebhookDeps, key: string): Promise<TCursor> {
  const row = await deps.db.systemState.findUnique({ where: { key } });
  return (row?.value ?? {}) as TCursor;
}

async function writeCursor(deps: TWebhookDeps, key: string, cursor: TCursor): Promise<void> {
  const value = cursor as Prisma.InputJsonObject;
  await deps.db.systemState.upsert({ where: { key }, create: { key, value }, update: { value } });
}

/** Stores and applies one listed event unless we have it already; true when it was new to us. */
async function recoverOne(deps: TWebhookDeps, event: Stripe.Event, account: string | null): Promise<boolean> {
  const { delivery, duplicate } = await storeStripeEvent(deps, { ...event, account: event.account ?? account });
  if (duplicate) return false;
  await processDelivery(deps, delivery, { publish: false });
  return true;
}

/** Walks one list (the platform's, or a connected account's) forward from its cursor. */
async function walk(
  deps: TWebhookDeps,
  stripe: Stripe,
  now: Date,
  account: string | null,
  types: readonly string[],
  result: TRecoveryResult,
) {
  const key = stateKey(account);
  const cursor = await readCursor(deps, key);
  const options = account ? { stripeAccount: account } : undefined;
  result.walks += 1;
  try {
    if (cursor.lastEventId) {
      let last = cursor.lastEventId;
      for (let page = 0; page < MAX_PAGES; page++) {
        // ending_before: the events just newer than `last`, newest first within the page.
        const list = await stripe.events.list({ types: [...types], ending_before: last, limit: 100 }, options);
        for (const event of [...list.data].reverse()) {
          result.seen += 1;
          if (await recoverOne(deps, event, account)) result.recovered += 1;
        }
        if (list.data[0]) last = list.data[0].id;
        if (!list.has_more) break;
      }
      await writeCursor(deps, key, { lastEventId: last, walkedAt: now.toISOString() });
      return;
    }
    const since = cursor.since ?? Math.floor((now.getTime() - RECOVERY_LOOKBACK_MS) / 1000);
    // Listed newest first: the oldest MAX_PAGES pages are kept and applied, oldest first; the
    // cursor then stands at the newest of them, and the next walks go on from there (a walk that
    // kept the newest ones would leave the older ones behind for good).
    let listed: Stripe.Event[] = [];
    for await (const event of stripe.events.list({ types: [...types], created: { gt: since }, limit: 100 }, options)) {
      listed.push(event);
      if (listed.length >= 2 * MAX_PAGES * 100) listed = listed.slice(-MAX_PAGES * 100);
    }
    listed = listed.slice(-MAX_PAGES * 100);
    for (const event of [...listed].reverse()) {
      result.seen += 1;
      if (await recoverOne(deps, event, account)) result.recovered += 1;
    }
    await writeCursor(
      deps,
      key,
      listed[0] ? { lastEventId: listed[0].id, walkedAt: now.toISOString() } : { since, walkedAt: now.toISOString() },
    );
  } catch (error) {
    const failure = classifyStripeError(error);
    if (cursor.lastEventId && failure.statusCode === 404) {
      // The last event seen is older than Stripe keeps: start again from the lookback window.
      await writeCursor(deps, key, { walkedAt: now.toISOString() });
    }
    result.errors.push(`${account ?? "platform"}: ${failure.message}`);
  }
}

/** The connected accounts to walk this run: providers with recent payouts or payouts held for their account, least recently walked first. */
async function accountsToWalk(deps: TWebhookDeps, now: Date): Promise<string[]> {
  const rows = await deps.db.$queryRaw<{ account: string }[]>`
    SELECT p."stripeAccountId" AS account
    FROM "Provider" p
    LEFT JOIN "SystemState" s ON s.key = 'stripe_events:' || p."stripeAccountId"
    WHERE p."stripeAccountId" IS NOT NULL
      AND EXISTS (
        SELECT 1 FROM "Payout" o WHERE o."providerId" = p.id
          AND (o."createdAt" >= ${new Date(now.getTime() - ACTIVE_MS)} OR (o.status = 'on_hold' AND o."holdReason" = 'provider_account_not_ready'))
      )
    ORDER BY s.value ->> 'walkedAt' ASC NULLS FIRST, p."stripeAccountId"
    LIMIT ${ACCOUNTS_PER_RUN}`;
  return rows.map((r) => r.account);
}

/** One recovery pass: the platform's events, then the connected accounts' (bounded per run). */
export async function recoverStripeEvents(deps: TWebhookDeps, options: { now?: Date } = {}): Promise<TRecoveryResult> {
  const now = options.now ?? deps.clock?.now() ?? new Date();
  const stripe = deps.stripe();
  const result: TRecoveryResult = { walks: 0, seen: 0, recovered: 0, errors: [] };
  await walk(deps, stripe, now, null, PLATFORM_STRIPE_EVENTS, result);
  for (const account of await accountsToWalk(deps, now)) await walk(deps, stripe, now, account, CONNECT_STRIPE_EVENTS, result);
  return result;
}
