import { NextResponse } from "next/server";
import { z } from "zod";

import { requireMutationUser } from "@/lib/api/guard";
import { readJsonBody } from "@/lib/api/http-input";
import { withErrors } from "@/lib/api/respond";
import { db } from "@/lib/db";
import { updateAdminUser } from "@/lib/users/update-admin-user";
import { ZUpdateUser } from "@/lib/users/user-schemas";

export const dynamic = "force-dynamic";

const ZParams = z.object({ id: z.uuid("Not a user id.") }).strict();

/**
 * PATCH /api/admin/users/[id] { role, reason } | { disabled, reason }: admin role, same
 * origin. Changes the role or disables / enables the user, ending their sessions; audited.
 * An admin cannot demote or disable themselves (403).
 */
export const PATCH = withErrors(async (request, context: RouteContext<"/api/admin/users/[id]">) => {
  const admin = await requireMutationUser(request, "admin");
  const { id } = ZParams.parse(await context.params);
  const change = ZUpdateUser.parse(await readJsonBody(request));
  const result = await updateAdminUser(db, { userId: id, ...change }, admin);
  return NextResponse.json(result, { headers: { "Cache-Control": "no-store" } });
});
