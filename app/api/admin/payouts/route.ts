import { NextResponse } from "next/server";

import { withErrors } from "@/lib/api/respond";
import { requireApiUser } from "@/lib/auth/session";
import { db } from "@/lib/db";
import { listPayouts } from "@/lib/payouts/list-payouts";
import { parsePayoutListQuery } from "@/lib/payouts/payout-filter";

export const dynamic = "force-dynamic";

/**
 * GET /api/admin/payouts?status=on_hold&currency=EUR&…&after=<cursor>: one keyset page of
 * the payouts list (any signed-in role). The parameters are the page's URL parameters
 * (lib/payouts/payout-filter.ts); unknown or invalid ones answer 400.
 */
export const GET = withErrors(async (request) => {
  await requireApiUser("viewer");
  const parsed = parsePayoutListQuery(new URL(request.url).searchParams);
  if (!parsed.success) throw parsed.error;
  const started = performance.now();
  const page = await listPayouts(db, parsed.data);
  return NextResponse.json(page, {
    headers: { "Cache-Control": "no-store", "Server-Timing": `db;desc="list payouts";dur=${(performance.now() - started).toFixed(1)}` },
  });
});
