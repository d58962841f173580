import { NextResponse } from "next/server";

import { withErrors } from "@/lib/api/respond";
import { listAuditEntries } from "@/lib/audit/list-audit-entries";
import { ZAuditFilter } from "@/lib/audit/list-audit-filter";
import { requireApiUser } from "@/lib/auth/session";
import { db } from "@/lib/db";

export const dynamic = "force-dynamic";

/**
 * GET /api/admin/audit?actor=&action=&entityType=&entityId=&from=&to=&after=|before=
 * The audit log, newest first, keyset-paginated on (createdAt, id) (any role).
 */
export const GET = withErrors(async (request) => {
  await requireApiUser("viewer");
  const filter = ZAuditFilter.parse(Object.fromEntries(new URL(request.url).searchParams));
  return NextResponse.json(await listAuditEntries(db, filter), { headers: { "Cache-Control": "no-store" } });
});
