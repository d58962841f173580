import "server-only";

import type { AsyncResource } from "node:async_hooks";

import type { Payout } from "@/generated/prisma/client";
import type { Tx } from "@/lib/db";
import { aroundAll, type TGatherer } from "@/lib/gathered-rows";
import { outboxRows } from "@/lib/outbox/enqueue-event";
import { GO_ALONE } from "@/lib/together";

// What the engine's batches (claimTransfers, recordTransferOutcomes, refreshPayouts; lib/together.ts)
// share once they hold their locks: the members' own work, done as alone, one member at a time.

/** A batch's payout ids; a payout twice is refused (its second member would read before the first's writes). */
export function distinctPayoutIds(payoutIds: readonly string[], batch: string): readonly string[] {
  if (new Set(payoutIds).size !== payoutIds.length) throw new Error(`${batch}: one payout twice.`);
  return payoutIds;
}

/**
 * The indexes of the payouts given (undefined: left out) in the order a batch does their work in:
 * by provider and currency, and in the order given within them. A provider's debts are locked by
 * the work of its payouts, so two batches of payouts of the same providers take them in one order
 * and cannot deadlock.
 */
export function inProviderOrder(payouts: readonly (Pick<Payout, "providerId" | "currency"> | undefined)[]): number[] {
  return payouts
    .flatMap((p, i) => (p ? [{ i, key: `${p.providerId}\u0000${p.currency}` }] : []))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.i - b.i))
    .map((x) => x.i);
}

/**
 * Each member's work (`work(i)`) in the batch's transaction, in `order` (the members it locked,
 * inProviderOrder), in the member's caller's async context (`scopes[i]`: its events, webhooks and
 * alerts are its caller's to send after commit), their outbox rows, and the rows of the kinds
 * `gathered`, written together before the commit (lib/gathered-rows.ts), a statement per kind.
 * GO_ALONE for the `count` members not in `order`.
 */
export async function workEachMember<R>(
  tx: Tx,
  count: number,
  order: readonly number[],
  scopes: readonly AsyncResource[],
  work: (i: number) => Promise<R>,
  gathered: readonly TGatherer[] = [],
): Promise<(R | typeof GO_ALONE)[]> {
  const results: (R | typeof GO_ALONE)[] = Array.from({ length: count }, () => GO_ALONE);
  await aroundAll(tx, [outboxRows, ...gathered], async () => {
    for (const i of order) results[i] = await scopes[i]!.runInAsyncScope(() => work(i));
  });
  return results;
}
