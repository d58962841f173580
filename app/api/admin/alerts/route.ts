import { NextResponse } from "next/server";

import { listAlerts } from "@/lib/alerts/list-alerts";
import { ZAlertFilter } from "@/lib/alerts/list-alerts-filter";
import { withErrors } from "@/lib/api/respond";
import { requireApiUser } from "@/lib/auth/session";
import { db } from "@/lib/db";

export const dynamic = "force-dynamic";

/** GET /api/admin/alerts?state=all|open|acknowledged&page=1: open alerts first (any role). */
export const GET = withErrors(async (request) => {
  await requireApiUser("viewer");
  const filter = ZAlertFilter.parse(Object.fromEntries(new URL(request.url).searchParams));
  return NextResponse.json(await listAlerts(db, filter), { headers: { "Cache-Control": "no-store" } });
});
