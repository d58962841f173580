import { NextResponse } from "next/server";

import { requireMutationUser } from "@/lib/api/guard";
import { readJsonBody } from "@/lib/api/http-input";
import { withErrors } from "@/lib/api/respond";
import { requireApiUser } from "@/lib/auth/session";
import { db } from "@/lib/db";
import { createAdminUser } from "@/lib/users/create-admin-user";
import { listUsers } from "@/lib/users/list-users";
import { ZCreateUser } from "@/lib/users/user-schemas";

export const dynamic = "force-dynamic";

/** GET /api/admin/users: every dashboard user (admin role). */
export const GET = withErrors(async () => {
  await requireApiUser("admin");
  return NextResponse.json(await listUsers(db), { headers: { "Cache-Control": "no-store" } });
});

/** POST /api/admin/users { email, name, role, password, reason? }: creates a user (admin role, same origin), audited. */
export const POST = withErrors(async (request) => {
  const admin = await requireMutationUser(request, "admin");
  const input = ZCreateUser.parse(await readJsonBody(request));
  const user = await createAdminUser(db, input, admin);
  return NextResponse.json({ user }, { status: 201, headers: { "Cache-Control": "no-store" } });
});
