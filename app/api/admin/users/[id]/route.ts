import { adminRoute } from "@/lib/api/admin-route";
import { db } from "@/lib/db";
import { updateAdminUser } from "@/lib/users/update-admin-user";
import { ZUpdateUser } from "@/lib/users/user-schemas";

export const dynamic = "force-dynamic";

/**
 * PATCH /api/admin/users/[id] { role, reason } | { disabled, reason }: admin role, same
 * origin. Changes the role or disables / enables the user, ending their sessions; audited.
 * An admin cannot demote or disable themselves (403).
 */
export const PATCH = adminRoute({ role: "admin", ids: { id: "User" }, body: ZUpdateUser }, ({ ids, body, user }) =>
  updateAdminUser(db, { userId: ids.id, ...body }, user),
);
