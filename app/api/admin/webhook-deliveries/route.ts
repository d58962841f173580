import { NextResponse } from "next/server";

import { withErrors } from "@/lib/api/respond";
import { requireApiUser } from "@/lib/auth/session";
import { db } from "@/lib/db";
import { listDeliveries } from "@/lib/webhooks/list-deliveries";
import { ZDeliveryFilter } from "@/lib/webhooks/list-deliveries-filter";

export const dynamic = "force-dynamic";

/**
 * GET /api/admin/webhook-deliveries?status=&source=&type=&booking=&limit=&cursor=
 * Stored inbound deliveries (booking platform and Stripe), newest first, with their status
 * and error; `nextCursor` fetches the next page. Any signed-in role.
 */
export const GET = withErrors(async (request) => {
  await requireApiUser("viewer");
  // Empty parameters (an unset filter in a form) mean "no filter".
  const params = [...new URL(request.url).searchParams].filter(([, value]) => value !== "");
  const filter = ZDeliveryFilter.parse(Object.fromEntries(params));
  return NextResponse.json(await listDeliveries(db, filter), { headers: { "Cache-Control": "no-store" } });
});
