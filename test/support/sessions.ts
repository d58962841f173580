// Signing in, for tests of route handlers and pages. next-auth's getServerSession is the one
// boundary replaced: each test file declares
//   vi.mock("next-auth", async (importOriginal) => ({ ...(await importOriginal<typeof import("next-auth")>()), getServerSession: vi.fn() }));
// (vi.mock is hoisted per file), and these helpers make the dashboard users and choose whose
// session the next requests carry. The users are real rows: requireApiUser reads them.
import { getServerSession } from "next-auth";
import { afterEach, beforeAll, vi } from "vitest";

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

/** The next requests carry this user's session (null: none). */
export function signInAs(user: Pick<TTestUser, "id" | "sessionVersion"> | null): void {
  vi.mocked(getServerSession).mockResolvedValue(
    user ? { user: { id: user.id, sessionVersion: user.sessionVersion }, expires: "2999-01-01" } : null,
  );
}
