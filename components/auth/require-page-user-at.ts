import "server-only";

import { redirect } from "next/navigation";

import type { TRole } from "@/lib/auth/roles";
import { getCurrentUser, requirePageUser, type TCurrentUser } from "@/lib/auth/session";

import { loginUrlFor } from "./login-helpers";

/**
 * requirePageUser for a page that knows where it is: without a session the login page is asked
 * to come back to `path` (a payout link opened while signed out lands on the payout, not on the
 * Overview). Without the role, as requirePageUser.
 */
export async function requirePageUserAt(path: string, required: TRole = "viewer"): Promise<TCurrentUser> {
  if (!(await getCurrentUser())) redirect(loginUrlFor(path));
  return requirePageUser(required);
}
