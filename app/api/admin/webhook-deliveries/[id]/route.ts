import { NextResponse } from "next/server";

import { withErrors } from "@/lib/api/respond";
import { requireApiUser } from "@/lib/auth/session";
import { db } from "@/lib/db";
import { getDeliveryOrThrow, toDeliveryDetail } from "@/lib/webhooks/list-deliveries";

export const dynamic = "force-dynamic";

/** GET /api/admin/webhook-deliveries/:id: one stored delivery with its payload. Any signed-in role. */
export const GET = withErrors(async (_request, context: RouteContext<"/api/admin/webhook-deliveries/[id]">) => {
  await requireApiUser("viewer");
  const { id } = await context.params;
  return NextResponse.json(toDeliveryDetail(await getDeliveryOrThrow(db, id)), { headers: { "Cache-Control": "no-store" } });
});
