import { adminRoute } from "@/lib/api/admin-route";
import { listAuditEntries } from "@/lib/audit/list-audit-entries";
import { AUDIT_PAGE_SIZE, ZAuditFilter } from "@/lib/audit/list-audit-filter";
import { db } from "@/lib/db";

export const dynamic = "force-dynamic";

/**
 * GET /api/admin/audit?actor=&action=&entityType=&entityId=&from=&to=&after=|before=
 * The audit log, newest first, keyset-paginated on (createdAt, id) (any role; entries about
 * dashboard accounts only for admins). A bad filter or page position answers 400.
 */
export const GET = adminRoute({ role: "viewer", query: ZAuditFilter }, ({ query, user }) =>
  listAuditEntries(db, query, AUDIT_PAGE_SIZE, user.role),
);
