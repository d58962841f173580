import "server-only";

import type { TResolvedContext } from "@/lib/context";

import { refreshPayout } from "./refresh-payout";

/**
 * Tips accepted while a transfer was in flight join the payout when its outcome is recorded; if
 * that was missed (the payout was settled some other way), they are joined here, or paid with a
 * top-up, once the payout is no longer processing.
 */
export async function settleWaitingTips(ctx: TResolvedContext, limit: number): Promise<number> {
  const waiting = await ctx.db.tip.findMany({
    where: { status: "accepted", payoutId: null, booking: { payout: { is: { status: { not: "processing" } } } } },
    select: { bookingId: true },
    distinct: ["bookingId"],
    take: limit,
  });
  let settled = 0;
  for (const { bookingId } of waiting) {
    try {
      await refreshPayout(ctx, { bookingId });
      if ((await ctx.db.tip.count({ where: { bookingId, status: "accepted", payoutId: null } })) === 0) settled += 1;
    } catch (error) {
      console.error(`sweep: could not settle the waiting tips of booking ${bookingId}`, error);
    }
  }
  return settled;
}
