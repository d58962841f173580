// Planted-bug guard, class 4: keyset pages whose rows tie on the sort key across a page boundary.
// Every list that pages on (sort key, id) — the payouts list (createdAt, eligibleAt, amount), the
// audit log (createdAt) and the webhook deliveries (receivedAt) — is walked page by page, forward
// and back, with one row per page (so every pair of neighbouring rows, every tie included, is a
// page boundary) and with a few rows per page; every walk must return every row exactly once, in
// the list's order (the sort key, then the id).
//
// The rows are made by the booking platform's webhook only: concurrent booking.completed deliveries
// with the same completion time and provider share (the payouts tie on eligibleAt and amount), whose
// deliveries and payouts also share instants (timestamps are milliseconds; a burst of concurrent
// deliveries lands several in one; the set-up checks that such ties exist), and audit entries dated
// at one instant, as several servers' can be.
//
// Plants this file was run against (each made it fail):
//   - lib/payouts/list-payouts.ts `keysetCondition`: the sort column alone (`col > v`, no id);
//     and `>=` / `<=` on (col, id).
//   - lib/audit/list-audit-entries.ts: `createdAt < position` alone for the next page; `lte`;
//     and, separately, `createdAt > position` alone for the previous page.
//   - lib/webhooks/list-deliveries.ts `beyond`: `receivedAt` alone; and `lte`/`gte` on receivedAt alone.
// The lists paged by offset whose order can tie (providers by name, disputes by openedAt / resolvedAt)
// are walked too; plants: the id dropped from lib/providers/list-providers.ts's orderBy, and from
// lib/disputes/list-disputes.ts's open and (separately) resolved order — rows came back twice. (The
// alerts list orders by createdAt / acknowledgedAt, instants the test cannot make tie on purpose.)
import { randomUUID } from "node:crypto";

import { beforeAll, describe, expect, it } from "vitest";

import { listAuditEntries } from "@/lib/audit/list-audit-entries";
import { ZAuditFilter } from "@/lib/audit/list-audit-filter";
import { recordAudits } from "@/lib/audit/record-audit";
import { db } from "@/lib/db";
import { listDisputes } from "@/lib/disputes/list-disputes";
import { ZDisputeFilter } from "@/lib/disputes/list-disputes-filter";
import { listPayouts } from "@/lib/payouts/list-payouts";
import { ZPayoutListQuery } from "@/lib/payouts/payout-filter";
import { listProviders } from "@/lib/providers/list-providers";
import { ZProviderFilter } from "@/lib/providers/list-providers-filter";
import { listDeliveries } from "@/lib/webhooks/list-deliveries";
import { ZDeliveryFilter } from "@/lib/webhooks/list-deliveries-filter";

import { bookingCompletedEvent, sendBookingEvent } from "../../support/booking-webhook";
import { stripeId } from "../../support/stripe-fixtures";

const COMPLETED_AT = new Date(Date.now() - 2 * 60 * 60 * 1000);
const SHARES = [8_000, 5_000];

/** Sends `n` booking.completed deliveries at once: same completion time; provider shares alternating. */
async function burst(n: number): Promise<void> {
  const answers = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      sendBookingEvent(
        bookingCompletedEvent({
          bookingId: `bk_${randomUUID()}`,
          providerId: `prov_${randomUUID()}`,
          stripeAccountId: stripeId("acct_", 16),
          providerShare: SHARES[i % SHARES.length]!,
          completedAt: COMPLETED_AT,
        }),
      ),
    ),
  );
  for (const answer of answers) expect(answer).toEqual({ status: 200, body: { received: true } });
}

/** How many values of a timestamp column are shared by two rows or more. */
async function tiedInstants(table: "WebhookEvent" | "AuditLog" | "Payout", column: "receivedAt" | "createdAt"): Promise<number> {
  const [row] = await db.$queryRawUnsafe<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM "${table}" GROUP BY "${column}" HAVING count(*) > 1) t`,
  );
  return row?.n ?? 0;
}

beforeAll(async () => {
  // Bursts until deliveries share instants (usually within a few: the deliveries are applied after
  // their answers, at most APPLY_CONCURRENCY at once).
  for (let i = 0; i < 40; i++) {
    await burst(8);
    if ((await tiedInstants("WebhookEvent", "receivedAt")) > 0) break;
  }
  expect(await tiedInstants("WebhookEvent", "receivedAt")).toBeGreaterThan(0);
  // One process dates each audit entry after the one before it (record-audit.ts), so the bursts'
  // entries no longer tie; entries of several servers still can. A few dated at one instant, as
  // such entries would be, between the bursts' own.
  const instant = new Date(Date.now() - 1_000);
  const tied = Array.from({ length: 5 }, (_, i) => ({
    actor: { type: "system", id: "keyset-ties", label: "Another server" } as const,
    action: "payout.amount_adjusted" as const,
    entityType: "payout" as const,
    entityId: randomUUID(),
    reason: `tied ${i}`,
    at: instant,
  }));
  await db.$transaction((tx) => recordAudits(tx, tied));
  expect(await tiedInstants("AuditLog", "createdAt")).toBeGreaterThan(0);
});

/** A walk: each page's ids, following `next` until it gives no position; stops (and fails) past `max` pages. */
async function walk<TPos>(
  first: () => Promise<{ ids: string[]; next: TPos | null }>,
  page: (pos: TPos) => Promise<{ ids: string[]; next: TPos | null }>,
  max: number,
) {
  const pages: string[][] = [];
  let current = await first();
  pages.push(current.ids);
  while (current.next !== null) {
    if (pages.length > max) throw new Error(`more than ${max} pages: the walk does not end (${pages.flat().length} rows so far)`);
    current = await page(current.next);
    pages.push(current.ids);
  }
  return pages;
}

/** The walk forward and the walk back from its last page, each checked against the list's order. */
function expectEveryRowOnce(forward: string[][], back: string[][], expected: string[], label: string) {
  expect(forward.flat(), `${label}: forward`).toEqual(expected);
  // Back: the pages come newest-last; each page is in the list's order.
  expect(back.reverse().flat(), `${label}: back`).toEqual(expected);
}

describe("payouts list (sort key, id)", () => {
  const sorts = ["amount", "eligibleAt", "createdAt"] as const;
  const column = { amount: "amount", eligibleAt: "eligibleAt", createdAt: "createdAt" } as const;

  it("the set-up ties: every payout on eligibleAt, half of them on each amount", async () => {
    const payouts = await db.payout.findMany({ select: { amount: true, eligibleAt: true } });
    expect(payouts.length).toBeGreaterThanOrEqual(8);
    expect(new Set(payouts.map((p) => p.eligibleAt.getTime())).size).toBe(1);
    expect(new Set(payouts.map((p) => p.amount))).toEqual(new Set(SHARES));
  });

  for (const sort of sorts) {
    for (const order of ["asc", "desc"] as const) {
      for (const limit of [1, 5]) {
        it(`sort ${sort} ${order}, ${limit} per page: every payout once, forward and back`, async () => {
          const expected = (await db.payout.findMany({ orderBy: [{ [column[sort]]: order }, { id: order }], select: { id: true } })).map(
            (p) => p.id,
          );
          const max = expected.length + 2;
          const query = (page: { after?: string; before?: string }) =>
            listPayouts(db, ZPayoutListQuery.parse({ sort, order, limit, ...page }));

          const forwardPages: { ids: string[]; prev: string | null }[] = [];
          const forward = await walk(
            async () => {
              const p = await query({});
              forwardPages.push({ ids: p.items.map((i) => i.id), prev: p.pageInfo.prevCursor });
              return { ids: p.items.map((i) => i.id), next: p.pageInfo.nextCursor };
            },
            async (after: string) => {
              const p = await query({ after });
              forwardPages.push({ ids: p.items.map((i) => i.id), prev: p.pageInfo.prevCursor });
              return { ids: p.items.map((i) => i.id), next: p.pageInfo.nextCursor };
            },
            max,
          );
          const last = forwardPages.at(-1)!;
          const back = await walk(
            async () => ({ ids: last.ids, next: last.prev }),
            async (before: string) => {
              const p = await query({ before });
              return { ids: p.items.map((i) => i.id), next: p.pageInfo.prevCursor };
            },
            max,
          );
          expectEveryRowOnce(forward, back, expected, `${sort} ${order} limit ${limit}`);
        });
      }
    }
  }
});

describe("audit log (createdAt, id), newest first", () => {
  for (const pageSize of [1, 4]) {
    it(`${pageSize} per page: every entry once, forward and back`, async () => {
      const expected = (await db.auditLog.findMany({ orderBy: [{ createdAt: "desc" }, { id: "desc" }], select: { id: true } })).map(
        (e) => e.id,
      );
      const max = expected.length + 2;
      const page = (position: { after?: string; before?: string }) => listAuditEntries(db, ZAuditFilter.parse(position), pageSize, "admin");

      const seen: { ids: string[]; prev: string | null }[] = [];
      const forward = await walk(
        async () => {
          const p = await page({});
          seen.push({ ids: p.items.map((e) => e.id), prev: p.prevCursor });
          return { ids: p.items.map((e) => e.id), next: p.nextCursor };
        },
        async (after: string) => {
          const p = await page({ after });
          seen.push({ ids: p.items.map((e) => e.id), prev: p.prevCursor });
          return { ids: p.items.map((e) => e.id), next: p.nextCursor };
        },
        max,
      );
      const last = seen.at(-1)!;
      const back = await walk(
        async () => ({ ids: last.ids, next: last.prev }),
        async (before: string) => {
          const p = await page({ before });
          return { ids: p.items.map((e) => e.id), next: p.prevCursor };
        },
        max,
      );
      expectEveryRowOnce(forward, back, expected, `audit, ${pageSize} per page`);
    });
  }
});

describe("webhook deliveries (receivedAt, id), newest first", () => {
  for (const limit of [1, 4]) {
    it(`${limit} per page: every delivery once, forward and back`, async () => {
      const expected = (await db.webhookEvent.findMany({ orderBy: [{ receivedAt: "desc" }, { id: "desc" }], select: { id: true } })).map(
        (e) => e.id,
      );
      const max = expected.length + 2;
      const page = (position: { after?: string; before?: string }) => listDeliveries(db, ZDeliveryFilter.parse({ limit, ...position }));

      const seen: { ids: string[]; prev: string | null }[] = [];
      const forward = await walk(
        async () => {
          const p = await page({});
          seen.push({ ids: p.items.map((e) => e.id), prev: p.prevCursor });
          return { ids: p.items.map((e) => e.id), next: p.nextCursor };
        },
        async (after: string) => {
          const p = await page({ after });
          seen.push({ ids: p.items.map((e) => e.id), prev: p.prevCursor });
          return { ids: p.items.map((e) => e.id), next: p.nextCursor };
        },
        max,
      );
      const last = seen.at(-1)!;
      const back = await walk(
        async () => ({ ids: last.ids, next: last.prev }),
        async (before: string) => {
          const p = await page({ before });
          return { ids: p.items.map((e) => e.id), next: p.prevCursor };
        },
        max,
      );
      expectEveryRowOnce(forward, back, expected, `deliveries, ${limit} per page`);
    });
  }
});

describe("offset-paged lists whose order ties (name, openedAt, resolvedAt; then id)", () => {
  /** Every page of an offset list, `pageSize` rows each, until one comes back short. */
  async function allPages(read: (page: number) => Promise<string[]>, pageSize: number, max: number): Promise<string[]> {
    const ids: string[] = [];
    for (let page = 1; page <= max; page++) {
      const rows = await read(page);
      ids.push(...rows);
      if (rows.length < pageSize) return ids;
    }
    throw new Error(`more than ${max} pages`);
  }

  /** Each row once (none repeated, none missing), then in the list's order. */
  function expectEachOnceInOrder(ids: string[], expected: string[], label: string) {
    expect(
      ids.filter((id, i) => ids.indexOf(id) !== i),
      `${label}: repeated`,
    ).toEqual([]);
    expect(
      expected.filter((id) => !ids.includes(id)),
      `${label}: missing`,
    ).toEqual([]);
    expect(ids, `${label}: order`).toEqual(expected);
  }

  it("providers (all named alike), by name then id: every provider once", async () => {
    const expected = await db.provider.findMany({ orderBy: [{ name: "asc" }, { id: "asc" }], select: { id: true, name: true } });
    expect(new Set(expected.map((p) => p.name)).size).toBe(1);
    for (const pageSize of [1, 3, 5]) {
      const ids = await allPages(
        async (page) => (await listProviders(db, ZProviderFilter.parse({ page }), pageSize)).items.map((p) => p.id),
        pageSize,
        expected.length + 2,
      );
      expectEachOnceInOrder(
        ids,
        expected.map((p) => p.id),
        `${pageSize} per page`,
      );
    }
  });

  it("disputes opened at one instant, and resolved at another, open first: every dispute once", async () => {
    const bookings = await db.booking.findMany({ select: { externalId: true }, take: 8 });
    const openedAt = new Date(Date.now() - 60 * 60 * 1000).toISOString();
    const resolvedAt = new Date(Date.now() - 30 * 60 * 1000).toISOString();
    const disputeIds = bookings.map(() => `dsp_${randomUUID()}`);
    const send = (type: string, data: Record<string, unknown>) =>
      sendBookingEvent({ id: `evt_${randomUUID()}`, type, createdAt: new Date().toISOString(), data });
    for (const answer of await Promise.all(
      bookings.map((b, i) =>
        send("dispute.opened", { disputeId: disputeIds[i], bookingId: b.externalId, reason: "not delivered", openedAt, scope: "booking" }),
      ),
    )) {
      expect(answer).toEqual({ status: 200, body: { received: true } });
    }
    // Half of them resolved (won), all at the same instant.
    for (const answer of await Promise.all(
      bookings
        .filter((_, i) => i % 2 === 0)
        .map((b, i) =>
          send("dispute.resolved", {
            disputeId: disputeIds[i * 2],
            bookingId: b.externalId,
            resolvedAt,
            outcome: "provider_won",
            refundedAmount: 0,
          }),
        ),
    )) {
      expect(answer).toEqual({ status: 200, body: { received: true } });
    }
    const open = await db.dispute.findMany({
      where: { status: "open" },
      orderBy: [{ openedAt: "asc" }, { id: "asc" }],
      select: { id: true },
    });
    const resolved = await db.dispute.findMany({
      where: { status: "resolved" },
      orderBy: [{ resolvedAt: "desc" }, { id: "desc" }],
      select: { id: true },
    });
    expect(open.length).toBeGreaterThan(2);
    expect(resolved.length).toBeGreaterThan(2);
    const expected = [...open, ...resolved].map((d) => d.id);
    for (const pageSize of [1, 3, 5]) {
      const ids = await allPages(
        async (page) => (await listDisputes(db, ZDisputeFilter.parse({ page }), pageSize)).items.map((d) => d.id),
        pageSize,
        expected.length + 2,
      );
      expectEachOnceInOrder(ids, expected, `${pageSize} per page`);
    }
  });
});
