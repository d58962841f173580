// There is always an active admin left: an admin cannot demote or disable themselves, and
// role and access changes are serialised with the acting admin re-checked under the lock, so
// two admins demoting or disabling each other at the same moment cannot both succeed.
import { afterEach, describe, expect, it, vi } from "vitest";

import { db } from "@/lib/db";

import { serverSession } from "../../support/sessions";

vi.mock("next-auth", async (importOriginal) => ({ ...(await importOriginal<typeof import("next-auth")>()), getServerSession: vi.fn() }));

const { getServerSession } = await import("next-auth");
const userRoute = await import("@/app/api/admin/users/[id]/route");

const ORIGIN = "http://localhost";

type TRow = { id: string; sessionVersion: number };

function patchAs(actor: TRow, targetId: string, body: unknown) {
  return userRoute.PATCH(
    new Request(`${ORIGIN}/api/admin/users/${targetId}`, {
      method: "PATCH",
      headers: { origin: ORIGIN, "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
    { params: Promise.resolve({ id: targetId }) } as never,
  );
}

afterEach(() => {
  vi.mocked(getServerSession).mockReset();
});

async function activeAdmins() {
  return db.adminUser.count({ where: { role: "admin", disabledAt: null } });
}

describe("the last active admin", () => {
  it("survives two admins demoting / disabling each other at the same moment", async () => {
    // This file's database starts empty: these two are the only admins.
    const ann = await db.adminUser.create({ data: { email: "ann@example.test", name: "Ann", role: "admin", passwordHash: "x" } });
    const bob = await db.adminUser.create({ data: { email: "bob@example.test", name: "Bob", role: "admin", passwordHash: "x" } });
    expect(await activeAdmins()).toBe(2);

    // Each handler looks its session up synchronously on entry: Ann's first, then Bob's.
    vi.mocked(getServerSession)
      .mockResolvedValueOnce((await serverSession(ann)) as never)
      .mockResolvedValueOnce((await serverSession(bob)) as never);

    const [annDemotesBob, bobDisablesAnn] = await Promise.all([
      patchAs(ann, bob.id, { role: "operator", reason: "Reorganisation" }),
      patchAs(bob, ann.id, { disabled: true, reason: "Suspicious activity" }),
    ]);

    // One of them may win; both winning leaves no admin at all.
    expect([annDemotesBob.status, bobDisablesAnn.status].filter((s) => s === 200).length).toBeLessThanOrEqual(1);
    expect(await activeAdmins()).toBeGreaterThanOrEqual(1);
  });
});
