// User management: create, change role, disable / enable (sessions end), audited with the
// acting admin; no self lock-out; the API is admin-only, same-origin, and strict.
import { describe, expect, it, vi } from "vitest";

import { verifyPassword } from "@/lib/auth/password";
import { db } from "@/lib/db";

import { dashboardUsers, signInAs } from "../../support/sessions";

vi.mock("next-auth", async (importOriginal) => ({ ...(await importOriginal<typeof import("next-auth")>()), getServerSession: vi.fn() }));

const { createAdminUser } = await import("@/lib/users/create-admin-user");
const { updateAdminUser } = await import("@/lib/users/update-admin-user");
const { listUsers } = await import("@/lib/users/list-users");
const usersRoute = await import("@/app/api/admin/users/route");
const userRoute = await import("@/app/api/admin/users/[id]/route");

const users = dashboardUsers("users");
const ORIGIN = "http://localhost";

function post(body: unknown, headers: Record<string, string> = { origin: ORIGIN }) {
  return usersRoute.POST(
    new Request(`${ORIGIN}/api/admin/users`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    }),
    undefined as never,
  );
}

function patch(id: string, body: unknown, headers: Record<string, string> = { origin: ORIGIN }) {
  return userRoute.PATCH(
    new Request(`${ORIGIN}/api/admin/users/${id}`, {
      method: "PATCH",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    }),
    { params: Promise.resolve({ id }) } as never,
  );
}

let counter = 0;
async function newUser(role: "viewer" | "operator" | "admin" = "viewer") {
  counter += 1;
  return db.adminUser.create({ data: { email: `target-${counter}@example.test`, name: `Target ${counter}`, role, passwordHash: "x" } });
}

describe("createAdminUser", () => {
  it("creates a user with a hashed password, audited with the acting admin and the reason", async () => {
    const result = await createAdminUser(
      db,
      { email: "new.person@example.test", name: "New Person", role: "operator", password: "a long initial password", reason: "Joins ops" },
      users.admin,
    );
    if (result.outcome !== "created") throw new Error("a viewer or operator is created at once");
    const user = result.user;
    expect(user).toMatchObject({ email: "new.person@example.test", role: "operator", disabledAt: null });
    const row = await db.adminUser.findUniqueOrThrow({ where: { id: user.id } });
    expect(await verifyPassword("a long initial password", row.passwordHash)).toBe(true);
    const audit = await db.auditLog.findMany({ where: { entityType: "admin_user", entityId: user.id } });
    expect(audit).toMatchObject([
      {
        action: "admin_user.created",
        actorType: "admin",
        actorId: users.admin.id,
        reason: "Joins ops",
        after: { email: "new.person@example.test", role: "operator" },
      },
    ]);
    expect(JSON.stringify(audit[0]?.after)).not.toContain("password");
  });

  it("refuses an email that is taken (409) and changes nothing", async () => {
    const before = await db.adminUser.findUniqueOrThrow({ where: { id: users.viewer.id } });
    await expect(
      createAdminUser(db, { email: users.viewer.email, name: "Impostor", role: "admin", password: "another long password" }, users.admin),
    ).rejects.toMatchObject({ status: 409 });
    expect(await db.adminUser.findUniqueOrThrow({ where: { id: users.viewer.id } })).toEqual(before);
  });
});

describe("updateAdminUser", () => {
  it("changes a role, ends the user's sessions and audits before/after with the reason", async () => {
    const target = await newUser("viewer");
    const result = await updateAdminUser(db, { userId: target.id, role: "operator", reason: "Covers the night shift" }, users.admin);
    expect(result).toMatchObject({ changed: true, user: { role: "operator" } });
    expect((await db.adminUser.findUniqueOrThrow({ where: { id: target.id } })).sessionVersion).toBe(target.sessionVersion + 1);
    expect(await db.auditLog.findMany({ where: { entityId: target.id } })).toMatchObject([
      {
        action: "admin_user.role_changed",
        actorId: users.admin.id,
        reason: "Covers the night shift",
        before: { role: "viewer" },
        after: { role: "operator" },
      },
    ]);
    const same = await updateAdminUser(db, { userId: target.id, role: "operator", reason: "again" }, users.admin);
    expect(same.changed).toBe(false);
    expect(await db.auditLog.count({ where: { entityId: target.id } })).toBe(1);
  });

  it("disables and enables a user, each time ending their sessions", async () => {
    const target = await newUser("operator");
    const disabled = await updateAdminUser(db, { userId: target.id, disabled: true, reason: "Left the company" }, users.admin);
    expect(disabled.user.disabledAt).not.toBeNull();
    const enabled = await updateAdminUser(db, { userId: target.id, disabled: false, reason: "Came back" }, users.admin);
    expect(enabled.user.disabledAt).toBeNull();
    expect((await db.adminUser.findUniqueOrThrow({ where: { id: target.id } })).sessionVersion).toBe(target.sessionVersion + 2);
    const audit = await db.auditLog.findMany({ where: { entityId: target.id }, orderBy: { createdAt: "asc" } });
    expect(audit.map((a) => [a.action, a.reason])).toEqual([
      ["admin_user.disabled", "Left the company"],
      ["admin_user.enabled", "Came back"],
    ]);
  });

  it("does not let an admin demote or disable themselves", async () => {
    const me = await newUser("admin");
    const actor = { id: me.id, email: me.email, name: me.name, role: "admin" as const };
    await expect(updateAdminUser(db, { userId: me.id, role: "operator", reason: "oops" }, actor)).rejects.toMatchObject({ status: 403 });
    await expect(updateAdminUser(db, { userId: me.id, disabled: true, reason: "oops" }, actor)).rejects.toMatchObject({ status: 403 });
    expect(await db.adminUser.findUniqueOrThrow({ where: { id: me.id } })).toMatchObject({
      role: "admin",
      disabledAt: null,
      sessionVersion: me.sessionVersion,
    });
    expect(await db.auditLog.count({ where: { entityId: me.id } })).toBe(0);
  });

  it("answers 404 for an unknown user", async () => {
    await expect(
      updateAdminUser(db, { userId: "00000000-0000-4000-8000-0000000000cc", role: "viewer", reason: "who?" }, users.admin),
    ).rejects.toMatchObject({ status: 404 });
  });
});

describe("the users API", () => {
  it("lets an admin list, create, change a role and disable", async () => {
    signInAs(users.admin);
    const created = await post({ email: "API.Made@Example.test", name: "Api Made", role: "viewer", password: "twelve chars!" });
    expect(created.status).toBe(201);
    const { user } = (await created.json()) as { user: { id: string; email: string } };
    expect(user.email).toBe("api.made@example.test");
    expect(JSON.stringify(user)).not.toContain("passwordHash");

    // (Giving admin access is four-eyes: test/integration/admin/admin-access-four-eyes.test.ts.)
    expect((await patch(user.id, { role: "operator", reason: "Promoted" })).status).toBe(200);
    const disabled = await patch(user.id, { disabled: true, reason: "Offboarded" });
    expect(await disabled.json()).toMatchObject({ changed: true, user: { role: "operator", disabledAt: expect.any(String) } });

    const list = await usersRoute.GET(new Request(`${ORIGIN}/api/admin/users`), undefined as never);
    expect(list.status).toBe(200);
    const { users: listed } = (await list.json()) as { users: { id: string }[] };
    expect(listed.map((u) => u.id)).toEqual((await listUsers(db)).users.map((u) => u.id));
  });

  it.each([
    ["an operator", () => users.operator, { origin: ORIGIN }, 403],
    ["a viewer", () => users.viewer, { origin: ORIGIN }, 403],
    ["no session", () => null, { origin: ORIGIN }, 401],
    ["a cross-site request from an admin", () => users.admin, { origin: "https://evil.example" }, 403],
    ["a request without Origin from an admin", () => users.admin, {}, 403],
  ])("refuses %s and writes nothing", async (_name, user, headers, status) => {
    const target = await newUser("viewer");
    const auditBefore = await db.auditLog.count();
    signInAs(user());
    const email = `refused-${counter}@example.test`;
    expect(
      (await post({ email, name: "Refused", role: "admin", password: "long enough pass" }, headers as Record<string, string>)).status,
    ).toBe(status);
    expect((await patch(target.id, { role: "admin", reason: "escalate" }, headers as Record<string, string>)).status).toBe(status);
    expect((await patch(target.id, { disabled: true, reason: "lock out" }, headers as Record<string, string>)).status).toBe(status);
    expect(await db.adminUser.findUnique({ where: { email } })).toBeNull();
    expect(await db.adminUser.findUniqueOrThrow({ where: { id: target.id } })).toEqual(target);
    expect(await db.auditLog.count()).toBe(auditBefore);
  });

  it("answers non-admins 403 on the list", async () => {
    signInAs(users.operator);
    expect((await usersRoute.GET(new Request(`${ORIGIN}/api/admin/users`), undefined as never)).status).toBe(403);
  });

  it("validates bodies strictly: short passwords, unknown fields, two changes at once, no reason", async () => {
    signInAs(users.admin);
    const target = await newUser("viewer");
    expect((await post({ email: "short@example.test", name: "S", role: "viewer", password: "elevenchars" })).status).toBe(400);
    expect(
      (await post({ email: "extra@example.test", name: "E", role: "viewer", password: "long enough pass", isAdmin: true })).status,
    ).toBe(400);
    expect((await post({ email: "role@example.test", name: "R", role: "superuser", password: "long enough pass" })).status).toBe(400);
    expect((await patch(target.id, { role: "admin", disabled: true, reason: "both" })).status).toBe(400);
    expect((await patch(target.id, { role: "admin" })).status).toBe(400);
    expect((await patch(target.id, { role: "admin", reason: "ok", sessionVersion: 0 })).status).toBe(400);
    expect((await patch("nope", { role: "admin", reason: "bad id" })).status).toBe(404);
    expect(await db.adminUser.count({ where: { email: { in: ["short@example.test", "extra@example.test", "role@example.test"] } } })).toBe(
      0,
    );
    expect(await db.adminUser.findUniqueOrThrow({ where: { id: target.id } })).toEqual(target);
  });

  it("answers 403 when an admin tries to demote or disable themselves", async () => {
    signInAs(users.admin);
    expect((await patch(users.admin.id, { role: "viewer", reason: "oops" })).status).toBe(403);
    expect((await patch(users.admin.id, { disabled: true, reason: "oops" })).status).toBe(403);
    expect(await db.adminUser.findUniqueOrThrow({ where: { id: users.admin.id } })).toMatchObject({ role: "admin", disabledAt: null });
  });
});
