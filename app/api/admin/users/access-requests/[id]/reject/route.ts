import { adminRoute } from "@/lib/api/admin-route";
import { db } from "@/lib/db";
import { rejectAdminAccess } from "@/lib/users/reject-admin-access";
import { ZAdminAccessDecision } from "@/lib/users/user-schemas";

export const dynamic = "force-dynamic";

/**
 * POST /api/admin/users/access-requests/:id/reject `{ reason }`: an admin turns down a pending
 * admin access request (the requester withdrawing their own is recorded as withdrawn). Nothing is granted.
 */
export const POST = adminRoute({ role: "admin", ids: { id: "Admin access request" }, body: ZAdminAccessDecision }, ({ ids, body, user }) =>
  rejectAdminAccess(db, { requestId: ids.id, reason: body.reason }, user),
);
