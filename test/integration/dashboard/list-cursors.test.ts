// Page positions (keyset cursors) come back from the browser as text, so a forged or
// garbled one must answer 400 before it reaches the database, never a 500 from PostgreSQL:
// an instant must be a real one written as toISOString writes it, an amount must fit the
// int4 column. Any signed-in viewer can send them.
import { randomUUID } from "node:crypto";

import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";

import { db } from "@/lib/db";

import { serverSession } from "../../support/sessions";

vi.mock("next-auth", async (importOriginal) => ({ ...(await importOriginal<typeof import("next-auth")>()), getServerSession: vi.fn() }));

const { getServerSession } = await import("next-auth");
const auditRoute = await import("@/app/api/admin/audit/route");
const payoutsRoute = await import("@/app/api/admin/payouts/route");
const { createPayout, createProvider } = await import("../../support/factories");

const ORIGIN = "http://localhost";

beforeAll(async () => {
  const viewer = await db.adminUser.create({
    data: { email: "viewer-input@example.test", name: "Viewer", role: "viewer", passwordHash: "x" },
  });
  vi.mocked(getServerSession).mockResolvedValue((await serverSession(viewer)) as never);
  const provider = await createProvider();
  for (let i = 0; i < 3; i += 1) await createPayout({ provider });
  await db.auditLog.createMany({
    data: [0, 1, 2].map((i) => ({
      actorType: "system" as const,
      actorId: "test",
      actorLabel: "Test",
      action: "test.cursor",
      entityType: "payout",
      entityId: `e${i}`,
    })),
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

async function get(route: { GET: (r: Request, c: never) => Promise<Response> }, path: string) {
  const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
  const res = await route.GET(new Request(`${ORIGIN}${path}`), undefined as never);
  expect(errors).not.toHaveBeenCalled();
  return res;
}

function payoutCursor(cursor: object): string {
  return Buffer.from(JSON.stringify(cursor), "utf8").toString("base64url");
}

describe("audit log positions", () => {
  it.each([
    ["an impossible instant", `2026-13-45T99:99:99.999Z_${randomUUID()}`],
    ["a day that does not exist", `2026-02-30T08:00:00.000Z_${randomUUID()}`],
    ["year 0000 (PostgreSQL has none)", `0000-01-01T00:00:00.000Z_${randomUUID()}`],
  ])("answer 400 for %s, after or before", async (_name, position) => {
    for (const key of ["after", "before"]) {
      const res = await get(auditRoute, `/api/admin/audit?${key}=${position}`);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "validation_failed" } });
    }
  });

  it("still page with the positions the list hands out", async () => {
    const res = await get(auditRoute, `/api/admin/audit`);
    const first = (await res.json()) as { items: { createdAt: string; id: string }[] };
    const last = first.items.at(-1)!;
    const next = await get(auditRoute, `/api/admin/audit?after=${last.createdAt}_${last.id}`);
    expect(next.status).toBe(200);
  });
});

describe("payout list cursors", () => {
  it.each([
    ["a date JavaScript parses but PostgreSQL does not", "", { s: "createdAt", o: "desc", v: "1", i: randomUUID() }],
    ["an impossible instant", "", { s: "createdAt", o: "desc", v: "2026-13-45T99:99:99.999Z", i: randomUUID() }],
    [
      "an instant not written as toISOString writes it",
      "sort=eligibleAt&",
      { s: "eligibleAt", o: "desc", v: "2026-11-24 08:00:00", i: randomUUID() },
    ],
    ["an amount beyond int4", "sort=amount&", { s: "amount", o: "desc", v: 3_000_000_000, i: randomUUID() }],
    ["an amount below int4", "sort=amount&", { s: "amount", o: "desc", v: -3_000_000_000, i: randomUUID() }],
    ["a text amount", "sort=amount&", { s: "amount", o: "desc", v: "12", i: randomUUID() }],
  ])("answer 400 for %s, after or before", async (_name, sort, cursor) => {
    for (const key of ["after", "before"]) {
      const res = await get(payoutsRoute, `/api/admin/payouts?${sort}${key}=${payoutCursor(cursor)}`);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        error: { code: "validation_failed", message: expect.stringMatching(/cursor is not valid/) },
      });
    }
  });

  it.each([
    ["createdAt", { s: "createdAt", o: "desc", v: "2026-11-24T08:49:14.836Z", i: randomUUID() }],
    ["amount", { s: "amount", o: "desc", v: 2_147_483_647, i: randomUUID() }],
  ])("accept a well-formed %s cursor", async (sort, cursor) => {
    const res = await get(payoutsRoute, `/api/admin/payouts?sort=${sort}&after=${payoutCursor(cursor)}`);
    expect(res.status).toBe(200);
  });
});
