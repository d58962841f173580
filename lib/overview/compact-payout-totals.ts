import "server-only";

import type { Db } from "@/lib/db";

/**
 * Past this many delta rows, the overview compacts the totals right after reading them (the sweep
 * does every 15 minutes anyway): summing them stays a few milliseconds between two sweeps,
 * whatever the write rate.
 */
export const COMPACT_ON_READ_ROWS = 10_000;

export type TCompactResult = {
  /** False when another compaction held the lock: it folds what this one would have. */
  compacted: boolean;
  /** Delta rows before and after (one per status and currency with payouts). */
  rowsBefore: number;
  rowsAfter: number;
};

/**
 * Folds the kept payout totals (PayoutTotalDelta, appended by triggers on Payout) into one row
 * per status and currency, in one statement: the rows it deletes and their sums become visible in
 * the same commit, so every reader sees the same totals before and after. Rows that concurrent
 * transactions append meanwhile are not in its snapshot and stay as they are. Compactions run one
 * at a time (a second one skips); payout writes never wait for one.
 */
export async function compactPayoutTotals(db: Db): Promise<TCompactResult> {
  return db.$transaction(async (tx) => {
    const [lock] = await tx.$queryRaw<{ locked: boolean }[]>`
      SELECT pg_try_advisory_xact_lock(hashtextextended('payout-totals-compaction', 0)) AS "locked"`;
    if (!lock?.locked) return { compacted: false, rowsBefore: 0, rowsAfter: 0 };
    const [result] = await tx.$queryRaw<{ before: bigint; after: bigint }[]>`
      WITH "gone" AS (
        DELETE FROM "PayoutTotalDelta" RETURNING "status", "currency", "count", "amount"
      ), "kept" AS (
        INSERT INTO "PayoutTotalDelta" ("status", "currency", "count", "amount")
        SELECT "status", "currency", SUM("count"), SUM("amount") FROM "gone" GROUP BY "status", "currency"
        HAVING SUM("count") <> 0 OR SUM("amount") <> 0
        RETURNING 1
      )
      SELECT (SELECT COUNT(*) FROM "gone") AS "before", (SELECT COUNT(*) FROM "kept") AS "after"`;
    return { compacted: true, rowsBefore: Number(result?.before ?? 0), rowsAfter: Number(result?.after ?? 0) };
  });
}
