import { adminRoute, jsonAnswer } from "@/lib/api/admin-route";
import { db } from "@/lib/db";
import { updateAdminUser } from "@/lib/users/update-admin-user";
import { ZUpdateUser } from "@/lib/users/user-schemas";

export const dynamic = "force-dynamic";

/**
 * PATCH /api/admin/users/[id] { role, reason } | { disabled, reason }: admin role, same
 * origin. Changes the role or disables / enables the user, ending their sessions; audited.
 * An admin cannot demote or disable themselves (403). Giving admin access while another
 * admin is active only records a request for a second admin: 202 { changed: false, request }.
 */
export const PATCH = adminRoute({ role: "admin", ids: { id: "User" }, body: ZUpdateUser }, async ({ ids, body, user }) => {
  const result = await updateAdminUser(db, { userId: ids.id, ...body }, user);
  return jsonAnswer(result, { status: result.request ? 202 : 200 });
});
