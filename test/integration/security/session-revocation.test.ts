// Sessions end on the server. Each test signs in for real through next-auth's credentials
// callback, copies the session cookie, ends the session (sign-out, sign-out everywhere from
// another browser, disable, role change, password change), and then replays the copied cookie:
// an admin API answers 401 (reading and acting: holding a payout), and a page redirects to the
// login page. The one thing replaced is where getServerSession reads cookies from (next/headers
// inside a request): it decodes the copied cookie itself.
import { PrismaPg } from "@prisma/adapter-pg";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { PrismaClient } from "@/generated/prisma/client";
import { createAdminSession, findActiveSession } from "@/lib/auth/admin-sessions";
import { hashPassword } from "@/lib/auth/password";
import { db } from "@/lib/db";

import { requestWithCookie, signInThroughNextAuth, signOutThroughNextAuth } from "./next-auth-client";
import { createPayout } from "../../support/factories";

vi.mock("next-auth", async (importOriginal) => ({ ...(await importOriginal<typeof import("next-auth")>()), getServerSession: vi.fn() }));

const actual = await vi.importActual<typeof import("next-auth")>("next-auth");
const { getServerSession } = await import("next-auth");
const { authOptions } = await import("@/lib/auth/options");
const { requirePageUser } = await import("@/lib/auth/session");
const { signOutEverywhere } = await import("@/lib/auth/sign-out-everywhere");
const { updateAdminUser } = await import("@/lib/users/update-admin-user");
const { upsertAdminUser } = await import("@/lib/users/upsert-admin-user");
const overviewRoute = await import("@/app/api/admin/overview/route");
const actionsRoute = await import("@/app/api/admin/payouts/[id]/actions/route");

const ORIGIN = "http://localhost";
const PASSWORD = "correct horse battery staple";

/** The next requests carry this cookie (null: none). */
function withCookie(sessionToken: string | null) {
  const { req, res } = requestWithCookie(sessionToken);
  vi.mocked(getServerSession).mockImplementation(() => actual.getServerSession(req as never, res as never, authOptions));
}

let sequence = 0;
async function newUser(role: "viewer" | "operator" | "admin" = "operator") {
  sequence += 1;
  return db.adminUser.create({
    data: { email: `session-${sequence}@security.test`, name: `Session ${sequence}`, role, passwordHash: await hashPassword(PASSWORD, 4) },
  });
}

async function signIn(email: string): Promise<string> {
  const { sessionToken, error } = await signInThroughNextAuth(authOptions, { email, password: PASSWORD });
  expect(error).toBeNull();
  expect(sessionToken).toEqual(expect.any(String));
  return sessionToken!;
}

async function apiStatus(sessionToken: string): Promise<number> {
  withCookie(sessionToken);
  return (await overviewRoute.GET(new Request(`${ORIGIN}/api/admin/overview`), undefined as never)).status;
}

async function holdStatus(sessionToken: string, payoutId: string): Promise<number> {
  withCookie(sessionToken);
  const response = await actionsRoute.POST(
    new Request(`${ORIGIN}/api/admin/payouts/${payoutId}/actions`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: ORIGIN },
      body: JSON.stringify({ action: "hold", reason: "Replayed cookie" }),
    }),
    { params: Promise.resolve({ id: payoutId }) } as never,
  );
  return response.status;
}

/** Where a page sends this cookie: "ok" when it renders for the user, else the redirect's target. */
async function pageOutcome(sessionToken: string): Promise<string> {
  withCookie(sessionToken);
  try {
    await requirePageUser("viewer");
    return "ok";
  } catch (error) {
    const digest = (error as { digest?: string }).digest ?? "";
    if (!digest.startsWith("NEXT_REDIRECT")) throw error;
    return digest.split(";")[2] ?? "";
  }
}

async function expectWorks(sessionToken: string) {
  expect(await apiStatus(sessionToken)).toBe(200);
  expect(await pageOutcome(sessionToken)).toBe("ok");
}

async function expectEnded(sessionToken: string) {
  expect(await apiStatus(sessionToken)).toBe(401);
  expect(await pageOutcome(sessionToken)).toBe("/login");
  const payout = await createPayout();
  expect(await holdStatus(sessionToken, payout.id)).toBe(401);
  expect((await db.payout.findUniqueOrThrow({ where: { id: payout.id } })).status).toBe(payout.status);
}

beforeEach(async () => {
  await db.signInAttempt.deleteMany();
});

afterEach(() => vi.mocked(getServerSession).mockReset());

describe("server-side sessions", () => {
  it("records the session at sign-in, with the browser and the address, and carries its id in the JWT", async () => {
    const user = await newUser();
    const token = await signIn(user.email);
    const sessions = await db.adminSession.findMany({ where: { userId: user.id } });
    expect(sessions).toEqual([expect.objectContaining({ userAgent: "vitest", address: "direct", revokedAt: null, revokedReason: null })]);
    const jwt = await (await import("next-auth/jwt")).decode({ token, secret: authOptions.secret! });
    expect(jwt).toMatchObject({ sub: user.id, sid: sessions[0]!.id });
    // The token itself expires with the session (12 hours), not after next-auth's default 30 days.
    expect(Number(jwt!.exp) - Number(jwt!.iat)).toBe(12 * 60 * 60);
    await expectWorks(token);
  });

  it("sign-out ends the session on the server: the copied cookie gets 401 and a redirect", async () => {
    const user = await newUser();
    const token = await signIn(user.email);
    const copy = token;
    await expectWorks(copy);
    await signOutThroughNextAuth(authOptions, token);
    await expectEnded(copy);
    expect(await db.adminSession.findMany({ where: { userId: user.id } })).toEqual([
      expect.objectContaining({ revokedReason: "sign_out", revokedAt: expect.any(Date) }),
    ]);
  });

  it("signing out one browser leaves the user's other sessions alone", async () => {
    const user = await newUser();
    const laptop = await signIn(user.email);
    const phone = await signIn(user.email);
    await signOutThroughNextAuth(authOptions, laptop);
    expect(await apiStatus(laptop)).toBe(401);
    await expectWorks(phone);
  });

  it("sign out everywhere, from another browser, ends every session of the user and no one else's", async () => {
    const user = await newUser();
    const other = await newUser();
    const stolen = await signIn(user.email);
    const own = await signIn(user.email);
    const someoneElse = await signIn(other.email);
    await expectWorks(stolen);

    withCookie(own);
    expect(await signOutEverywhere()).toEqual({ revoked: 2 });
    await expectEnded(stolen);
    await expectEnded(own);
    await expectWorks(someoneElse);
    expect(await db.adminSession.count({ where: { userId: user.id, revokedReason: "sign_out_everywhere" } })).toBe(2);

    // Without a valid session the action is refused (and revokes nothing).
    withCookie(stolen);
    await expect(signOutEverywhere()).rejects.toMatchObject({ status: 401 });
  });

  it("disabling a user ends their sessions at once, and re-enabling does not bring them back", async () => {
    const admin = await newUser("admin");
    const user = await newUser();
    const token = await signIn(user.email);
    await expectWorks(token);
    await updateAdminUser(db, { userId: user.id, disabled: true, reason: "Left the company" }, admin);
    await expectEnded(token);
    await updateAdminUser(db, { userId: user.id, disabled: false, reason: "Came back" }, admin);
    await expectEnded(token);
    expect(await db.adminSession.findMany({ where: { userId: user.id } })).toEqual([
      expect.objectContaining({ revokedReason: "disabled" }),
    ]);
    // A fresh sign-in works.
    await expectWorks(await signIn(user.email));
  });

  it("a role change ends the user's sessions", async () => {
    const admin = await newUser("admin");
    const user = await newUser("operator");
    const token = await signIn(user.email);
    await expectWorks(token);
    await updateAdminUser(db, { userId: user.id, role: "viewer", reason: "Moved to finance" }, admin);
    await expectEnded(token);
    expect(await db.adminSession.findMany({ where: { userId: user.id } })).toEqual([
      expect.objectContaining({ revokedReason: "role_changed" }),
    ]);
  });

  it("a password change (scripts/create-user's upsert) ends the user's sessions", async () => {
    const user = await newUser("operator");
    const token = await signIn(user.email);
    await expectWorks(token);
    await upsertAdminUser(
      db,
      { email: user.email, name: user.name, role: "operator", password: "a brand new long password" },
      {
        type: "system",
        id: "create-user",
        label: "create-user script",
      },
    );
    await expectEnded(token);
    expect(await db.adminSession.findMany({ where: { userId: user.id } })).toEqual([
      expect.objectContaining({ revokedReason: "password_changed" }),
    ]);
  });

  it("refuses a session whose row is gone or expired, and a token without a session id", async () => {
    const user = await newUser();
    const token = await signIn(user.email);
    await db.adminSession.updateMany({ where: { userId: user.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect(await apiStatus(token)).toBe(401);
    await db.adminSession.deleteMany({ where: { userId: user.id } });
    expect(await apiStatus(token)).toBe(401);

    // A token minted without a sid (as before this change) is refused too.
    const { encode } = await import("next-auth/jwt");
    const legacy = await encode({ token: { sub: user.id, role: "operator", sessionVersion: 1 } as never, secret: authOptions.secret! });
    expect(await apiStatus(legacy)).toBe(401);
  });

  it("refreshes lastSeenAt at most once a minute", async () => {
    const user = await newUser();
    const token = await signIn(user.email);
    const { lastSeenAt: first } = await db.adminSession.findFirstOrThrow({ where: { userId: user.id } });
    await apiStatus(token);
    expect((await db.adminSession.findFirstOrThrow({ where: { userId: user.id } })).lastSeenAt).toEqual(first);
    const earlier = new Date(first.getTime() - 120_000);
    await db.adminSession.updateMany({ where: { userId: user.id }, data: { lastSeenAt: earlier } });
    await apiStatus(token);
    const after = await db.adminSession.findFirstOrThrow({ where: { userId: user.id } });
    expect(after.lastSeenAt.getTime()).toBeGreaterThan(earlier.getTime() + 60_000);
    expect(after.expiresAt.getTime()).toBeGreaterThan(after.lastSeenAt.getTime());
  });
  it("checks a session in one statement joined with its user (two when lastSeenAt is due), and refuses a disabled user's", async () => {
    const user = await newUser("viewer");
    const sessionId = await createAdminSession(db, user.id, { userAgent: "vitest", address: "direct" }, new Date());
    const logged = new PrismaClient({
      adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL! }),
      log: [{ emit: "event", level: "query" }],
    });
    const statements: string[] = [];
    logged.$on("query", (e) => statements.push(e.query.trim().split(/\s+/)[0]!));
    try {
      expect(await findActiveSession(logged, sessionId)).toEqual({
        id: sessionId,
        user: { id: user.id, email: user.email, name: user.name, role: "viewer", sessionVersion: user.sessionVersion },
      });
      expect(statements).toEqual(["SELECT"]);

      statements.length = 0;
      expect(await findActiveSession(logged, sessionId, new Date(Date.now() + 120_000))).not.toBeNull();
      expect(statements).toEqual(["SELECT", "UPDATE"]);

      statements.length = 0;
      await db.adminUser.update({ where: { id: user.id }, data: { disabledAt: new Date() } });
      expect(await findActiveSession(logged, sessionId)).toBeNull();
      expect(await findActiveSession(logged, "not-a-uuid")).toBeNull();
      expect(statements).toEqual(["SELECT"]);
    } finally {
      await logged.$disconnect();
    }
  });
});
