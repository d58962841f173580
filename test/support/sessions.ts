// Signing in, for tests of route handlers and pages. next-auth's getServerSession is the one
// boundary replaced: each test file declares
//   vi.mock("next-auth", async (importOriginal) => ({ ...(await importOriginal<typeof import("next-auth")>()), getServerSession: vi.fn() }));
// (vi.mock is hoisted per file), and these helpers make the dashboard users and choose whose
// session the next requests carry. The users and their server-side sessions are real rows:
// requireApiUser reads them. (test/integration/security/ signs in through next-auth itself and
// decodes the real cookie instead.)
import { getServerSession } from "next-auth";
import { afterEach, beforeAll, vi } from "vitest";

import { createAdminSession } from "@/lib/auth/admin-sessions";
import { db } from "@/lib/db";

export type TRole = "viewer" | "operator" | "admin";
export type TTestUser = { id: string; email: string; name: string; role: TRole; sessionVersion: number };

/** Makes one user per role before the file's tests (emails tagged with `tag`) and signs out after each test. */
export function dashboardUsers(tag: string): Record<TRole, TTestUser> {
  const users = {} as Record<TRole, TTestUser>;
  beforeAll(async () => {
    for (const role of ["viewer", "operator", "admin"] as const) {
      const u = await db.adminUser.create({
        data: { email: `${role}-${tag}@example.test`, name: `${role} ${tag}`, role, passwordHash: "x" },
      });
      users[role] = { id: u.id, email: u.email, name: u.name, role, sessionVersion: u.sessionVersion };
    }
  });
  afterEach(() => vi.mocked(getServerSession).mockReset());
  return users;
}

/** A session as getServerSession returns it, backed by a real AdminSession row (as sign-in makes one). */
export async function serverSession(user: Pick<TTestUser, "id" | "sessionVersion">) {
  const sessionId = await createAdminSession(db, user.id, { userAgent: "vitest", address: "direct" }, new Date());
  return { user: { id: user.id, sessionVersion: user.sessionVersion, sessionId }, expires: "2999-01-01" };
}

/** The next requests carry this user's session (null: none); the session row is made on first use. */
export function signInAs(user: Pick<TTestUser, "id" | "sessionVersion"> | null): void {
  if (!user) {
    vi.mocked(getServerSession).mockResolvedValue(null);
    return;
  }
  let session: ReturnType<typeof serverSession> | undefined;
  vi.mocked(getServerSession).mockImplementation(() => (session ??= serverSession(user)));
}
