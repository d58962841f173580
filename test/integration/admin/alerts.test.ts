// Acknowledging alerts: the service (who and when, audited with the note, idempotent, one
// winner under concurrent clicks) and the route handler's guards (Origin, session, role).
import { describe, expect, it, vi } from "vitest";

import { db } from "@/lib/db";

import { dashboardUsers, signInAs } from "../../support/sessions";

vi.mock("next-auth", async (importOriginal) => ({ ...(await importOriginal<typeof import("next-auth")>()), getServerSession: vi.fn() }));

const { acknowledgeAlert } = await import("@/lib/alerts/acknowledge-alert");
const { listAlerts } = await import("@/lib/alerts/list-alerts");
const { ZAlertFilter } = await import("@/lib/alerts/list-alerts-filter");
const acknowledgeRoute = await import("@/app/api/admin/alerts/[id]/acknowledge/route");
const alertsRoute = await import("@/app/api/admin/alerts/route");

const users = dashboardUsers("alerts");

const ORIGIN = "http://localhost";

function acknowledge(id: string, body: unknown, headers: Record<string, string> = { origin: ORIGIN }) {
  const request = new Request(`${ORIGIN}/api/admin/alerts/${id}/acknowledge`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return acknowledgeRoute.POST(request, { params: Promise.resolve({ id }) } as never);
}

async function newAlert(title = "Payout transfer failed") {
  return db.alert.create({ data: { kind: "payout_failed", severity: "critical", title, message: "details" } });
}

describe("acknowledgeAlert", () => {
  it("records who and when, audited with the note in the same transaction", async () => {
    const alert = await newAlert();
    const now = new Date("2031-01-02T03:04:05.678Z");
    const result = await acknowledgeAlert(db, { alertId: alert.id, note: "Looking into it" }, users.operator, now);
    expect(result.alreadyAcknowledged).toBe(false);
    expect(result.alert).toMatchObject({
      acknowledgedAt: now.toISOString(),
      acknowledgedBy: { id: users.operator.id, name: users.operator.name, email: users.operator.email },
      acknowledgeNote: "Looking into it",
    });
    const audit = await db.auditLog.findMany({ where: { entityType: "alert", entityId: alert.id } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actorType: "admin",
      actorId: users.operator.id,
      actorLabel: `${users.operator.name} <${users.operator.email}>`,
      action: "alert.acknowledged",
      reason: "Looking into it",
      before: { acknowledgedAt: null, acknowledgedById: null },
      after: { acknowledgedAt: now.toISOString(), acknowledgedById: users.operator.id },
    });
  });

  it("is idempotent: a second acknowledgement changes nothing and says who was first", async () => {
    const alert = await newAlert();
    const first = await acknowledgeAlert(db, { alertId: alert.id }, users.operator);
    const second = await acknowledgeAlert(db, { alertId: alert.id, note: "me too" }, users.admin);
    expect(second.alreadyAcknowledged).toBe(true);
    expect(second.alert.acknowledgedBy?.id).toBe(users.operator.id);
    expect(second.alert.acknowledgedAt).toBe(first.alert.acknowledgedAt);
    expect(await db.auditLog.count({ where: { entityId: alert.id } })).toBe(1);
  });

  it("lets exactly one of many concurrent acknowledgements win", async () => {
    const alert = await newAlert();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        acknowledgeAlert(db, { alertId: alert.id, note: `click ${i}` }, i % 2 ? users.admin : users.operator),
      ),
    );
    expect(results.filter((r) => !r.alreadyAcknowledged)).toHaveLength(1);
    expect(new Set(results.map((r) => r.alert.acknowledgedAt)).size).toBe(1);
    expect(await db.auditLog.count({ where: { entityId: alert.id } })).toBe(1);
  });

  it("answers 404 for an unknown alert", async () => {
    await expect(acknowledgeAlert(db, { alertId: "00000000-0000-4000-8000-0000000000aa" }, users.operator)).rejects.toMatchObject({
      status: 404,
    });
  });
});

describe("listAlerts", () => {
  it("lists open alerts first (newest first), then acknowledged ones (most recently acknowledged first)", async () => {
    const list = await listAlerts(db, ZAlertFilter.parse({}), 100);
    const open = list.items.filter((a) => !a.acknowledgedAt);
    const acknowledged = list.items.filter((a) => a.acknowledgedAt);
    expect(list.items).toEqual([...open, ...acknowledged]);
    expect(open.map((a) => a.createdAt)).toEqual([...open.map((a) => a.createdAt)].sort().reverse());
    expect(acknowledged.map((a) => a.acknowledgedAt)).toEqual([...acknowledged.map((a) => a.acknowledgedAt)].sort().reverse());
    expect(list.counts).toEqual({
      open: await db.alert.count({ where: { acknowledgedAt: null } }),
      acknowledged: await db.alert.count({ where: { acknowledgedAt: { not: null } } }),
    });
    const onlyOpen = await listAlerts(db, ZAlertFilter.parse({ state: "open" }), 100);
    expect(onlyOpen.items.every((a) => a.acknowledgedAt === null)).toBe(true);
  });
});

describe("POST /api/admin/alerts/[id]/acknowledge", () => {
  it("acknowledges for an operator and answers who and when", async () => {
    const alert = await newAlert();
    signInAs(users.operator);
    const response = await acknowledge(alert.id, { note: "On it" });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      alert: { acknowledgedBy: { name: string }; acknowledgedAt: string };
      alreadyAcknowledged: boolean;
    };
    expect(body).toMatchObject({
      alreadyAcknowledged: false,
      alert: { acknowledgedBy: { name: users.operator.name }, acknowledgeNote: "On it" },
    });
    const again = await acknowledge(alert.id, undefined);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ alreadyAcknowledged: true, alert: { acknowledgedAt: body.alert.acknowledgedAt } });
  });

  it.each([
    ["a viewer", () => users.viewer, { origin: ORIGIN }, 403],
    ["no session", () => null, { origin: ORIGIN }, 401],
    ["a cross-site request", () => users.operator, { origin: "https://evil.example" }, 403],
    ["a request without Origin", () => users.operator, {}, 403],
  ])("refuses %s and writes nothing", async (_name, user, headers, status) => {
    const alert = await newAlert();
    signInAs(user());
    const response = await acknowledge(alert.id, { note: "sneaky" }, headers as Record<string, string>);
    expect(response.status).toBe(status);
    expect((await db.alert.findUniqueOrThrow({ where: { id: alert.id } })).acknowledgedAt).toBeNull();
    expect(await db.auditLog.count({ where: { entityId: alert.id } })).toBe(0);
  });

  it("refuses a session whose user was disabled or whose session version is old", async () => {
    const alert = await newAlert();
    signInAs({ ...users.operator, sessionVersion: users.operator.sessionVersion + 1 });
    expect((await acknowledge(alert.id, {})).status).toBe(401);
    expect(await db.auditLog.count({ where: { entityId: alert.id } })).toBe(0);
  });

  it("validates the id and the body (strict)", async () => {
    const alert = await newAlert();
    signInAs(users.operator);
    expect((await acknowledge("not-a-uuid", {})).status).toBe(404);
    expect((await acknowledge(alert.id, { note: "x", extra: true })).status).toBe(400);
    expect((await acknowledge(alert.id, { note: "x".repeat(501) })).status).toBe(400);
    expect((await acknowledge("00000000-0000-4000-8000-0000000000ab", {})).status).toBe(404);
    expect((await db.alert.findUniqueOrThrow({ where: { id: alert.id } })).acknowledgedAt).toBeNull();
  });
});

describe("GET /api/admin/alerts", () => {
  it("answers any signed-in role, 401 without a session, 400 for unknown parameters", async () => {
    signInAs(users.viewer);
    const ok = await alertsRoute.GET(new Request(`${ORIGIN}/api/admin/alerts?state=open`), undefined as never);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { items: { acknowledgedAt: string | null }[] }).items.every((a) => a.acknowledgedAt === null)).toBe(true);
    expect((await alertsRoute.GET(new Request(`${ORIGIN}/api/admin/alerts?bogus=1`), undefined as never)).status).toBe(400);
    signInAs(null);
    expect((await alertsRoute.GET(new Request(`${ORIGIN}/api/admin/alerts`), undefined as never)).status).toBe(401);
  });
});
