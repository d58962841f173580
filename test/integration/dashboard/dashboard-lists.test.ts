// The dashboard's list queries: disputes (open first, with their payout), providers
// (net paid, on hold, debts; search; pages), the audit log (filters, keyset pages) and
// webhook deliveries (filters, keyset pages). Expected rows come from plain SQL.
import { randomUUID } from "node:crypto";

import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { Prisma, Provider } from "@/generated/prisma/client";
import { listAuditEntries, listAuditFilterOptions } from "@/lib/audit/list-audit-entries";
import { ZAuditFilter, type TAuditFilter } from "@/lib/audit/list-audit-filter";
import { db } from "@/lib/db";
import { listDisputes } from "@/lib/disputes/list-disputes";
import { ZDisputeFilter } from "@/lib/disputes/list-disputes-filter";
import { listProviders } from "@/lib/providers/list-providers";
import { ZProviderFilter } from "@/lib/providers/list-providers-filter";
import { listDeliveries } from "@/lib/webhooks/list-deliveries";
import { ZDeliveryFilter } from "@/lib/webhooks/list-deliveries-filter";

import { createBooking, createPayout, createProvider } from "../../support/factories";

const T0 = new Date("2031-02-01T12:00:00.000Z");
const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const at = (ms: number) => new Date(T0.getTime() + ms);

let sql: pg.Client;

beforeAll(async () => {
  sql = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await sql.connect();
});

afterAll(async () => {
  await sql.end();
});

describe("listDisputes", () => {
  const disputeIds: string[] = [];

  beforeAll(async () => {
    const provider = await createProvider({ name: "Dana Dispute" });
    // Four open (opened at different times), three resolved (resolved at different times).
    const specs = [
      { status: "open", openedAt: at(-2 * DAY) },
      { status: "open", openedAt: at(-5 * DAY) },
      { status: "resolved", openedAt: at(-9 * DAY), resolvedAt: at(-DAY) },
      { status: "open", openedAt: at(-3 * DAY) },
      { status: "resolved", openedAt: at(-8 * DAY), resolvedAt: at(-3 * DAY) },
      { status: "open", openedAt: at(-1 * DAY) },
      { status: "resolved", openedAt: at(-7 * DAY), resolvedAt: at(-2 * DAY) },
    ] as const;
    for (const [i, spec] of specs.entries()) {
      const booking = await createBooking({ provider });
      if (i !== 5) {
        await createPayout({
          booking,
          status: spec.status === "open" ? "on_hold" : "transferred",
          holdReason: spec.status === "open" ? "dispute_open" : null,
        });
      }
      const dispute = await db.dispute.create({
        data: {
          externalId: `dsp_${randomUUID()}`,
          bookingId: booking.id,
          currency: "USD",
          status: spec.status,
          openedAt: spec.openedAt,
          resolvedAt: "resolvedAt" in spec ? spec.resolvedAt : null,
          outcome: spec.status === "resolved" ? "provider_won" : null,
        },
      });
      disputeIds.push(dispute.id);
    }
  });

  it("lists open disputes first, longest open first, then resolved ones, most recently resolved first", async () => {
    const list = await listDisputes(db, ZDisputeFilter.parse({}));
    const { rows } = await sql.query<{ id: string }>(
      `SELECT id FROM "Dispute" ORDER BY (status = 'open') DESC,
         CASE WHEN status = 'open' THEN "openedAt" END ASC,
         CASE WHEN status = 'resolved' THEN "resolvedAt" END DESC NULLS LAST, id`,
    );
    expect(list.items.map((d) => d.id)).toEqual(rows.map((r) => r.id));
    expect(list.items.map((d) => d.id)).toEqual([1, 3, 0, 5, 2, 6, 4].map((i) => disputeIds[i]));
    expect(list.counts).toEqual({ open: 4, resolved: 3 });
    expect(list.total).toBe(7);
  });

  it("shows the payout each dispute holds, or none", async () => {
    const list = await listDisputes(db, ZDisputeFilter.parse({ status: "open" }));
    const first = list.items[0];
    const payout = await db.payout.findFirstOrThrow({ where: { booking: { disputes: { some: { id: disputeIds[1] } } } } });
    expect(first?.payout).toEqual({ id: payout.id, status: "on_hold", amount: payout.amount, currency: "USD", holdReason: "dispute_open" });
    expect(list.items.find((d) => d.id === disputeIds[5])?.payout).toBeNull();
    expect(first?.provider.name).toBe("Dana Dispute");
  });

  it("filters by status and pages through the combined order", async () => {
    expect((await listDisputes(db, ZDisputeFilter.parse({ status: "resolved" }))).items.map((d) => d.id)).toEqual(
      [2, 6, 4].map((i) => disputeIds[i]),
    );
    const page1 = await listDisputes(db, ZDisputeFilter.parse({ page: "1" }), 3);
    const page2 = await listDisputes(db, ZDisputeFilter.parse({ page: "2" }), 3);
    const page3 = await listDisputes(db, ZDisputeFilter.parse({ page: "3" }), 3);
    expect([...page1.items, ...page2.items, ...page3.items].map((d) => d.id)).toEqual([1, 3, 0, 5, 2, 6, 4].map((i) => disputeIds[i]));
    expect(page3.items).toHaveLength(1);
    expect((await listDisputes(db, ZDisputeFilter.parse({ page: "9" }), 3)).items).toEqual([]);
  });

  it("rejects unknown filter values and keys", () => {
    expect(ZDisputeFilter.safeParse({ status: "closed" }).success).toBe(false);
    expect(ZDisputeFilter.safeParse({ page: "0" }).success).toBe(false);
    expect(ZDisputeFilter.safeParse({ sort: "x" }).success).toBe(false);
  });
});

describe("listProviders", () => {
  let zed: Provider;
  let yana: Provider;

  beforeAll(async () => {
    zed = await createProvider({ name: "Zed Zebra (lists)" });
    yana = await createProvider({ name: "Yana Yak (lists)", stripeAccountId: null, payoutsEnabled: false });
    await createPayout({ provider: zed, status: "transferred", providerShare: 2_000_000_000 });
    await createPayout({ provider: zed, status: "transferred", providerShare: 1_000_000_000 });
    const reversed = await createPayout({ provider: zed, status: "partially_reversed", providerShare: 10_000, reversedAmount: 2_500 });
    await createPayout({ provider: zed, currency: "EUR", status: "reversed", providerShare: 4_000, reversedAmount: 4_000 });
    await createPayout({ provider: zed, status: "on_hold", holdReason: "admin_hold" });
    await createPayout({ provider: zed, status: "on_hold", holdReason: "dispute_open" });
    await createPayout({ provider: zed, status: "scheduled" });
    await createPayout({ provider: zed, status: "failed" });
    await db.providerDebt.create({
      data: { providerId: zed.id, payoutId: reversed.id, amount: 700, currency: "USD", status: "open", reason: "reversal failed" },
    });
    await db.providerDebt.create({
      data: { providerId: zed.id, payoutId: reversed.id, amount: 300, currency: "USD", status: "settled", reason: "paid back" },
    });
    await createPayout({ provider: yana, status: "on_hold", holdReason: "provider_account_not_ready" });
  });

  it("gives net paid per currency (transferred minus reversed), on-hold count and open debts, as SQL computes them", async () => {
    const list = await listProviders(db, ZProviderFilter.parse({ q: "(lists)" }));
    expect(list.items.map((p) => p.name)).toEqual(["Yana Yak (lists)", "Zed Zebra (lists)"]);
    const z = list.items[1]!;
    const { rows } = await sql.query<{ currency: string; paid: string; count: string }>(
      `SELECT currency, sum(amount - "reversedAmount")::text AS paid, count(*)::text AS count FROM "Payout"
       WHERE "providerId" = $1 AND status IN ('transferred', 'partially_reversed', 'reversed') GROUP BY currency ORDER BY currency`,
      [zed.id],
    );
    expect(z.paid).toEqual(rows.map((r) => ({ currency: r.currency, amount: Number(r.paid), count: Number(r.count) })));
    expect(z.paid).toEqual([
      { currency: "EUR", count: 1, amount: 0 },
      { currency: "USD", count: 3, amount: 3_000_007_500 },
    ]);
    expect(z.onHoldCount).toBe(2);
    expect(z.payoutCount).toBe(8);
    expect(z.openDebts).toEqual([{ currency: "USD", count: 1, amount: 700 }]);
    expect(list.items[0]).toMatchObject({ stripeAccountId: null, payoutsEnabled: false, paid: [], openDebts: [], onHoldCount: 1 });
  });

  it("searches by name (case-insensitive) or exact account id, filters readiness, and pages by name", async () => {
    expect((await listProviders(db, ZProviderFilter.parse({ q: "zebra" }))).items.map((p) => p.id)).toEqual([zed.id]);
    const account = (await db.provider.findUniqueOrThrow({ where: { id: zed.id } })).stripeAccountId!;
    expect((await listProviders(db, ZProviderFilter.parse({ q: account }))).items.map((p) => p.id)).toEqual([zed.id]);
    expect((await listProviders(db, ZProviderFilter.parse({ q: "(lists)", readiness: "not_ready" }))).items.map((p) => p.id)).toEqual([
      yana.id,
    ]);
    expect((await listProviders(db, ZProviderFilter.parse({ q: "no such provider" }))).items).toEqual([]);

    const { rows } = await sql.query<{ id: string }>(`SELECT id FROM "Provider" ORDER BY name, id`);
    const pages = [];
    for (let page = 1; page <= Math.ceil(rows.length / 2); page += 1)
      pages.push(...(await listProviders(db, ZProviderFilter.parse({ page: String(page) }), 2)).items);
    expect(pages.map((p) => p.id)).toEqual(rows.map((r) => r.id));
    expect((await listProviders(db, ZProviderFilter.parse({}), 2)).total).toBe(rows.length);
  });
});

describe("listAuditEntries", () => {
  let userA: string;
  let userB: string;

  beforeAll(async () => {
    userA = (await db.adminUser.create({ data: { email: "audit-a@example.test", name: "Audrey A", role: "admin", passwordHash: "x" } })).id;
    userB = (await db.adminUser.create({ data: { email: "audit-b@example.test", name: "Bert B", role: "operator", passwordHash: "x" } }))
      .id;
    const rows: Prisma.AuditLogCreateManyInput[] = [];
    // 60 entries over three days; some share a timestamp, so the id breaks ties.
    for (let i = 0; i < 60; i += 1) {
      const kind = i % 4;
      rows.push({
        actorType: kind === 0 ? "system" : kind === 1 ? "webhook" : "admin",
        actorId: kind === 0 ? "inngest:transfer-payout" : kind === 1 ? "booking-platform" : kind === 2 ? userA : userB,
        actorLabel:
          kind === 0
            ? "Payout engine"
            : kind === 1
              ? "Booking platform"
              : kind === 2
                ? "Audrey A <audit-a@example.test>"
                : "Bert B <audit-b@example.test>",
        action: i % 3 === 0 ? "payout.held" : i % 3 === 1 ? "payout.released" : "alert.acknowledged",
        entityType: i % 3 === 2 ? "alert" : "payout",
        entityId: i % 5 === 0 ? "00000000-0000-4000-8000-000000000001" : randomUUID(),
        reason: `entry ${i}`,
        before: { n: i },
        after: { n: i + 1 },
        createdAt: at(-Math.floor(i / 2) * 2 * HOUR),
      });
    }
    await db.auditLog.createMany({ data: rows });
  });

  async function expectedIds(where: string, params: unknown[]): Promise<string[]> {
    const { rows } = await sql.query<{ id: string }>(`SELECT id FROM "AuditLog" WHERE ${where} ORDER BY "createdAt" DESC, id DESC`, params);
    return rows.map((r) => r.id);
  }

  async function walk(filter: TAuditFilter, pageSize: number): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await listAuditEntries(db, { ...filter, after: cursor }, pageSize);
      pages += 1;
      ids.push(...page.items.map((e) => e.id));
      if (!page.nextCursor) return { ids, pages };
      cursor = page.nextCursor;
    }
  }

  it("pages through everything newest first with keyset cursors, ties broken by id", async () => {
    const all = await expectedIds("true", []);
    const { ids, pages } = await walk(ZAuditFilter.parse({}), 7);
    expect(ids).toEqual(all);
    expect(pages).toBe(Math.ceil(all.length / 7));
  });

  it("goes back to newer pages with `before`", async () => {
    const first = await listAuditEntries(db, ZAuditFilter.parse({}), 5);
    expect(first.prevCursor).toBeNull();
    const second = await listAuditEntries(db, ZAuditFilter.parse({ after: first.nextCursor! }), 5);
    expect(second.prevCursor).not.toBeNull();
    const back = await listAuditEntries(db, ZAuditFilter.parse({ before: second.prevCursor! }), 5);
    expect(back.items.map((e) => e.id)).toEqual(first.items.map((e) => e.id));
    expect(back.prevCursor).toBeNull();
    expect(back.nextCursor).toBe(first.nextCursor);
  });

  it.each([
    ["a user", () => ({ actor: `user:${userA}` }), () => [`"actorType" = 'admin' AND "actorId" = $1`, [userA]] as const],
    ["the system", () => ({ actor: "system" }), () => [`"actorType" = 'system'`, []] as const],
    ["webhooks", () => ({ actor: "webhook" }), () => [`"actorType" = 'webhook'`, []] as const],
    ["an action", () => ({ action: "payout.released" }), () => [`action = 'payout.released'`, []] as const],
    [
      "an entity type and id",
      () => ({ entityType: "payout", entityId: "00000000-0000-4000-8000-000000000001" }),
      () => [`"entityType" = 'payout' AND "entityId" = '00000000-0000-4000-8000-000000000001'`, []] as const,
    ],
    [
      "a date range (UTC days, both included)",
      () => ({ from: "2031-01-31", to: "2031-01-31" }),
      () => [`"createdAt" >= '2031-01-31T00:00:00Z' AND "createdAt" < '2031-02-01T00:00:00Z'`, []] as const,
    ],
    [
      "a user and an action",
      () => ({ actor: `user:${userB}`, action: "payout.held" }),
      () => [`"actorId" = $1 AND action = 'payout.held'`, [userB]] as const,
    ],
  ])("filters by %s exactly as SQL does", async (_name, filter, where) => {
    const [clause, params] = where();
    const expected = await expectedIds(clause, [...params]);
    expect(expected.length).toBeGreaterThan(0);
    const { ids } = await walk(ZAuditFilter.parse(filter()), 4);
    expect(ids).toEqual(expected);
  });

  it("treats empty form fields as not given and refuses bad ones", () => {
    expect(ZAuditFilter.parse({ actor: "", action: "", from: "" })).toEqual({});
    expect(ZAuditFilter.safeParse({ actor: "user:nope" }).success).toBe(false);
    expect(ZAuditFilter.safeParse({ from: "2031-02-30" }).success).toBe(false);
    expect(ZAuditFilter.safeParse({ from: "2031-02-02", to: "2031-02-01" }).success).toBe(false);
    expect(ZAuditFilter.safeParse({ after: "garbage" }).success).toBe(false);
    expect(ZAuditFilter.safeParse({ limit: "5" }).success).toBe(false);
  });

  it("offers every admin user and every action as filter options", async () => {
    const options = await listAuditFilterOptions(db);
    const { rows } = await sql.query<{ action: string }>(`SELECT DISTINCT action FROM "AuditLog" ORDER BY action`);
    expect(options.actions).toEqual(rows.map((r) => r.action));
    expect(options.users).toEqual(expect.arrayContaining([{ value: `user:${userA}`, label: "Audrey A (audit-a@example.test)" }]));
  });
});

describe("listDeliveries", () => {
  beforeAll(async () => {
    const rows: Prisma.WebhookEventCreateManyInput[] = [];
    for (let i = 0; i < 23; i += 1) {
      rows.push({
        source: i % 2 === 0 ? "booking_platform" : "stripe",
        externalId: `evt_list_${i}`,
        type: i % 3 === 0 ? "booking.completed" : "tip.added",
        payload: { i },
        status: i % 4 === 0 ? "failed" : "processed",
        error: i % 4 === 0 ? "boom" : null,
        receivedAt: at(-Math.floor(i / 3) * MINUTE),
      });
    }
    await db.webhookEvent.createMany({ data: rows });
  });

  it("pages newest first and filters by status, source and type as SQL does", async () => {
    for (const [filter, where] of [
      [{}, "true"],
      [{ status: "failed" }, `status = 'failed'`],
      [{ source: "stripe", type: "tip.added" }, `source = 'stripe' AND type = 'tip.added'`],
    ] as const) {
      const { rows } = await sql.query<{ id: string }>(`SELECT id FROM "WebhookEvent" WHERE ${where} ORDER BY "receivedAt" DESC, id DESC`);
      const ids: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await listDeliveries(db, ZDeliveryFilter.parse({ ...filter, after, limit: 4 }), { payload: true });
        ids.push(...page.items.map((d) => d.id));
        if (!page.nextCursor) break;
        after = page.nextCursor;
      }
      expect(ids).toEqual(rows.map((r) => r.id));
    }
    const first = await listDeliveries(db, ZDeliveryFilter.parse({ status: "failed", limit: 2 }), { payload: true });
    expect(first.items[0]).toMatchObject({ status: "failed", error: "boom", note: null, payload: { i: 0 }, externalId: "evt_list_0" });
    // Without asking for it (the API's list), no payload is read.
    expect((await listDeliveries(db, ZDeliveryFilter.parse({ status: "failed", limit: 2 }))).items[0]).not.toHaveProperty("payload");
  });

  it("goes back to newer pages with `before`", async () => {
    const filter = (page: Record<string, string>) => ZDeliveryFilter.parse({ source: "booking_platform", limit: "3", ...page });
    const first = await listDeliveries(db, filter({}));
    expect(first.prevCursor).toBeNull();
    const second = await listDeliveries(db, filter({ after: first.nextCursor! }));
    expect(second.prevCursor).not.toBeNull();
    const back = await listDeliveries(db, filter({ before: second.prevCursor! }));
    expect(back.items.map((d) => d.id)).toEqual(first.items.map((d) => d.id));
    expect(back.prevCursor).toBeNull();
    expect(back.nextCursor).toBe(first.nextCursor);
    // The API's `cursor` is `after` by another name.
    expect(filter({ cursor: first.nextCursor! })).toEqual(filter({ after: first.nextCursor! }));
  });
});
