import { adminRoute, jsonAnswer } from "@/lib/api/admin-route";
import { db } from "@/lib/db";
import { createAdminUser } from "@/lib/users/create-admin-user";
import { listUsers } from "@/lib/users/list-users";
import { ZCreateUser } from "@/lib/users/user-schemas";

export const dynamic = "force-dynamic";

/** GET /api/admin/users: every dashboard user (admin role). */
export const GET = adminRoute({ role: "admin" }, () => listUsers(db));

/** POST /api/admin/users { email, name, role, password, reason? }: creates a user (admin role, same origin), audited. */
export const POST = adminRoute({ role: "admin", body: ZCreateUser }, async ({ body, user }) =>
  jsonAnswer({ user: await createAdminUser(db, body, user) }, { status: 201 }),
);
