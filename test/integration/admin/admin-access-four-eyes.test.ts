// Four-eyes for admin access (issue 12). The attack: one person passes four-eyes alone by first
// creating (or promoting) a second admin account, then approving their own force release from
// it. Once another admin is active, giving admin access only records a request; a different,
// independent admin approves it. Everything goes through the admin API routes, as the dashboard
// does. This file's database starts empty, so the tests build on each other, in order: Ann alone
// (bootstrap) makes Bob an admin; from then on admin access is four-eyes.
import { afterEach, describe, expect, it, vi } from "vitest";

import { db } from "@/lib/db";
import { getPayoutDetail } from "@/lib/payouts/get-payout-detail";

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
const usersRoute = await import("@/app/api/admin/users/route");
const userRoute = await import("@/app/api/admin/users/[id]/route");
const approveAccessRoute = await import("@/app/api/admin/users/access-requests/[id]/approve/route");
const rejectAccessRoute = await import("@/app/api/admin/users/access-requests/[id]/reject/route");
const actionsRoute = await import("@/app/api/admin/payouts/[id]/actions/route");
const approveRoute = await import("@/app/api/admin/approvals/[id]/approve/route");
const alertsRoute = await import("@/app/api/admin/alerts/route");

const ORIGIN = "http://localhost";

afterEach(async () => {
  await Promise.all(afterTasks.splice(0));
  vi.mocked(getServerSession).mockReset();
});

/** The next requests carry this user's current session (re-read: a grant bumps the session version). */
async function signInAs(userId: string) {
  const row = await db.adminUser.findUniqueOrThrow({ where: { id: userId } });
  vi.mocked(getServerSession).mockResolvedValue((await serverSession(row)) as never);
}

function json(url: string, body: unknown, method = "POST") {
  return new Request(`${ORIGIN}${url}`, {
    method,
    headers: { origin: ORIGIN, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

type TRequestItem = { id: string; kind: string; userId: string; email: string; status: string; requestedBy: { id: string } };

async function createAccount(email: string, name: string, role: "viewer" | "operator" | "admin", reason?: string) {
  const res = await usersRoute.POST(
    json("/api/admin/users", { email, name, role, password: "a password the creator knows", ...(reason ? { reason } : {}) }),
    undefined as never,
  );
  return {
    status: res.status,
    body: (await res.json()) as { outcome?: string; user?: { id: string }; request?: TRequestItem; error?: unknown },
  };
}

async function patchUser(userId: string, body: unknown) {
  const res = await userRoute.PATCH(json(`/api/admin/users/${userId}`, body, "PATCH"), {
    params: Promise.resolve({ id: userId }),
  } as never);
  return { status: res.status, body: (await res.json()) as { changed?: boolean; request?: TRequestItem; error?: { message: string } } };
}

async function decideAccess(requestId: string, decision: "approve" | "reject", reason = "Checked with the team lead") {
  const route = decision === "approve" ? approveAccessRoute : rejectAccessRoute;
  const res = await route.POST(json(`/api/admin/users/access-requests/${requestId}/${decision}`, { reason }), {
    params: Promise.resolve({ id: requestId }),
  } as never);
  return { status: res.status, body: (await res.json()) as { outcome?: string; error?: { message: string } } };
}

/** `requesterId` asks for a force release of a new 1,500.00 USD payout (above the 1,000.00 threshold): pending. */
async function pendingForceRelease(requesterId: string) {
  const payout = await createPayout({ providerShare: 150_000 });
  await signInAs(requesterId);
  const res = await actionsRoute.POST(
    json(`/api/admin/payouts/${payout.id}/actions`, {
      action: "force_release",
      reason: "Provider needs it today",
      expectedVersion: payout.version,
    }),
    { params: Promise.resolve({ id: payout.id }) } as never,
  );
  expect(res.status).toBe(202);
  const { approval } = (await res.json()) as { approval: { id: string } };
  return { payout, approvalId: approval.id };
}

async function approveForceRelease(approvalId: string) {
  const res = await approveRoute.POST(json(`/api/admin/approvals/${approvalId}/approve`, { reason: "Looks fine to me" }), {
    params: Promise.resolve({ id: approvalId }),
  } as never);
  return { status: res.status, body: (await res.json()) as { error?: { message: string } } };
}

async function forceReleased(payoutId: string) {
  return db.auditLog.count({ where: { entityId: payoutId, action: "payout.force_released" } });
}

async function alertsOf(kind: string) {
  return db.alert.findMany({ where: { kind }, orderBy: { createdAt: "asc" } });
}

async function newUser(email: string, name: string, role: "viewer" | "operator" | "admin") {
  return db.adminUser.create({ data: { email, name, role, passwordHash: "x" } });
}

// Ann is the first admin (made from the command line); the others join through the dashboard.
let ann: { id: string };
let bob: { id: string };
let carol: { id: string };

describe("bootstrap: the only admin", () => {
  it("creates the second admin at once, audited, recorded as granted alone, and alerted", async () => {
    ann = await newUser("ann@example.test", "Ann Admin", "admin");
    await newUser("olga@example.test", "Olga Operator", "operator");
    await signInAs(ann.id);

    const { status, body } = await createAccount("bob@example.test", "Bob Admin", "admin", "Second admin for four-eyes");

    expect(status).toBe(201);
    expect(body.outcome).toBe("created");
    bob = await db.adminUser.findUniqueOrThrow({ where: { email: "bob@example.test" } });
    expect(bob).toMatchObject({ role: "admin", disabledAt: null });
    // One transaction, one moment: sorted by action.
    expect(await db.auditLog.findMany({ where: { entityType: "admin_user", entityId: bob.id }, orderBy: { action: "asc" } })).toMatchObject(
      [
        { action: "admin_access.granted_alone", actorId: ann.id, reason: "Second admin for four-eyes" },
        { action: "admin_user.created", actorId: ann.id, reason: "Second admin for four-eyes" },
      ],
    );
    expect(await db.adminAccessRequest.findMany({ where: { userId: bob.id } })).toMatchObject([
      { kind: "create", status: "approved", direct: true, requestedById: ann.id, passwordHash: null },
    ]);
    const [alert] = await alertsOf("admin_access_granted");
    expect(alert?.message).toContain("Ann Admin <ann@example.test>");
    expect(alert?.message).toContain("Bob Admin <bob@example.test>");
    expect(alert?.message).toContain("no other active admin");
  });

  it("creates viewers and operators at once, as before, with no request and no alert", async () => {
    await signInAs(ann.id);
    const { status } = await createAccount("vera@example.test", "Vera Viewer", "viewer");
    expect(status).toBe(201);
    expect(await db.adminAccessRequest.count({ where: { email: "vera@example.test" } })).toBe(0);
    expect(await alertsOf("admin_access_requested")).toHaveLength(0);
  });
});

describe("the attack: an admin makes a second admin account to approve their own force release", () => {
  it("creating an admin while another admin is active only records a request; the account does not exist", async () => {
    await signInAs(ann.id);
    const { status, body } = await createAccount("ann.alt@example.test", "A. Alt", "admin", "Backup account");

    expect(status).toBe(202);
    expect(body).toMatchObject({ outcome: "requested", request: { kind: "create", email: "ann.alt@example.test", status: "pending" } });
    expect(JSON.stringify(body)).not.toContain("passwordHash");
    expect(await db.adminUser.findUnique({ where: { email: "ann.alt@example.test" } })).toBeNull();
    const requestId = body.request!.id;
    expect(await db.auditLog.findMany({ where: { entityType: "admin_user", entityId: body.request!.userId } })).toMatchObject([
      { action: "admin_access.requested", actorId: ann.id, reason: "Backup account" },
    ]);

    // The requester cannot approve it herself: 403, nothing created.
    const own = await decideAccess(requestId, "approve");
    expect(own.status).toBe(403);
    expect(await db.adminUser.findUnique({ where: { email: "ann.alt@example.test" } })).toBeNull();
    expect(await db.adminAccessRequest.findUniqueOrThrow({ where: { id: requestId } })).toMatchObject({ status: "pending" });
    expect(await alertsOf("admin_access_granted")).toHaveLength(1); // only the bootstrap one

    // So her own force release still needs someone else: she cannot approve it either.
    const { payout, approvalId } = await pendingForceRelease(ann.id);
    expect((await approveForceRelease(approvalId)).status).toBe(403);
    expect(await forceReleased(payout.id)).toBe(0);

    // Bob turns the backup account down: rejected, nothing created, the password hash gone.
    await signInAs(bob.id);
    const rejected = await decideAccess(requestId, "reject", "One account per person");
    expect(rejected).toMatchObject({ status: 200, body: { outcome: "rejected" } });
    expect(await db.adminAccessRequest.findUniqueOrThrow({ where: { id: requestId } })).toMatchObject({
      status: "rejected",
      decidedById: bob.id,
      passwordHash: null,
    });
    expect(await db.adminUser.findUnique({ where: { email: "ann.alt@example.test" } })).toBeNull();
    expect(await db.auditLog.count({ where: { entityId: body.request!.userId, action: "admin_access.rejected", actorId: bob.id } })).toBe(
      1,
    );
    // A decided request cannot be approved any more.
    expect((await decideAccess(requestId, "approve")).status).toBe(409);
  });

  it("alerts every admin to the request, naming who asked for whom (on the Alerts page, as another admin sees it)", async () => {
    await signInAs(bob.id);
    const res = await alertsRoute.GET(new Request(`${ORIGIN}/api/admin/alerts?state=all`), undefined as never);
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: { kind: string; title: string; message: string }[] };
    const requested = items.filter((a) => a.kind === "admin_access_requested");
    expect(requested).toHaveLength(1);
    expect(requested[0]?.title).toContain("A. Alt");
    expect(requested[0]?.message).toContain(
      "Ann Admin <ann@example.test> asks to create an admin account for A. Alt <ann.alt@example.test>",
    );
    expect(requested[0]?.message).toContain('"Backup account"');
  });

  it("a second admin approves: the account is created, audited with both admins, alerted", async () => {
    await signInAs(ann.id);
    const { body } = await createAccount("carol@example.test", "Carol Admin", "admin", "Joins finance ops");
    const request = body.request!;

    await signInAs(bob.id);
    const approved = await decideAccess(request.id, "approve", "Met Carol, she starts today");
    expect(approved).toMatchObject({ status: 200, body: { outcome: "approved" } });

    carol = await db.adminUser.findUniqueOrThrow({ where: { email: "carol@example.test" } });
    expect(carol).toMatchObject({ id: request.userId, role: "admin", disabledAt: null });
    expect(await db.adminAccessRequest.findUniqueOrThrow({ where: { id: request.id } })).toMatchObject({
      status: "approved",
      direct: false,
      decidedById: bob.id,
      passwordHash: null,
    });
    const audit = await db.auditLog.findMany({
      where: { entityType: "admin_user", entityId: carol.id },
      orderBy: [{ createdAt: "asc" }, { action: "asc" }],
    });
    // The request, then (one transaction, one moment) the account created and the approval.
    expect(audit.map((a) => [a.action, a.actorId])).toEqual([
      ["admin_access.requested", ann.id],
      ["admin_access.approved", bob.id],
      ["admin_user.created", bob.id],
    ]);
    expect(audit[2]?.after).toMatchObject({
      role: "admin",
      requestedBy: "Ann Admin <ann@example.test>",
      approvedBy: "Bob Admin <bob@example.test>",
    });
    const granted = (await alertsOf("admin_access_granted")).find((a) => a.dedupeKey?.endsWith(request.id));
    expect(granted?.message).toContain("Bob Admin <bob@example.test> approved the request of Ann Admin <ann@example.test>");
    expect(granted?.message).toContain("Carol Admin <carol@example.test>");
  });

  it("an account made an admin at Ann's request never approves Ann's force release, nor Ann its requests; an independent admin does", async () => {
    const { payout, approvalId } = await pendingForceRelease(ann.id);

    // Carol (created at Ann's request, before the force release was asked for) is not independent of Ann.
    await signInAs(carol.id);
    const byCarol = await approveForceRelease(approvalId);
    expect(byCarol.status).toBe(403);
    expect(byCarol.body.error?.message).toContain("asked for the other's admin access");
    expect(await forceReleased(payout.id)).toBe(0);
    // The detail page tells her so up front instead of offering a button the server refuses.
    const asCarol = await getPayoutDetail(db, payout.id, { id: carol.id, role: "admin" });
    expect(asCarol?.approvals[0]).toMatchObject({ canApprove: false, canReject: true });
    expect(asCarol?.approvals[0]?.approveBlockedReason).toContain("asked for the other's admin access");
    const asBob = await getPayoutDetail(db, payout.id, { id: bob.id, role: "admin" });
    expect(asBob?.approvals[0]).toMatchObject({ canApprove: true, approveBlockedReason: null });

    // Nor the other way round: Ann does not approve what Carol asks for.
    const carols = await pendingForceRelease(carol.id);
    await signInAs(ann.id);
    expect((await approveForceRelease(carols.approvalId)).status).toBe(403);
    expect(await forceReleased(carols.payout.id)).toBe(0);

    // Bob is independent of both.
    await signInAs(bob.id);
    expect((await approveForceRelease(approvalId)).status).toBe(200);
    expect(await forceReleased(payout.id)).toBe(1);
    expect((await approveForceRelease(carols.approvalId)).status).toBe(200);
  });

  it("an admin who became one after a request was made cannot approve it", async () => {
    const frank = await newUser("frank@example.test", "Frank Operator", "operator");
    await signInAs(ann.id);
    const franks = await patchUser(frank.id, { role: "admin", reason: "Covers the night shift" });
    expect(franks.status).toBe(202);

    // Later, Bob asks for Gina; Ann approves (they are independent of each other); Gina is an admin now.
    await signInAs(bob.id);
    const gina = (await createAccount("gina@example.test", "Gina Admin", "admin", "New hire")).body.request!;
    await signInAs(ann.id);
    expect((await decideAccess(gina.id, "approve", "Confirmed with HR")).status).toBe(200);

    // Gina was not an admin when Frank's promotion was asked for: she cannot approve it.
    await signInAs(gina.userId);
    const byGina = await decideAccess(franks.body.request!.id, "approve");
    expect(byGina.status).toBe(403);
    expect(byGina.body.error?.message).toContain("after this request was made");
    expect(await db.adminUser.findUniqueOrThrow({ where: { id: frank.id } })).toMatchObject({ role: "operator" });

    // Ann withdraws it herself: recorded as withdrawn.
    await signInAs(ann.id);
    expect(await decideAccess(franks.body.request!.id, "reject", "Not needed after all")).toMatchObject({
      status: 200,
      body: { outcome: "withdrawn" },
    });
    expect(await db.adminAccessRequest.findUniqueOrThrow({ where: { id: franks.body.request!.id } })).toMatchObject({
      status: "cancelled",
    });
  });
});

describe("promoting and re-enabling are granting admin access too", () => {
  it("promoting a user only records a request; their role and sessions stay until a second admin approves", async () => {
    const dave = await newUser("dave@example.test", "Dave Viewer", "viewer");
    await signInAs(ann.id);
    const asked = await patchUser(dave.id, { role: "admin", reason: "Takes over approvals" });
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({ changed: false, request: { kind: "promote", userId: dave.id, status: "pending" } });
    expect(await db.adminUser.findUniqueOrThrow({ where: { id: dave.id } })).toMatchObject({
      role: "viewer",
      sessionVersion: dave.sessionVersion,
    });

    // A second request for the same account while one is pending: 409.
    await signInAs(bob.id);
    expect((await patchUser(dave.id, { role: "admin", reason: "Me too" })).status).toBe(409);

    // Dave (a viewer) cannot approve his own promotion: the route needs the admin role.
    await signInAs(dave.id);
    expect((await decideAccess(asked.body.request!.id, "approve")).status).toBe(403);

    await signInAs(bob.id);
    expect((await decideAccess(asked.body.request!.id, "approve", "Agreed in the ops meeting")).status).toBe(200);
    const promoted = await db.adminUser.findUniqueOrThrow({ where: { id: dave.id } });
    expect(promoted).toMatchObject({ role: "admin", sessionVersion: dave.sessionVersion + 1 });
    expect(await db.auditLog.count({ where: { entityId: dave.id, action: "admin_user.role_changed", actorId: bob.id } })).toBe(1);

    // Demoting stays direct (it takes power away).
    await signInAs(ann.id);
    expect(await patchUser(dave.id, { role: "operator", reason: "Back to operations" })).toMatchObject({
      status: 200,
      body: { changed: true },
    });
  });

  it("enabling a disabled admin is a request; disabling stays direct", async () => {
    await signInAs(bob.id);
    expect(await patchUser(carol.id, { disabled: true, reason: "On leave" })).toMatchObject({ status: 200, body: { changed: true } });

    const asked = await patchUser(carol.id, { disabled: false, reason: "Back from leave" });
    expect(asked.status).toBe(202);
    expect(asked.body.request).toMatchObject({ kind: "enable", userId: carol.id });
    expect((await db.adminUser.findUniqueOrThrow({ where: { id: carol.id } })).disabledAt).not.toBeNull();

    await signInAs(ann.id);
    expect((await decideAccess(asked.body.request!.id, "approve", "Confirmed she is back")).status).toBe(200);
    expect(await db.adminUser.findUniqueOrThrow({ where: { id: carol.id } })).toMatchObject({ disabledAt: null, role: "admin" });
  });

  it("a request expires when its account changed since (here: disabled), and nothing is granted", async () => {
    const eve = await newUser("eve@example.test", "Eve Operator", "operator");
    await signInAs(ann.id);
    const asked = await patchUser(eve.id, { role: "admin", reason: "Needs the users page" });
    expect(asked.status).toBe(202);
    expect((await patchUser(eve.id, { disabled: true, reason: "Left the company" })).status).toBe(200);

    await signInAs(bob.id);
    const late = await decideAccess(asked.body.request!.id, "approve");
    expect(late.status).toBe(409);
    expect(late.body.error?.message).toContain("the account was disabled");
    expect(await db.adminUser.findUniqueOrThrow({ where: { id: eve.id } })).toMatchObject({ role: "operator" });
    expect(await db.adminAccessRequest.findUniqueOrThrow({ where: { id: asked.body.request!.id } })).toMatchObject({ status: "cancelled" });
    expect(await db.auditLog.count({ where: { entityId: eve.id, action: "admin_access.expired" } })).toBe(1);
  });

  it("the Users API lists pending requests for the other admins to decide", async () => {
    const henry = await newUser("henry@example.test", "Henry Viewer", "viewer");
    await signInAs(ann.id);
    const asked = await patchUser(henry.id, { role: "admin", reason: "Covers for Bob" });

    await signInAs(bob.id);
    const res = await usersRoute.GET(new Request(`${ORIGIN}/api/admin/users`), undefined as never);
    const { accessRequests } = (await res.json()) as { accessRequests: TRequestItem[] };
    expect(accessRequests).toMatchObject([{ id: asked.body.request!.id, kind: "promote", userId: henry.id, requestedBy: { id: ann.id } }]);
    expect(JSON.stringify(accessRequests)).not.toContain("passwordHash");
  });
});
