import { adminRoute, jsonAnswer, parsedOrThrow } from "@/lib/api/admin-route";
import { db } from "@/lib/db";
import { listPayouts } from "@/lib/payouts/list-payouts";
import { parsePayoutListQuery } from "@/lib/payouts/payout-filter";

export const dynamic = "force-dynamic";

/**
 * GET /api/admin/payouts?status=on_hold&currency=EUR&…&after=<cursor>: one keyset page of
 * the payouts list (any signed-in role). The parameters are the page's URL parameters
 * (lib/payouts/payout-filter.ts); unknown or invalid ones answer 400.
 */
export const GET = adminRoute({ role: "viewer", query: (search) => parsedOrThrow(parsePayoutListQuery(search)) }, async ({ query }) => {
  const started = performance.now();
  const page = await listPayouts(db, query);
  return jsonAnswer(page, { headers: { "Server-Timing": `db;desc="list payouts";dur=${(performance.now() - started).toFixed(1)}` } });
});
