import { NextResponse } from "next/server";

import { withErrors } from "@/lib/api/respond";
import { requireApiUser } from "@/lib/auth/session";
import { db } from "@/lib/db";
import { listDisputes } from "@/lib/disputes/list-disputes";
import { ZDisputeFilter } from "@/lib/disputes/list-disputes-filter";

export const dynamic = "force-dynamic";

/** GET /api/admin/disputes?status=all|open|resolved&page=1: open disputes first, with the payout each holds (any role). */
export const GET = withErrors(async (request) => {
  await requireApiUser("viewer");
  const filter = ZDisputeFilter.parse(Object.fromEntries(new URL(request.url).searchParams));
  return NextResponse.json(await listDisputes(db, filter), { headers: { "Cache-Control": "no-store" } });
});
