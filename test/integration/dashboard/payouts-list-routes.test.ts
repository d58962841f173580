// The payouts list's route handlers: list and export (any role), and bulk hold/release
// (operator, same origin) with a result per row. The session is stubbed (sign-in over HTTP
// is covered by e2e); handlers, services and the database are real.
import { randomUUID } from "node:crypto";

import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import { POST as bulk } from "@/app/api/admin/payouts/bulk/route";
import { GET as exportCsv } from "@/app/api/admin/payouts/export/route";
import { GET as list } from "@/app/api/admin/payouts/route";
import type { AdminRole } from "@/generated/prisma/enums";
import { db } from "@/lib/db";
import type { TBulkPayoutResult } from "@/lib/payouts/bulk-payout-action";
import type { TPayoutListPage } from "@/lib/payouts/list-payouts";

import { createPayout, createProvider } from "../../support/factories";

type TUser = { id: string; email: string; name: string; role: AdminRole };
const auth = vi.hoisted(() => ({ user: null as TUser | null }));

vi.mock("@/lib/auth/session", async () => {
  const { ForbiddenError, UnauthorizedError } = await import("@/lib/errors");
  const { hasRole } = await import("@/lib/auth/roles");
  return {
    requireApiUser: async (required: AdminRole = "viewer") => {
      if (!auth.user) throw new UnauthorizedError();
      if (!hasRole(auth.user.role, required)) throw new ForbiddenError(`This action needs the ${required} role.`);
      return auth.user;
    },
  };
});

// `after()` needs Next's request scope; here the task runs at once and each test waits for it.
const afterTasks = vi.hoisted(() => [] as Promise<unknown>[]);
vi.mock("next/server", async (importOriginal) => ({
  ...(await importOriginal<typeof import("next/server")>()),
  after: (task: (() => unknown) | Promise<unknown>) => {
    afterTasks.push(Promise.resolve(typeof task === "function" ? task() : task));
  },
}));

afterEach(async () => {
  await Promise.all(afterTasks.splice(0));
});

const ORIGIN = "http://localhost";
const users = {} as Record<AdminRole, TUser>;

beforeAll(async () => {
  for (const role of ["viewer", "operator", "admin"] as const) {
    const user = await db.adminUser.create({ data: { email: `${role}-list@payouts.test`, name: `List ${role}`, role, passwordHash: "x" } });
    users[role] = { id: user.id, email: user.email, name: user.name, role };
  }
});

beforeEach(() => {
  auth.user = users.viewer;
});

function bulkRequest(body: unknown, headers: Record<string, string> = { origin: ORIGIN }) {
  return bulk(
    new Request(`${ORIGIN}/api/admin/payouts/bulk`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    }),
    undefined,
  );
}

/** A snapshot of everything a refused request must leave alone. */
async function state(ids: string[]) {
  const [payouts, audit, outbox] = await Promise.all([
    db.payout.findMany({ where: { id: { in: ids } }, orderBy: { id: "asc" } }),
    db.auditLog.count(),
    db.outboxEvent.count(),
  ]);
  return { payouts, audit, outbox };
}

describe("GET /api/admin/payouts", () => {
  it("answers 401 without a session and 400 for an unknown parameter", async () => {
    auth.user = null;
    expect((await list(new Request(`${ORIGIN}/api/admin/payouts`), undefined)).status).toBe(401);
    auth.user = users.viewer;
    const bad = await list(new Request(`${ORIGIN}/api/admin/payouts?statuz=failed`), undefined);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: "validation_failed" } });
  });

  it("lists a page for a viewer, with a server timing header", async () => {
    const provider = await createProvider();
    const created = await createPayout({ provider });
    const response = await list(new Request(`${ORIGIN}/api/admin/payouts?provider=${provider.externalId}`), undefined);
    expect(response.status).toBe(200);
    expect(response.headers.get("server-timing")).toMatch(/^db;/);
    const page = (await response.json()) as TPayoutListPage;
    expect(page.items.map((p) => p.id)).toEqual([created.id]);
    expect(page.total).toEqual({ count: 1, capped: false });
  });
});

describe("GET /api/admin/payouts/export", () => {
  it("streams the filtered set as a CSV attachment", async () => {
    const provider = await createProvider();
    const a = await createPayout({ provider, createdAt: new Date("2026-01-02T00:00:00Z") });
    const b = await createPayout({ provider, createdAt: new Date("2026-01-03T00:00:00Z") });
    auth.user = null;
    expect((await exportCsv(new Request(`${ORIGIN}/api/admin/payouts/export`), undefined)).status).toBe(401);
    auth.user = users.viewer;
    expect((await exportCsv(new Request(`${ORIGIN}/api/admin/payouts/export?after=x`), undefined)).status).toBe(400);
    const response = await exportCsv(new Request(`${ORIGIN}/api/admin/payouts/export?provider=${provider.externalId}`), undefined);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("content-disposition")).toMatch(/^attachment; filename="payouts-\d{8}-\d{4}Z\.csv"$/);
    const lines = (await response.text()).trimEnd().split("\r\n");
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual([b.id, a.id]);
  });
});

describe("POST /api/admin/payouts/bulk", () => {
  let scheduled: string[];
  let transferred: string;

  beforeEach(async () => {
    scheduled = [(await createPayout()).id, (await createPayout()).id];
    transferred = (await createPayout({ status: "transferred", stripeTransferId: `tr_${randomUUID()}`, transferredAt: new Date() })).id;
  });

  it("refuses cross-site requests, missing sessions and viewers, writing nothing", async () => {
    const ids = [...scheduled, transferred];
    const body = { action: "hold", payoutIds: ids, reason: "Forged" };
    const before = await state(ids);

    auth.user = users.operator;
    const foreign = await bulkRequest(body, { origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    expect((await bulkRequest(body, {})).status).toBe(403);

    auth.user = null;
    expect((await bulkRequest(body)).status).toBe(401);

    auth.user = users.viewer;
    const viewer = await bulkRequest(body);
    expect(viewer.status).toBe(403);
    expect(await viewer.json()).toMatchObject({ error: { code: "forbidden" } });

    expect(await state(ids)).toEqual(before);
  });

  it("validates the body: JSON only, known keys, at most 100 distinct ids, a reason", async () => {
    auth.user = users.operator;
    expect((await bulkRequest("action=hold", { origin: ORIGIN, "content-type": "application/x-www-form-urlencoded" })).status).toBe(415);
    expect((await bulkRequest("{not json")).status).toBe(400);
    const tooMany = Array.from({ length: 101 }, () => randomUUID());
    for (const body of [
      { action: "hold", payoutIds: scheduled, reason: "ok reason", extra: 1 },
      { action: "cancel", payoutIds: scheduled, reason: "ok reason" },
      { action: "hold", payoutIds: tooMany, reason: "ok reason" },
      { action: "hold", payoutIds: [scheduled[0], scheduled[0]], reason: "ok reason" },
      { action: "hold", payoutIds: [], reason: "ok reason" },
      { action: "hold", payoutIds: ["not-a-uuid"], reason: "ok reason" },
      { action: "hold", payoutIds: scheduled, reason: "  " },
    ]) {
      const response = await bulkRequest(body);
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(400);
    }
    expect((await state(scheduled)).payouts.every((p) => p.status === "scheduled")).toBe(true);
  });

  it("holds then releases as an operator, each row on its own, with a result per row and an audit entry per change", async () => {
    auth.user = users.operator;
    const missing = randomUUID();
    const ids = [...scheduled, transferred, missing];

    const held = await bulkRequest({ action: "hold", payoutIds: ids, reason: "Fraud review" });
    expect(held.status).toBe(200);
    const holdResult = (await held.json()) as Omit<TBulkPayoutResult, "eventIds">;
    expect(holdResult).toEqual({
      action: "hold",
      succeeded: 2,
      failed: 2,
      results: [
        { payoutId: scheduled[0], ok: true, status: "on_hold" },
        { payoutId: scheduled[1], ok: true, status: "on_hold" },
        { payoutId: transferred, ok: false, code: "illegal_transition", error: "Cannot hold a payout that is transferred." },
        { payoutId: missing, ok: false, code: "not_found", error: `Payout ${missing} was not found.` },
      ],
    });
    const requestId = held.headers.get("x-request-id");
    expect(requestId).toMatch(/^bulk:/);
    // The applied rows' events reach the workflow engine once the response is out.
    await Promise.all(afterTasks.splice(0));
    const sent = globalThis.inngestReceiver
      .events()
      .filter((e) => e.name === "payout/admin.action")
      .map((e) => e.data.payoutId);
    expect(sent).toEqual(expect.arrayContaining(scheduled));
    expect(sent).not.toContain(transferred);

    const released = (await (
      await bulkRequest({ action: "release", payoutIds: [...scheduled, transferred], reason: "Review passed" })
    ).json()) as Omit<TBulkPayoutResult, "eventIds">;
    expect(released.results.map((r) => [r.ok, r.status ?? r.code])).toEqual([
      [true, "scheduled"],
      [true, "scheduled"],
      [false, "illegal_transition"],
    ]);

    const audit = await db.auditLog.findMany({ where: { entityId: { in: ids } }, orderBy: [{ createdAt: "asc" }, { action: "asc" }] });
    const label = `${users.operator.name} <${users.operator.email}>`;
    for (const id of scheduled) {
      expect(audit.filter((a) => a.entityId === id).map((a) => [a.action, a.reason, a.actorId, a.actorLabel])).toEqual([
        ["payout.held", "Fraud review", users.operator.id, label],
        ["payout.released", "Review passed", users.operator.id, label],
      ]);
    }
    expect(audit.filter((a) => a.entityId === scheduled[0] && a.action === "payout.held")[0]?.requestId).toBe(requestId);
    expect(audit.some((a) => a.entityId === transferred)).toBe(false);
    const transferredNow = await db.payout.findUniqueOrThrow({ where: { id: transferred } });
    expect(transferredNow.status).toBe("transferred");
  });
});
