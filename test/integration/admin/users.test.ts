import { describe, expect, it } from "vitest";

import { verifyPassword } from "@/lib/auth/password";
import { db } from "@/lib/db";
import { upsertAdminUser } from "@/lib/users/upsert-admin-user";

const cli = { type: "system", id: "cli:create-user", label: "Command line" } as const;

describe("upsertAdminUser", () => {
  it("creates a user with a hashed password and audits it", async () => {
    const user = await upsertAdminUser(
      db,
      { email: " New.Admin@Example.COM ", name: "New Admin", role: "admin", password: "correct horse battery" },
      cli,
    );
    expect(user.email).toBe("new.admin@example.com");
    expect(user.passwordHash).not.toContain("correct");
    expect(await verifyPassword("correct horse battery", user.passwordHash)).toBe(true);
    const audit = await db.auditLog.findMany({ where: { entityId: user.id } });
    expect(audit).toMatchObject([{ action: "admin_user.created", actorId: "cli:create-user", entityType: "admin_user" }]);
  });

  it("updates an existing user and signs them out everywhere", async () => {
    const first = await upsertAdminUser(db, { email: "op@example.com", name: "Op", role: "viewer", password: "first password!" }, cli);
    const second = await upsertAdminUser(
      db,
      { email: "OP@example.com", name: "Op Two", role: "operator", password: "second password!" },
      cli,
    );
    expect(second.id).toBe(first.id);
    expect(second).toMatchObject({ role: "operator", name: "Op Two", sessionVersion: first.sessionVersion + 1 });
    expect(await verifyPassword("second password!", second.passwordHash)).toBe(true);
    expect(await db.auditLog.count({ where: { entityId: first.id } })).toBe(2);
  });

  it("refuses a short password or a bad email and writes nothing", async () => {
    await expect(upsertAdminUser(db, { email: "x@example.com", name: "X", role: "viewer", password: "short" }, cli)).rejects.toThrow(
      /at least 12/,
    );
    await expect(
      upsertAdminUser(db, { email: "not-an-email", name: "X", role: "viewer", password: "long enough password" }, cli),
    ).rejects.toThrow(/not an email/);
    expect(await db.adminUser.count({ where: { email: { in: ["x@example.com", "not-an-email"] } } })).toBe(0);
  });

  it("keeps the audit log append-only", async () => {
    const user = await upsertAdminUser(
      db,
      { email: "audit@example.com", name: "A", role: "viewer", password: "long enough password" },
      cli,
    );
    await expect(db.auditLog.deleteMany({ where: { entityId: user.id } })).rejects.toThrow(/append-only/);
    await expect(db.auditLog.updateMany({ where: { entityId: user.id }, data: { reason: "x" } })).rejects.toThrow(/append-only/);
  });
});
