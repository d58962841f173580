import { adminRoute, jsonAnswer } from "@/lib/api/admin-route";
import { db } from "@/lib/db";
import { createAdminUser } from "@/lib/users/create-admin-user";
import { listUsers } from "@/lib/users/list-users";
import { ZCreateUser } from "@/lib/users/user-schemas";

export const dynamic = "force-dynamic";

/** GET /api/admin/users: every dashboard user and the pending admin access requests (admin role). */
export const GET = adminRoute({ role: "admin" }, () => listUsers(db));

/**
 * POST /api/admin/users { email, name, role, password, reason? }: creates a user (admin role, same
 * origin), audited: 201 { outcome: "created", user }. An admin account while another admin is
 * active is four-eyes: 202 { outcome: "requested", request }, created when a second admin approves.
 */
export const POST = adminRoute({ role: "admin", body: ZCreateUser }, async ({ body, user }) => {
  const result = await createAdminUser(db, body, user);
  return jsonAnswer(result, { status: result.outcome === "created" ? 201 : 202 });
});
