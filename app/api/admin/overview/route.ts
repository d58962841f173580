import { NextResponse } from "next/server";

import { withErrors } from "@/lib/api/respond";
import { requireApiUser } from "@/lib/auth/session";
import { db } from "@/lib/db";
import { getOverview } from "@/lib/overview/get-overview";

export const dynamic = "force-dynamic";

/** GET /api/admin/overview: the dashboard overview as JSON (any signed-in role). */
export const GET = withErrors(async () => {
  await requireApiUser("viewer");
  const overview = await getOverview(db, new Date());
  return NextResponse.json(overview, { headers: { "Cache-Control": "no-store" } });
});
