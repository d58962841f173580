"use server";

// A server action (Next.js checks its Origin against the host): the user menu's "Sign out
// everywhere" revokes every session of the signed-in user, this one included, then signs out.
import { db } from "@/lib/db";

import { revokeAllSessions } from "./admin-sessions";
import { requireApiUser } from "./session";

/** Ends all of the signed-in user's sessions on the server. Returns how many ended. */
export async function signOutEverywhere(): Promise<{ revoked: number }> {
  const user = await requireApiUser("viewer");
  return { revoked: await revokeAllSessions(db, user.id, "sign_out_everywhere") };
}
