import "server-only";

import { redirect } from "next/navigation";
import { getServerSession } from "next-auth";
import { cache } from "react";

import { db } from "@/lib/db";
import { ForbiddenError, UnauthorizedError } from "@/lib/errors";

import { authOptions } from "./options";
import { hasRole, type TRole } from "./roles";

export type TCurrentUser = { id: string; email: string; name: string; role: TRole };

/**
 * The signed-in admin, re-read from the database on every request so that a disabled
 * user, a role change or a bumped session version takes effect at once. Null when
 * there is no valid session.
 */
export const getCurrentUser = cache(async (): Promise<TCurrentUser | null> => {
  const session = await getServerSession(authOptions);
  const id = session?.user?.id;
  if (!id) return null;
  const user = await db.adminUser.findUnique({
    where: { id },
    select: { id: true, email: true, name: true, role: true, disabledAt: true, sessionVersion: true },
  });
  if (!user || user.disabledAt || user.sessionVersion !== session.user.sessionVersion) return null;
  return { id: user.id, email: user.email, name: user.name, role: user.role };
});

/** For pages: redirects to the login page without a session, and to the overview without the role. */
export async function requirePageUser(required: TRole = "viewer"): Promise<TCurrentUser> {
  const user = await getCurrentUser();
  if (!user) redirect("/login");
  if (!hasRole(user.role, required)) redirect("/");
  return user;
}

/** For route handlers and server actions: throws 401 without a session, 403 without the role. */
export async function requireApiUser(required: TRole = "viewer"): Promise<TCurrentUser> {
  const user = await getCurrentUser();
  if (!user) throw new UnauthorizedError();
  if (!hasRole(user.role, required)) throw new ForbiddenError(`This action needs the ${required} role.`);
  return user;
}
