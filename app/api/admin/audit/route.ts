import { NextResponse } from "next/server";

import { withErrors } from "@/lib/api/respond";
import { listAuditEntries } from "@/lib/audit/list-audit-entries";
import { AUDIT_PAGE_SIZE, ZAuditFilter } from "@/lib/audit/list-audit-filter";
import { requireApiUser } from "@/lib/auth/session";
import { db } from "@/lib/db";

export const dynamic = "force-dynamic";

/**
 * GET /api/admin/audit?actor=&action=&entityType=&entityId=&from=&to=&after=|before=
 * The audit log, newest first, keyset-paginated on (createdAt, id) (any role; entries about
 * dashboard accounts only for admins). A bad filter or page position answers 400.
 */
export const GET = withErrors(async (request) => {
  const user = await requireApiUser("viewer");
  const filter = ZAuditFilter.parse(Object.fromEntries(new URL(request.url).searchParams));
  return NextResponse.json(await listAuditEntries(db, filter, AUDIT_PAGE_SIZE, user.role), { headers: { "Cache-Control": "no-store" } });
});
