import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { PayoutStatus } from "@/generated/prisma/enums";
import { db } from "@/lib/db";
import { getOverview } from "@/lib/overview/get-overview";
import type { TOverview } from "@/lib/overview/types";

import { createBooking, createPayout, createProvider } from "../../support/factories";

const NOW = new Date("2031-03-10T12:00:00.000Z");
const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

// An independent connection: expected figures are computed by plain SQL, not by Prisma.
let sql: pg.Client;

beforeAll(async () => {
  sql = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await sql.connect();
});

afterAll(async () => {
  await sql.end();
});

type TSqlTotal = { currency: string; count: string; amount: string };

async function sqlTotals(where: string, params: unknown[] = []): Promise<Map<string, { count: number; amount: number }>> {
  const { rows } = await sql.query<TSqlTotal>(
    `SELECT currency, count(*)::text AS count, sum(amount)::text AS amount FROM "Payout" WHERE ${where} GROUP BY currency`,
    params,
  );
  return new Map(rows.map((r) => [r.currency, { count: Number(r.count), amount: Number(r.amount) }]));
}

describe("getOverview", () => {
  it("reports zeros and empty lists when there are no payouts", async () => {
    const overview = await getOverview(db, NOW);

    expect(overview.currencies).toEqual([]);
    expect(overview.byStatus.map((s) => s.status)).toEqual(Object.values(PayoutStatus));
    for (const summary of overview.byStatus) expect(summary).toMatchObject({ count: 0, totals: [] });
    expect(overview.dueSoon).toMatchObject({ count: 0, totals: [], soonest: [] });
    expect(overview.failed).toEqual({ count: 0, totals: [], payouts: [] });
    expect(overview.onHold.count).toBe(0);
    expect(overview.onHold.byReason).toEqual([
      { reason: "dispute_open", count: 0 },
      { reason: "admin_hold", count: 0 },
      { reason: "provider_account_not_ready", count: 0 },
      { reason: "awaiting_funds", count: 0 },
      { reason: "currency_unsupported", count: 0 },
      { reason: "review_required", count: 0 },
    ]);
  });

  describe("with a mixed data set", () => {
    let overview: TOverview;
    let firstDueId: string;
    let secondDueId: string;

    beforeAll(async () => {
      const alice = await createProvider({ name: "Alice Anders" });
      const bob = await createProvider({ name: "Bob Brown", stripeAccountId: null, payoutsEnabled: false });
      const chiyo = await createProvider({ name: "Chiyo Chiba" });

      // Scheduled, due within [now, now + 48h): the start is included, the end is not.
      secondDueId = (await createPayout({ provider: alice, providerShare: 1_000, tipAmount: 250, eligibleAt: at(HOUR) })).id;
      firstDueId = (await createPayout({ provider: alice, providerShare: 2_000, eligibleAt: at(30 * MINUTE) })).id;
      await createPayout({ provider: bob, providerShare: 3_000, eligibleAt: at(48 * HOUR - 1) });
      await createPayout({ provider: alice, providerShare: 3_000, eligibleAt: NOW });
      for (let i = 0; i < 10; i += 1) {
        await createPayout({ provider: bob, providerShare: 100, eligibleAt: at((2 + i) * HOUR) });
      }
      await createPayout({ provider: alice, currency: "EUR", providerShare: 7_000, refundedAmount: 500, eligibleAt: at(5 * HOUR) });
      await createPayout({ provider: chiyo, currency: "JPY", providerShare: 5_000, eligibleAt: at(10 * HOUR) });

      // Scheduled but not due in the window: at its end, far later, and already past.
      await createPayout({ provider: alice, providerShare: 4_000, eligibleAt: at(48 * HOUR) });
      await createPayout({ provider: chiyo, currency: "JPY", providerShare: 9_000, eligibleAt: at(72 * HOUR) });
      await createPayout({ provider: alice, providerShare: 5_000, eligibleAt: at(-1) });

      // On hold (one of them would be due if it were scheduled).
      await createPayout({ provider: alice, status: "on_hold", holdReason: "dispute_open", providerShare: 1_500, eligibleAt: at(HOUR) });
      await createPayout({ provider: bob, status: "on_hold", holdReason: "dispute_open", providerShare: 1_500 });
      await createPayout({ provider: alice, status: "on_hold", holdReason: "admin_hold", providerShare: 2_500 });
      await createPayout({
        provider: chiyo,
        currency: "JPY",
        status: "on_hold",
        holdReason: "provider_account_not_ready",
        providerShare: 8_000,
      });

      await createPayout({ provider: alice, status: "processing", providerShare: 3_300, eligibleAt: at(-HOUR) });

      // Two transfers whose sum (4,000,000,000) does not fit a 32-bit integer.
      await createPayout({ provider: alice, status: "transferred", providerShare: 1_999_999_000, tipAmount: 1_000 });
      await createPayout({ provider: bob, status: "transferred", providerShare: 2_000_000_000 });
      await createPayout({ provider: alice, currency: "EUR", status: "transferred", providerShare: 12_345 });

      // Failed: 21 in USD and 2 in JPY, updated a minute apart; the list shows the newest 20.
      for (let i = 0; i < 21; i += 1) {
        await createPayout({
          provider: i % 2 === 0 ? alice : bob,
          status: "failed",
          providerShare: 1_000 + i,
          attempts: 3,
          lastError: `Stripe error ${i}`,
          updatedAt: at(-(i * 2 + 1) * MINUTE),
        });
      }
      const jpyBooking = await createBooking({ provider: chiyo, currency: "JPY", providerShare: 700 });
      await createPayout({ booking: jpyBooking, status: "failed", attempts: 1, lastError: "Account closed", updatedAt: at(-4 * MINUTE) });
      await createPayout({
        provider: chiyo,
        currency: "JPY",
        status: "failed",
        providerShare: 800,
        attempts: 3,
        updatedAt: at(-90 * MINUTE),
      });

      // Fully refunded and cancelled: amount zero.
      await createPayout({
        currency: "EUR",
        status: "cancelled",
        providerShare: 1_000,
        refundedAmount: 1_000,
        cancelReason: "fully refunded",
      });

      overview = await getOverview(db, NOW);
    });

    it("counts and sums every status and currency as SQL does, zeros included", async () => {
      const { rows } = await sql.query<TSqlTotal & { status: string }>(
        `SELECT status::text AS status, currency, count(*)::text AS count, sum(amount)::text AS amount
         FROM "Payout" GROUP BY status, currency`,
      );
      const currencies = [...new Set(rows.map((r) => r.currency))].sort();
      expect(overview.currencies).toEqual(currencies);
      expect(overview.byStatus.map((s) => s.status)).toEqual(Object.values(PayoutStatus));

      for (const summary of overview.byStatus) {
        expect(summary.totals.map((t) => t.currency)).toEqual(currencies);
        for (const total of summary.totals) {
          const row = rows.find((r) => r.status === summary.status && r.currency === total.currency);
          expect(total, `${summary.status} ${total.currency}`).toEqual({
            currency: total.currency,
            count: Number(row?.count ?? 0),
            amount: Number(row?.amount ?? 0),
          });
        }
        expect(summary.count).toBe(summary.totals.reduce((n, t) => n + t.count, 0));
      }
    });

    it("gives exact figures, including sums beyond 2^31 and statuses with no payouts", () => {
      const status = (s: PayoutStatus) => overview.byStatus.find((x) => x.status === s);
      const total = (s: PayoutStatus, currency: string) => status(s)?.totals.find((t) => t.currency === currency);

      expect(overview.currencies).toEqual(["EUR", "JPY", "USD"]);
      expect(total("transferred", "USD")).toEqual({ currency: "USD", count: 2, amount: 4_000_000_000 });
      expect(total("transferred", "EUR")).toEqual({ currency: "EUR", count: 1, amount: 12_345 });
      expect(total("scheduled", "USD")).toEqual({
        currency: "USD",
        count: 16,
        amount: 1_250 + 2_000 + 3_000 + 3_000 + 1_000 + 4_000 + 5_000,
      });
      expect(total("scheduled", "JPY")).toEqual({ currency: "JPY", count: 2, amount: 14_000 });
      expect(total("failed", "USD")).toEqual({ currency: "USD", count: 21, amount: 21 * 1_000 + 210 });
      expect(total("cancelled", "EUR")).toEqual({ currency: "EUR", count: 1, amount: 0 });
      expect(status("reversed")).toEqual({
        status: "reversed",
        count: 0,
        totals: [
          { currency: "EUR", count: 0, amount: 0 },
          { currency: "JPY", count: 0, amount: 0 },
          { currency: "USD", count: 0, amount: 0 },
        ],
      });
      expect(status("partially_reversed")?.count).toBe(0);
    });

    it("finds scheduled payouts due in the next 48 hours as SQL does", async () => {
      const windowEnd = at(48 * HOUR);
      const expected = await sqlTotals(`status = 'scheduled' AND "eligibleAt" >= $1 AND "eligibleAt" < $2`, [NOW, windowEnd]);
      expect(new Map(overview.dueSoon.totals.map((t) => [t.currency, { count: t.count, amount: t.amount }]))).toEqual(expected);

      expect(overview.dueSoon.windowStart).toBe(NOW.toISOString());
      expect(overview.dueSoon.windowEnd).toBe(windowEnd.toISOString());
      expect(overview.dueSoon.totals).toEqual([
        { currency: "EUR", count: 1, amount: 6_500 },
        { currency: "JPY", count: 1, amount: 5_000 },
        { currency: "USD", count: 14, amount: 2_000 + 1_250 + 3_000 + 3_000 + 10 * 100 },
      ]);
      expect(overview.dueSoon.count).toBe(16);

      const { rows } = await sql.query<{
        id: string;
        name: string;
        externalId: string;
        amount: number;
        currency: string;
        eligibleAt: Date;
      }>(
        `SELECT p.id, pr.name, b."externalId", p.amount, p.currency, p."eligibleAt"
         FROM "Payout" p JOIN "Provider" pr ON pr.id = p."providerId" JOIN "Booking" b ON b.id = p."bookingId"
         WHERE p.status = 'scheduled' AND p."eligibleAt" >= $1 AND p."eligibleAt" < $2
         ORDER BY p."eligibleAt", p.id LIMIT 10`,
        [NOW, windowEnd],
      );
      expect(overview.dueSoon.soonest).toEqual(
        rows.map((r) => ({
          id: r.id,
          providerId: expect.any(String),
          providerName: r.name,
          bookingExternalId: r.externalId,
          amount: r.amount,
          currency: r.currency,
          eligibleAt: r.eligibleAt.toISOString(),
        })),
      );
      expect(overview.dueSoon.soonest).toHaveLength(10);
      expect(overview.dueSoon.soonest[0]?.eligibleAt).toBe(NOW.toISOString());
      expect(overview.dueSoon.soonest[1]?.id).toBe(firstDueId);
      expect(overview.dueSoon.soonest[2]).toMatchObject({ id: secondDueId, providerName: "Alice Anders", amount: 1_250 });
    });

    it("lists failed payouts newest first, with totals as SQL computes them", async () => {
      const expected = await sqlTotals(`status = 'failed'`);
      expect(new Map(overview.failed.totals.map((t) => [t.currency, { count: t.count, amount: t.amount }]))).toEqual(expected);
      expect(overview.failed.totals).toEqual([
        { currency: "JPY", count: 2, amount: 1_500 },
        { currency: "USD", count: 21, amount: 21_210 },
      ]);
      expect(overview.failed.count).toBe(23);

      const { rows } = await sql.query<{ id: string; attempts: number; lastError: string | null; updatedAt: Date }>(
        `SELECT id, attempts, "lastError", "updatedAt" FROM "Payout" WHERE status = 'failed'
         ORDER BY "updatedAt" DESC, id DESC LIMIT 20`,
      );
      expect(overview.failed.payouts.map((p) => p.id)).toEqual(rows.map((r) => r.id));
      expect(overview.failed.payouts).toHaveLength(20);
      expect(overview.failed.payouts[0]).toMatchObject({ amount: 1_000, currency: "USD", attempts: 3, lastError: "Stripe error 0" });
      expect(overview.failed.payouts[2]).toMatchObject({
        amount: 700,
        currency: "JPY",
        attempts: 1,
        lastError: "Account closed",
        providerName: "Chiyo Chiba",
      });
      expect(overview.failed.payouts.map((p) => p.updatedAt)).toEqual(rows.map((r) => r.updatedAt.toISOString()));
    });

    it("counts on-hold payouts per reason as SQL does", async () => {
      const { rows } = await sql.query<{ reason: string | null; count: string }>(
        `SELECT "holdReason"::text AS reason, count(*)::text AS count FROM "Payout" WHERE status = 'on_hold' GROUP BY "holdReason"`,
      );
      for (const { reason, count } of overview.onHold.byReason) {
        expect(count, String(reason)).toBe(Number(rows.find((r) => r.reason === reason)?.count ?? 0));
      }
      expect(overview.onHold.byReason).toEqual([
        { reason: "dispute_open", count: 2 },
        { reason: "admin_hold", count: 1 },
        { reason: "provider_account_not_ready", count: 1 },
        { reason: "awaiting_funds", count: 0 },
        { reason: "currency_unsupported", count: 0 },
        { reason: "review_required", count: 0 },
      ]);
      expect(overview.onHold.count).toBe(4);
    });
  });
});
