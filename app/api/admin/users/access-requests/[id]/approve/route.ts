import { adminRoute } from "@/lib/api/admin-route";
import { db } from "@/lib/db";
import { approveAdminAccess } from "@/lib/users/approve-admin-access";
import { ZAdminAccessDecision } from "@/lib/users/user-schemas";

export const dynamic = "force-dynamic";

/**
 * POST /api/admin/users/access-requests/:id/approve `{ reason }`: a second, independent admin
 * approves a pending admin access request, and the account is created, promoted or enabled.
 * The requester, an admin who became one since the request, or one linked to the requester by
 * an earlier grant gets 403; a request whose requester or account changed since expires (409).
 */
export const POST = adminRoute({ role: "admin", ids: { id: "Admin access request" }, body: ZAdminAccessDecision }, ({ ids, body, user }) =>
  approveAdminAccess(db, { requestId: ids.id, reason: body.reason }, user),
);
