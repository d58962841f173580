import { NextResponse } from "next/server";

import { uuidParam } from "@/lib/api/http-input";
import { withErrors } from "@/lib/api/respond";
import { requireApiUser } from "@/lib/auth/session";
import { db } from "@/lib/db";
import { NotFoundError } from "@/lib/errors";
import { getPayoutDetail } from "@/lib/payouts/get-payout-detail";

export const dynamic = "force-dynamic";

/** GET /api/admin/payouts/:id — the payout detail (any signed-in role), with the actions the caller's role allows. */
export const GET = withErrors(async (_request: Request, context: RouteContext<"/api/admin/payouts/[id]">) => {
  const user = await requireApiUser("viewer");
  const { id } = await context.params;
  const payoutId = uuidParam(id, "Payout");
  const detail = await getPayoutDetail(db, payoutId, user);
  if (!detail) throw new NotFoundError("Payout", payoutId);
  return NextResponse.json(detail, { headers: { "Cache-Control": "no-store" } });
});
