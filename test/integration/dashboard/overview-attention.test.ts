// The Overview's additions: stuck payouts, the 30-day volume chart by outcome, and the
// newest open alerts. Expected figures come from plain SQL on an independent connection.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { getOverview, NEWEST_ALERTS_LIMIT, VOLUME_DAYS, volumeWindow } from "@/lib/overview/get-overview";
import type { TOverview } from "@/lib/overview/types";

import { createPayout, createProvider } from "../../support/factories";

const NOW = new Date("2031-05-20T10:30:00.000Z");
const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

let sql: pg.Client;
let overview: TOverview;
const ids: Record<string, string> = {};

beforeAll(async () => {
  sql = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await sql.connect();

  const alice = await createProvider({ name: "Alice Anders" });
  const bob = await createProvider({ name: "Bob Brown" });

  // Processing: stuck beyond one hour (two), exactly at the threshold and recent (not stuck).
  ids.stuckOldest = (
    await createPayout({ provider: alice, status: "processing", providerShare: 1_100, attempts: 2, processingStartedAt: at(-5 * HOUR) })
  ).id;
  ids.stuckNewer = (
    await createPayout({
      provider: bob,
      currency: "EUR",
      status: "processing",
      providerShare: 2_200,
      attempts: 1,
      processingStartedAt: at(-HOUR - MINUTE),
    })
  ).id;
  await createPayout({ provider: alice, status: "processing", providerShare: 3_300, processingStartedAt: at(-HOUR) });
  await createPayout({ provider: alice, status: "processing", providerShare: 4_400, processingStartedAt: at(-10 * MINUTE) });

  // Transferred today, yesterday (twice: USD + EUR), 29 days ago (first day of the window) and 30 days ago (outside).
  const startOfToday = Date.UTC(2031, 4, 20);
  await createPayout({ provider: alice, status: "transferred", providerShare: 10_000, transferredAt: at(-HOUR) });
  await createPayout({ provider: alice, status: "transferred", providerShare: 2_000_000_000, transferredAt: new Date(startOfToday - 1) });
  await createPayout({
    provider: bob,
    status: "transferred",
    providerShare: 2_000_000_000,
    transferredAt: new Date(startOfToday - 12 * HOUR),
  });
  await createPayout({
    provider: bob,
    currency: "EUR",
    status: "transferred",
    providerShare: 7_000,
    transferredAt: new Date(startOfToday - DAY),
  });
  await createPayout({ provider: alice, status: "transferred", providerShare: 500, transferredAt: new Date(startOfToday - 29 * DAY) });
  await createPayout({ provider: alice, status: "transferred", providerShare: 999, transferredAt: new Date(startOfToday - 29 * DAY - 1) });

  // Reversed after a transfer: counted as transferred on its transfer day; its succeeded reversal on the reversal's day.
  const reversed = await createPayout({
    provider: bob,
    status: "partially_reversed",
    providerShare: 6_000,
    reversedAmount: 1_500,
    transferredAt: new Date(startOfToday - 3 * DAY),
  });
  await db.transferReversal.create({
    data: {
      payoutId: reversed.id,
      amount: 1_500,
      currency: "USD",
      status: "succeeded",
      createdAt: new Date(startOfToday - 2 * DAY),
      updatedAt: new Date(startOfToday - 2 * DAY + HOUR),
    },
  });
  await db.transferReversal.create({
    data: { payoutId: reversed.id, amount: 700, currency: "USD", status: "failed", updatedAt: new Date(startOfToday - 2 * DAY) },
  });

  // Failed and cancelled, by their last change.
  await createPayout({
    provider: alice,
    status: "failed",
    providerShare: 800,
    attempts: 3,
    updatedAt: new Date(startOfToday - 5 * DAY + HOUR),
  });
  await createPayout({
    provider: alice,
    status: "cancelled",
    providerShare: 900,
    refundedAmount: 900,
    updatedAt: new Date(startOfToday - 5 * DAY + 2 * HOUR),
  });
  await createPayout({ provider: alice, status: "failed", providerShare: 800, attempts: 3, updatedAt: new Date(startOfToday - 40 * DAY) });

  // Alerts: seven open (one acknowledged in between), newest first.
  const admin = await db.adminUser.create({ data: { email: "ack@example.test", name: "Ack", role: "operator", passwordHash: "x" } });
  for (let i = 0; i < 7; i += 1) {
    const alert = await db.alert.create({
      data: {
        kind: "payout_failed",
        severity: i === 0 ? "critical" : "warning",
        title: `Alert ${i}`,
        message: `Message ${i}`,
        createdAt: at(-i * HOUR),
        payoutId: i === 0 ? ids.stuckOldest : null,
      },
    });
    ids[`alert${i}`] = alert.id;
  }
  await db.alert.update({ where: { id: ids.alert1! }, data: { acknowledgedAt: NOW, acknowledgedById: admin.id } });

  overview = await getOverview(db, NOW);
});

afterAll(async () => {
  await sql.end();
});

describe("stuck payouts", () => {
  it("lists payouts processing for more than an hour, longest first, as SQL finds them", async () => {
    const { rows } = await sql.query<{ id: string }>(
      `SELECT id FROM "Payout" WHERE status = 'processing' AND "processingStartedAt" < $1::timestamptz - interval '1 hour' ORDER BY "processingStartedAt", id`,
      [NOW],
    );
    expect(overview.stuck.count).toBe(rows.length);
    expect(overview.stuck.payouts.map((p) => p.id)).toEqual(rows.map((r) => r.id));
    expect(overview.stuck.payouts.map((p) => p.id)).toEqual([ids.stuckOldest, ids.stuckNewer]);
    expect(overview.stuck.thresholdMinutes).toBe(60);
    expect(overview.stuck.payouts[0]).toMatchObject({
      providerName: "Alice Anders",
      amount: 1_100,
      currency: "USD",
      attempts: 2,
      processingStartedAt: at(-5 * HOUR).toISOString(),
    });
  });
});

describe("volume per day by outcome", () => {
  it("covers the last 30 UTC days, today included, oldest first", () => {
    expect(overview.volume.days).toHaveLength(VOLUME_DAYS);
    expect(overview.volume.days[0]).toBe("2031-04-21");
    expect(overview.volume.days.at(-1)).toBe("2031-05-20");
    const window = volumeWindow(NOW);
    expect(window.start.toISOString()).toBe("2031-04-21T00:00:00.000Z");
    expect(window.end.toISOString()).toBe("2031-05-21T00:00:00.000Z");
  });

  it("sums exactly as SQL does, per currency, day and outcome, beyond 2^31", async () => {
    const { start, end } = volumeWindow(NOW);
    const { rows } = await sql.query<{ outcome: string; currency: string; day: string; count: string; amount: string }>(
      `SELECT outcome, currency, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*)::text AS count, sum(amount)::text AS amount FROM (
         SELECT 'transferred' AS outcome, currency, amount, "transferredAt" AS at FROM "Payout" WHERE "transferredAt" >= $1 AND "transferredAt" < $2
         UNION ALL SELECT 'reversed', currency, amount, "updatedAt" FROM "TransferReversal" WHERE status = 'succeeded' AND "updatedAt" >= $1 AND "updatedAt" < $2
         UNION ALL SELECT status::text, currency, amount, "updatedAt" FROM "Payout" WHERE status IN ('failed', 'cancelled') AND "updatedAt" >= $1 AND "updatedAt" < $2
       ) v GROUP BY 1, 2, 3`,
      [start, end],
    );
    const shown = overview.volume.series.flatMap((s) =>
      s.days.flatMap((d) =>
        (["transferred", "reversed", "failed", "cancelled"] as const)
          .filter((o) => d[o].count > 0)
          .map((o) => ({ outcome: o, currency: s.currency, day: d.day, count: d[o].count, amount: d[o].amount })),
      ),
    );
    const expected = rows.map((r) => ({
      outcome: r.outcome,
      currency: r.currency,
      day: r.day,
      count: Number(r.count),
      amount: Number(r.amount),
    }));
    const key = (r: { outcome: string; currency: string; day: string }) => `${r.currency} ${r.day} ${r.outcome}`;
    expect(shown.sort((a, b) => key(a).localeCompare(key(b)))).toEqual(expected.sort((a, b) => key(a).localeCompare(key(b))));

    const usd = overview.volume.series.find((s) => s.currency === "USD");
    expect(overview.volume.series.map((s) => s.currency)).toEqual(["EUR", "USD"]);
    expect(usd?.days.find((d) => d.day === "2031-05-19")?.transferred).toEqual({ count: 2, amount: 4_000_000_000 });
    expect(usd?.days.find((d) => d.day === "2031-05-20")?.transferred).toEqual({ count: 1, amount: 10_000 });
    expect(usd?.days.find((d) => d.day === "2031-04-21")?.transferred).toEqual({ count: 1, amount: 500 });
    expect(usd?.days.find((d) => d.day === "2031-05-17")?.transferred).toEqual({ count: 1, amount: 6_000 });
    expect(usd?.days.find((d) => d.day === "2031-05-18")?.reversed).toEqual({ count: 1, amount: 1_500 });
    expect(usd?.days.find((d) => d.day === "2031-05-15")).toMatchObject({
      failed: { count: 1, amount: 800 },
      cancelled: { count: 1, amount: 0 },
    });
    expect(usd?.totals).toEqual({
      transferred: { count: 5, amount: 4_000_016_500 },
      reversed: { count: 1, amount: 1_500 },
      failed: { count: 1, amount: 800 },
      cancelled: { count: 1, amount: 0 },
    });
    // Every day of the window is there, zeros included.
    expect(usd?.days.map((d) => d.day)).toEqual(overview.volume.days);
    expect(usd?.days.find((d) => d.day === "2031-05-01")).toEqual({
      day: "2031-05-01",
      transferred: { count: 0, amount: 0 },
      reversed: { count: 0, amount: 0 },
      failed: { count: 0, amount: 0 },
      cancelled: { count: 0, amount: 0 },
    });
  });
});

describe("newest open alerts", () => {
  it("shows the newest unacknowledged alerts and how many are open", () => {
    expect(overview.alerts.openCount).toBe(6);
    expect(overview.alerts.newest).toHaveLength(NEWEST_ALERTS_LIMIT);
    expect(overview.alerts.newest.map((a) => a.id)).toEqual([ids.alert0, ids.alert2, ids.alert3, ids.alert4, ids.alert5]);
    expect(overview.alerts.newest[0]).toMatchObject({
      title: "Alert 0",
      severity: "critical",
      payoutId: ids.stuckOldest,
      createdAt: NOW.toISOString(),
    });
  });
});
