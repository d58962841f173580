import { NextResponse } from "next/server";

import { withErrors } from "@/lib/api/respond";
import { requireApiUser } from "@/lib/auth/session";
import { db } from "@/lib/db";
import { listProviders } from "@/lib/providers/list-providers";
import { ZProviderFilter } from "@/lib/providers/list-providers-filter";

export const dynamic = "force-dynamic";

/** GET /api/admin/providers?q=&readiness=all|ready|not_ready&page=1: providers by name with totals (any role). */
export const GET = withErrors(async (request) => {
  await requireApiUser("viewer");
  const filter = ZProviderFilter.parse(Object.fromEntries(new URL(request.url).searchParams));
  return NextResponse.json(await listProviders(db, filter), { headers: { "Cache-Control": "no-store" } });
});
