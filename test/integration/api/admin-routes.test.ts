// Every admin route handler answers the same mistake the same way (lib/api/admin-route.ts): a
// mutation from elsewhere 403, no session 401, a role too low 403, an id that is not one 404, a
// body too large 413, not JSON by its content type 415, not JSON 400. The routes are found on
// disk, so a new handler is checked without being listed here; its least role is listed, so a
// handler missing from ROLES fails.
import { readdirSync, statSync } from "node:fs";
import path from "node:path";

import { describe, expect, it, vi } from "vitest";

import { db } from "@/lib/db";

import { dashboardUsers, signInAs as signInAsUser, type TRole } from "../../support/sessions";

vi.mock("next-auth", async (importOriginal) => ({ ...(await importOriginal<typeof import("next-auth")>()), getServerSession: vi.fn() }));

type THandler = (request: Request, context: unknown) => Promise<Response>;

/** The least role of each handler (the contract the dashboard relies on). */
const ROLES: Record<string, TRole> = {
  "GET /api/admin/alerts": "viewer",
  "POST /api/admin/alerts/[id]/acknowledge": "operator",
  "POST /api/admin/alerts/test-message": "admin",
  "POST /api/admin/approvals/[id]/approve": "admin",
  "POST /api/admin/approvals/[id]/reject": "admin",
  "GET /api/admin/audit": "viewer",
  "POST /api/admin/debt-closings/[id]/approve": "admin",
  "POST /api/admin/debt-closings/[id]/reject": "admin",
  "POST /api/admin/debts/[id]/close": "admin",
  "POST /api/admin/audit/verify": "admin",
  "GET /api/admin/disputes": "viewer",
  "GET /api/admin/overview": "viewer",
  "GET /api/admin/payouts": "viewer",
  "GET /api/admin/payouts/[id]": "viewer",
  "POST /api/admin/payouts/[id]/actions": "operator",
  "POST /api/admin/payouts/bulk": "operator",
  "GET /api/admin/payouts/export": "viewer",
  "POST /api/admin/platform-webhook-deliveries/[id]/resend": "admin",
  "GET /api/admin/platform-webhooks": "viewer",
  "POST /api/admin/platform-webhooks": "admin",
  "PATCH /api/admin/platform-webhooks/[id]": "admin",
  "POST /api/admin/platform-webhooks/[id]/rotate-secret": "admin",
  "GET /api/admin/providers": "viewer",
  "GET /api/admin/users": "admin",
  "POST /api/admin/users": "admin",
  "PATCH /api/admin/users/[id]": "admin",
  "POST /api/admin/users/access-requests/[id]/approve": "admin",
  "POST /api/admin/users/access-requests/[id]/reject": "admin",
  "GET /api/admin/webhook-deliveries": "viewer",
  "GET /api/admin/webhook-deliveries/[id]": "viewer",
  "POST /api/admin/webhook-deliveries/[id]/redrive": "operator",
};
const RANK: Record<TRole, number> = { viewer: 0, operator: 1, admin: 2 };
const ORIGIN = "http://localhost";
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

function routeFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? routeFiles(full) : name === "route.ts" ? [full] : [];
  });
}

const root = path.resolve("app/api/admin");
const handlers: { key: string; route: string; method: string; handler: THandler; ids: string[] }[] = [];
for (const file of routeFiles(root)) {
  const route = `/api/admin${path.dirname(file).slice(root.length)}`;
  const exported = (await import(/* @vite-ignore */ file)) as Record<string, unknown>;
  for (const method of METHODS) {
    if (typeof exported[method] !== "function") continue;
    handlers.push({
      key: `${method} ${route}`,
      route,
      method,
      handler: exported[method] as THandler,
      ids: [...route.matchAll(/\[(\w+)\]/g)].map((m) => m[1]!),
    });
  }
}

const users = dashboardUsers("routes");
const signInAs = (role: TRole | null) => signInAsUser(role ? users[role] : null);

/** A request to the handler with every id segment set to `id`. */
function call(h: (typeof handlers)[number], init: { id?: string; headers?: Record<string, string>; body?: string } = {}) {
  const id = init.id ?? "00000000-0000-4000-8000-000000000000";
  const url = `${ORIGIN}${h.route.replace(/\[\w+\]/g, id)}`;
  const mutation = h.method !== "GET";
  const request = new Request(url, {
    method: h.method,
    headers: { ...(mutation ? { origin: ORIGIN, "content-type": "application/json" } : {}), ...init.headers },
    ...(mutation ? { body: init.body ?? "{}" } : {}),
  });
  return h.handler(request, { params: Promise.resolve(Object.fromEntries(h.ids.map((name) => [name, id]))) });
}

async function errorOf(response: Response): Promise<{ status: number; code: string }> {
  const body = (await response.json()) as { error?: { code?: string; message?: string } };
  expect(body.error?.message, "an error says what is wrong").toBeTruthy();
  return { status: response.status, code: body.error!.code! };
}

describe("admin route handlers", () => {
  it("are all listed with their least role", () => {
    expect(handlers.map((h) => h.key).sort()).toEqual(Object.keys(ROLES).sort());
  });

  it("refuse a mutation without this app's Origin (403) before looking at the session", async () => {
    signInAs("admin");
    for (const h of handlers.filter((x) => x.method !== "GET")) {
      expect(await errorOf(await call(h, { headers: { origin: "https://evil.example" } })), h.key).toEqual({
        status: 403,
        code: "forbidden",
      });
      expect(await errorOf(await call(h, { headers: { origin: "" } })), h.key).toEqual({ status: 403, code: "forbidden" });
    }
  });

  it("answer 401 without a session and 403 below their role", async () => {
    for (const h of handlers) {
      signInAs(null);
      expect(await errorOf(await call(h)), h.key).toEqual({ status: 401, code: "unauthorized" });
      for (const role of ["viewer", "operator"] as const) {
        if (RANK[role] >= RANK[ROLES[h.key]!]) continue;
        signInAs(role);
        expect(await errorOf(await call(h)), `${h.key} as ${role}`).toEqual({ status: 403, code: "forbidden" });
      }
    }
  });

  it("answer 404 for an id segment that is not an id", async () => {
    signInAs("admin");
    for (const h of handlers.filter((x) => x.ids.length > 0)) {
      for (const id of ["not-a-uuid", "1", "00000000-0000-4000-8000-00000000000g"]) {
        expect(await errorOf(await call(h, { id })), `${h.key} ${id}`).toEqual({ status: 404, code: "not_found" });
      }
    }
  });

  it("refuse a body too large (413), not sent as JSON (415) or not JSON (400), and write nothing", async () => {
    signInAs("admin");
    const audit = await db.auditLog.count();
    for (const h of handlers.filter((x) => x.method !== "GET")) {
      expect(await errorOf(await call(h, { body: JSON.stringify({ reason: "x".repeat(70 * 1024) }) })), h.key).toEqual({
        status: 413,
        code: "payload_too_large",
      });
      expect(await errorOf(await call(h, { headers: { "content-type": "text/plain" }, body: '{"reason":"because"}' })), h.key).toEqual({
        status: 415,
        code: "unsupported_media_type",
      });
      expect(await errorOf(await call(h, { body: "{not json" })), h.key).toEqual({ status: 400, code: "validation_failed" });
      expect(await errorOf(await call(h, { body: JSON.stringify({ unexpected: true }) })), h.key).toEqual({
        status: 400,
        code: "validation_failed",
      });
    }
    expect(await db.auditLog.count()).toBe(audit);
  });

  it("answer 400 for query parameters a list does not take", async () => {
    signInAs("admin");
    for (const h of handlers.filter(
      (x) => x.method === "GET" && x.ids.length === 0 && x.route !== "/api/admin/overview" && x.route !== "/api/admin/users",
    )) {
      const request = new Request(`${ORIGIN}${h.route}?nonsense=1`);
      expect(await errorOf(await h.handler(request, { params: Promise.resolve({}) })), h.key).toEqual({
        status: 400,
        code: "validation_failed",
      });
    }
  });
});
