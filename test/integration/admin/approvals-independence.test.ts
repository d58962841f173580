// The four-eyes rule needs two independent admins. Comparing user ids is not enough: one admin
// can create a second admin account (a password they choose) or promote an accomplice after
// asking, then approve with it; so the approver must have been an admin before the request.
// And a request dies with its requester's admin access (disabled or demoted).
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";

import type { AdminRole } from "@/generated/prisma/enums";
import { db } from "@/lib/db";

import { createPayout } from "../../support/factories";
import { serverSession } from "../../support/sessions";

vi.mock("next-auth", async (importOriginal) => ({ ...(await importOriginal<typeof import("next-auth")>()), getServerSession: vi.fn() }));

// `after()` needs Next's request scope; run the task at once and wait for it after each test.
const afterTasks = vi.hoisted(() => [] as Promise<unknown>[]);
vi.mock("next/server", async (importOriginal) => ({
  ...(await importOriginal<typeof import("next/server")>()),
  after: (task: (() => unknown) | Promise<unknown>) => {
    afterTasks.push(Promise.resolve(typeof task === "function" ? task() : task).catch(() => undefined));
  },
}));

const { getServerSession } = await import("next-auth");
const actionsRoute = await import("@/app/api/admin/payouts/[id]/actions/route");
const approveRoute = await import("@/app/api/admin/approvals/[id]/approve/route");
const usersRoute = await import("@/app/api/admin/users/route");
const userRoute = await import("@/app/api/admin/users/[id]/route");
const approveAccessRoute = await import("@/app/api/admin/users/access-requests/[id]/approve/route");

const ORIGIN = "http://localhost";
type TSessionUser = { id: string; sessionVersion: number };

async function signInAs(userId: string) {
  const row = await db.adminUser.findUniqueOrThrow({ where: { id: userId } });
  vi.mocked(getServerSession).mockResolvedValue(
    (await serverSession({ id: row.id, sessionVersion: row.sessionVersion } satisfies TSessionUser)) as never,
  );
}

function json(url: string, body: unknown, method = "POST") {
  return new Request(`${ORIGIN}${url}`, {
    method,
    headers: { origin: ORIGIN, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function admin(name: string, role: AdminRole = "admin") {
  return db.adminUser.create({
    data: { email: `${name.toLowerCase()}-${Math.random().toString(36).slice(2, 8)}@example.test`, name, role, passwordHash: "x" },
  });
}

/** Admin `requesterId` asks for a force release of a new 1,500.00 USD payout (above the 1,000.00 threshold). */
async function pendingForceRelease(requesterId: string) {
  const payout = await createPayout({ providerShare: 150_000 });
  await signInAs(requesterId);
  const res = await actionsRoute.POST(
    json(`/api/admin/payouts/${payout.id}/actions`, {
      action: "force_release",
      reason: "Provider needs it today",
      expectedVersion: payout.version,
    }),
    {
      params: Promise.resolve({ id: payout.id }),
    } as never,
  );
  expect(res.status).toBe(202);
  const { approval } = (await res.json()) as { approval: { id: string } };
  return { payout, approvalId: approval.id };
}

function approve(approvalId: string) {
  return approveRoute.POST(json(`/api/admin/approvals/${approvalId}/approve`, { reason: "Looks fine to me" }), {
    params: Promise.resolve({ id: approvalId }),
  } as never);
}

/** Carol (another admin, who takes Mallory at her word) approves a pending admin access request. */
async function carolApprovesAccess(requestId: string) {
  await signInAs(carol.id);
  const res = await approveAccessRoute.POST(
    json(`/api/admin/users/access-requests/${requestId}/approve`, { reason: "Mallory vouches for them" }),
    {
      params: Promise.resolve({ id: requestId }),
    } as never,
  );
  expect(res.status).toBe(200);
}

let mallory: Awaited<ReturnType<typeof admin>>;
let carol: Awaited<ReturnType<typeof admin>>;

beforeAll(async () => {
  mallory = await admin("Mallory");
  carol = await admin("Carol");
});

afterEach(async () => {
  await Promise.all(afterTasks.splice(0));
  vi.mocked(getServerSession).mockReset();
});

describe("four-eyes force release", () => {
  it("cannot be approved by an admin account the requester created after asking", async () => {
    const { payout, approvalId } = await pendingForceRelease(mallory.id);

    // Mallory, still signed in as herself, creates a second admin account she controls.
    await signInAs(mallory.id);
    const created = await usersRoute.POST(
      json("/api/admin/users", { email: "mallory.alt@example.test", name: "M. Alt", role: "admin", password: "a password mallory knows" }),
      undefined as never,
    );
    // With Carol active, that is only a request (admin access is four-eyes too); Carol approves it.
    expect(created.status).toBe(202);
    const { request } = (await created.json()) as { request: { id: string; userId: string } };
    await carolApprovesAccess(request.id);
    const alt = { id: request.userId };

    // …signs in with it and approves her own request.
    await signInAs(alt.id);
    const res = await approve(approvalId);

    expect(res.status).toBe(403);
    expect((await db.payoutApproval.findUniqueOrThrow({ where: { id: approvalId } })).status).toBe("pending");
    expect(await db.auditLog.count({ where: { entityId: payout.id, action: "payout.force_released" } })).toBe(0);
  });

  it("cannot be approved by an account the requester promoted to admin after asking", async () => {
    const sidekick = await admin("Sidekick", "viewer");
    const { payout, approvalId } = await pendingForceRelease(mallory.id);

    await signInAs(mallory.id);
    const promoted = await userRoute.PATCH(json(`/api/admin/users/${sidekick.id}`, { role: "admin", reason: "Needs access" }, "PATCH"), {
      params: Promise.resolve({ id: sidekick.id }),
    } as never);
    expect(promoted.status).toBe(202);
    const { request } = (await promoted.json()) as { request: { id: string } };
    await carolApprovesAccess(request.id);
    expect(await db.adminUser.findUniqueOrThrow({ where: { id: sidekick.id } })).toMatchObject({ role: "admin" });

    await signInAs(sidekick.id);
    const res = await approve(approvalId);

    expect(res.status).toBe(403);
    expect(await db.auditLog.count({ where: { entityId: payout.id, action: "payout.force_released" } })).toBe(0);
  });

  it("is no longer approvable once its requester is disabled", async () => {
    const requester = await admin("Leaver");
    const { payout, approvalId } = await pendingForceRelease(requester.id);

    // Carol disables the requester (e.g. they left, or their account is suspected compromised).
    await signInAs(carol.id);
    const disabled = await userRoute.PATCH(
      json(`/api/admin/users/${requester.id}`, { disabled: true, reason: "Left the company" }, "PATCH"),
      {
        params: Promise.resolve({ id: requester.id }),
      } as never,
    );
    expect(disabled.status).toBe(200);

    // Another admin still approves the leaver's request: money moves on a disabled user's say-so.
    const res = await approve(approvalId);
    expect(res.status).toBeGreaterThanOrEqual(400); // e.g. 409: the request expired with its requester
    expect(await db.auditLog.count({ where: { entityId: payout.id, action: "payout.force_released" } })).toBe(0);
  });
});
