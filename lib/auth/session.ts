import "server-only";

import { redirect } from "next/navigation";
import { getServerSession } from "next-auth";
import { cache } from "react";

import { db } from "@/lib/db";
import { ForbiddenError, UnauthorizedError } from "@/lib/errors";

import { findActiveSession } from "./admin-sessions";
import { authOptions } from "./options";
import { hasRole, type TRole } from "./roles";

export type TCurrentUser = {
  id: string;
  email: string;
  name: string;
  role: TRole;
  /** The server-side session this request was made with (undefined for users not from a request). */
  sessionId?: string;
};

/**
 * The signed-in admin, checked against the server-side session on every request: the JWT's
 * session id must name a session that was not revoked (sign-out, sign-out everywhere, disable,
 * role or password change) or expired, of a user who is not disabled and whose session version
 * still matches. Null when there is no valid session.
 */
export const getCurrentUser = cache(async (): Promise<TCurrentUser | null> => {
  const session = await getServerSession(authOptions);
  if (!session?.user?.id) return null;
  const active = await findActiveSession(db, session.user.sessionId);
  if (!active || active.user.id !== session.user.id || active.user.sessionVersion !== session.user.sessionVersion) return null;
  const { id, email, name, role } = active.user;
  return { id, email, name, role, sessionId: active.id };
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
