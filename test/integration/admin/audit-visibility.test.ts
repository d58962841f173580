// Who sees what in the audit log. The user directory is admin-only (GET /api/admin/users
// answers others 403), and the audit log must not hand it out instead: entries about
// dashboard accounts (`admin_user.*`: email, name, role, why someone was disabled) are
// for admins only, and the actor filter offers non-admins only the users who acted on
// entries they can see, not every account.
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";

import type { AdminRole } from "@/generated/prisma/enums";
import { db } from "@/lib/db";

import { serverSession } from "../../support/sessions";

vi.mock("next-auth", async (importOriginal) => ({ ...(await importOriginal<typeof import("next-auth")>()), getServerSession: vi.fn() }));

const { getServerSession } = await import("next-auth");
const usersRoute = await import("@/app/api/admin/users/route");
const auditRoute = await import("@/app/api/admin/audit/route");
const { createAdminUser } = await import("@/lib/users/create-admin-user");
const { updateAdminUser } = await import("@/lib/users/update-admin-user");
const { listAuditFilterOptions } = await import("@/lib/audit/list-audit-entries");

const ORIGIN = "http://localhost";
type TSessionUser = { id: string; sessionVersion: number };
const users = {} as Record<AdminRole, TSessionUser>;
let cfoId: string;
let operatorEntryId: string;

beforeAll(async () => {
  const adminRow = await db.adminUser.create({
    data: { email: "root-admin@example.test", name: "Root Admin", role: "admin", passwordHash: "x" },
  });
  const admin = { id: adminRow.id, email: adminRow.email, name: adminRow.name, role: "admin" as const };
  // The only admin creates the second one alone (bootstrap), so it is created at once.
  const result = await createAdminUser(
    db,
    { email: "cfo@example.test", name: "The CFO", role: "admin", password: "a long enough password" },
    admin,
  );
  if (result.outcome !== "created") throw new Error(`expected the account to be created, got ${result.outcome}`);
  const created = result.user;
  cfoId = created.id;
  await updateAdminUser(db, { userId: created.id, disabled: true, reason: "Under investigation for fraud" }, admin);
  const operator = await db.adminUser.create({
    data: { email: "operator-dir@example.test", name: "Olga Operator", role: "operator", passwordHash: "x" },
  });
  const viewer = await db.adminUser.create({
    data: { email: "viewer-dir@example.test", name: "Viewer", role: "viewer", passwordHash: "x" },
  });
  const entry = await db.auditLog.create({
    data: {
      actorType: "admin",
      actorId: operator.id,
      actorLabel: `${operator.name} <${operator.email}>`,
      action: "payout.held",
      entityType: "payout",
      entityId: "00000000-0000-4000-8000-00000000d1a1",
      reason: "Customer asked us to wait",
    },
  });
  operatorEntryId = entry.id;
  users.admin = { id: adminRow.id, sessionVersion: adminRow.sessionVersion };
  users.operator = { id: operator.id, sessionVersion: operator.sessionVersion };
  users.viewer = { id: viewer.id, sessionVersion: viewer.sessionVersion };
});

afterEach(() => {
  vi.mocked(getServerSession).mockReset();
});

function signInAs(role: AdminRole) {
  vi.mocked(getServerSession).mockImplementation(() => serverSession(users[role]) as never);
}

async function auditPage(query: string): Promise<{ status: number; text: string; ids: string[]; entityTypes: string[] }> {
  const res = await auditRoute.GET(new Request(`${ORIGIN}/api/admin/audit${query}`), undefined as never);
  const body = (await res.json()) as { items?: { id: string; entityType: string }[] };
  return {
    status: res.status,
    text: JSON.stringify(body),
    ids: (body.items ?? []).map((i) => i.id),
    entityTypes: (body.items ?? []).map((i) => i.entityType),
  };
}

describe("the user directory is for admins only", () => {
  it("is refused to a viewer by the users API", async () => {
    signInAs("viewer");
    expect((await usersRoute.GET(new Request(`${ORIGIN}/api/admin/users`), undefined as never)).status).toBe(403);
  });

  it.each(["viewer", "operator"] as const)("a %s reads no accounts, roles or disable reasons from the audit log", async (role) => {
    signInAs(role);
    for (const query of ["?entityType=admin_user", "", `?entityType=admin_user&entityId=${cfoId}`, `?actor=user:${users.admin.id}`]) {
      const page = await auditPage(query);
      expect(page.status).toBe(200);
      expect(page.entityTypes).not.toContain("admin_user");
      expect(page.text).not.toContain("cfo@example.test");
      expect(page.text).not.toContain("Under investigation for fraud");
    }
    expect((await auditPage("")).ids).toContain(operatorEntryId);
  });

  it("an admin reads the account entries, reasons included", async () => {
    signInAs("admin");
    const page = await auditPage("?entityType=admin_user");
    expect(page.status).toBe(200);
    // Created, made an admin by the only admin (bootstrap, admin_access.granted_alone), disabled.
    expect(page.entityTypes).toEqual(["admin_user", "admin_user", "admin_user"]);
    expect(page.text).toContain("cfo@example.test");
    expect(page.text).toContain("Under investigation for fraud");
  });
});

describe("the actor filter's options", () => {
  it.each(["viewer", "operator"] as const)(
    "offer a %s only the users who acted on entries they can see, and no account actions",
    async (role) => {
      const options = await listAuditFilterOptions(db, role);
      expect(options.users).toEqual([{ value: `user:${users.operator.id}`, label: "Olga Operator (operator-dir@example.test)" }]);
      expect(options.actions).toContain("payout.held");
      expect(options.actions.filter((a) => a.startsWith("admin_user."))).toEqual([]);
    },
  );

  it("offer an admin every account and every action", async () => {
    const options = await listAuditFilterOptions(db, "admin");
    expect(options.users.map((u) => u.label)).toEqual(
      expect.arrayContaining(["The CFO (cfo@example.test)", "Root Admin (root-admin@example.test)", "Viewer (viewer-dir@example.test)"]),
    );
    expect(options.actions).toEqual(expect.arrayContaining(["admin_user.created", "admin_user.disabled", "payout.held"]));
  });

  it("without a role, are what a non-admin sees", async () => {
    expect(await listAuditFilterOptions(db)).toEqual(await listAuditFilterOptions(db, "viewer"));
  });
});
