// The overview's totals per status and currency are kept by triggers on Payout
// (PayoutTotalDelta), not computed from every payout: they must stay exactly what a computation
// from scratch says after any write, after compaction, around concurrent transactions, and when
// the payouts are emptied. Expected figures come from plain SQL on independent connections.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { PayoutStatus } from "@/generated/prisma/enums";
import { db } from "@/lib/db";
import { COMPACT_ON_READ_ROWS, compactPayoutTotals } from "@/lib/overview/compact-payout-totals";
import { getOverview } from "@/lib/overview/get-overview";
import { holdPayout } from "@/lib/payouts/hold-payout";
import { releasePayout } from "@/lib/payouts/release-payout";

import { resetWorld, type TSimWorld } from "../../sim/play";
import { ADMIN_ACTOR } from "../../support/engine";
import { createBooking, createPayout, createProvider } from "../../support/factories";

type TTotals = Map<string, { count: number; amount: number }>;

let sql: pg.Client;

beforeAll(async () => {
  sql = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await sql.connect();
});

afterAll(async () => {
  await sql.end();
});

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  return client;
}

function toTotals(rows: { status: string; currency: string; count: string; amount: string }[]): TTotals {
  return new Map(rows.map((r) => [`${r.status} ${r.currency}`, { count: Number(r.count), amount: Number(r.amount) }]));
}

/** Totals computed from every payout, as the overview did before they were kept. */
async function fromScratch(client = sql): Promise<TTotals> {
  const { rows } = await client.query<{ status: string; currency: string; count: string; amount: string }>(
    `SELECT status::text AS status, currency, count(*)::text AS count, sum(amount)::text AS amount
     FROM "Payout" GROUP BY status, currency`,
  );
  return toTotals(rows);
}

/** The kept totals as stored, read without the overview's code. */
async function kept(client = sql): Promise<TTotals> {
  const { rows } = await client.query<{ status: string; currency: string; count: string; amount: string }>(
    `SELECT status::text AS status, currency, sum(count)::text AS count, sum(amount)::text AS amount
     FROM "PayoutTotalDelta" GROUP BY status, currency HAVING sum(count) <> 0 OR sum(amount) <> 0`,
  );
  return toTotals(rows);
}

async function deltaRows(): Promise<number> {
  const { rows } = await sql.query<{ n: string }>(`SELECT count(*)::text AS n FROM "PayoutTotalDelta"`);
  return Number(rows[0]?.n);
}

/** The overview's totals, zeros dropped, in the same shape. */
async function overviewTotals(): Promise<{ totals: TTotals; currencies: string[] }> {
  const overview = await getOverview(db, new Date());
  const totals: TTotals = new Map();
  for (const summary of overview.byStatus) {
    expect(summary.count).toBe(summary.totals.reduce((n, t) => n + t.count, 0));
    for (const t of summary.totals) if (t.count > 0) totals.set(`${summary.status} ${t.currency}`, { count: t.count, amount: t.amount });
  }
  const failed = overview.byStatus.find((s) => s.status === "failed");
  expect(overview.failed.totals).toEqual(failed?.totals.filter((t) => t.count > 0));
  return { totals, currencies: overview.currencies };
}

/** The overview's figures and the stored sums both equal the computation from scratch. */
async function expectExact(): Promise<TTotals> {
  const expected = await fromScratch();
  expect(await kept()).toEqual(expected);
  const { totals, currencies } = await overviewTotals();
  expect(totals).toEqual(expected);
  expect(currencies).toEqual([...new Set([...expected.keys()].map((k) => k.split(" ")[1]))].sort());
  return expected;
}

describe("kept payout totals", () => {
  it("equal a computation from scratch through creates, status, amount and currency changes, deletes and compaction", async () => {
    await expectExact();
    const alice = await createProvider({ name: "Alice Anders" });
    const bob = await createProvider({ name: "Bob Brown" });
    const usd = [];
    for (let i = 0; i < 4; i += 1) usd.push(await createPayout({ provider: alice, providerShare: 1_000 + i }));
    const eur = await createPayout({ provider: bob, currency: "EUR", providerShare: 7_000 });
    const eur2 = await createPayout({ provider: bob, currency: "EUR", providerShare: 2_500, tipAmount: 500 });
    const jpy = await createPayout({ provider: bob, currency: "JPY", status: "on_hold", holdReason: "admin_hold", providerShare: 9_000 });
    await createPayout({ provider: alice, currency: "GBP", status: "transferred", providerShare: 2_000_000_000 });
    await createPayout({ provider: bob, currency: "GBP", status: "transferred", providerShare: 2_000_000_000 });
    expect(await expectExact()).toEqual(
      new Map([
        ["scheduled USD", { count: 4, amount: 4_006 }],
        ["scheduled EUR", { count: 2, amount: 10_000 }],
        ["on_hold JPY", { count: 1, amount: 9_000 }],
        ["transferred GBP", { count: 2, amount: 4_000_000_000 }],
      ]),
    );

    // Several rows in one statement.
    const bookings = await Promise.all([0, 1, 2].map(() => createBooking({ provider: alice, providerShare: 300 })));
    await db.payout.createMany({
      data: bookings.map((b, i) => ({
        bookingId: b.id,
        providerId: alice.id,
        currency: "USD",
        providerShare: 300,
        amount: 300,
        status: i === 0 ? "failed" : "scheduled",
        eligibleAt: new Date(),
      })),
    });
    await expectExact();

    // A status change through the services (hold, release), each one transaction with its audit.
    const admin = await db.adminUser.create({ data: { email: "ada@payouts.test", name: "Ada Admin", role: "admin", passwordHash: "x" } });
    const ctx = { db, actor: ADMIN_ACTOR(admin.id) };
    await holdPayout(ctx, { payoutId: usd[0]!.id, reason: "Fraud check" });
    await expectExact();
    await releasePayout(ctx, { payoutId: usd[0]!.id, reason: "Checked" });
    await expectExact();

    // Status, amount, both at once, currency; a statement that moves many rows.
    await db.payout.update({ where: { id: usd[1]!.id }, data: { status: "processing" } });
    await db.payout.update({ where: { id: eur.id }, data: { tipAmount: 1_234, amount: 8_234 } });
    await db.payout.update({ where: { id: eur2.id }, data: { refundedAmount: 3_000, amount: 0, status: "cancelled" } });
    await db.payout.update({ where: { id: usd[2]!.id }, data: { currency: "CHF" } });
    await db.payout.updateMany({ where: { status: "scheduled", currency: "USD" }, data: { status: "transferred" } });
    await expectExact();

    // An update that changes no status, currency or amount appends nothing.
    const before = await deltaRows();
    await db.payout.updateMany({ data: { lastError: "noise", version: { increment: 1 } } });
    expect(await deltaRows()).toBe(before);

    // A transaction rolled back leaves no trace in the totals.
    await expect(
      db.$transaction(async (tx) => {
        await tx.payout.update({ where: { id: jpy.id }, data: { status: "cancelled" } });
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    await expectExact();

    // Deletes, one and several: the last JPY payout's currency is no longer present.
    await db.payout.delete({ where: { id: jpy.id } });
    await db.payout.deleteMany({ where: { currency: "CHF" } });
    const afterDeletes = await expectExact();
    expect([...afterDeletes.keys()].some((k) => k.endsWith(" JPY") || k.endsWith(" CHF"))).toBe(false);

    // Compaction: one row per key with payouts, the same totals; a second one changes nothing.
    const uncompacted = await deltaRows();
    expect(uncompacted).toBeGreaterThan(afterDeletes.size);
    expect(await compactPayoutTotals(db)).toEqual({ compacted: true, rowsBefore: uncompacted, rowsAfter: afterDeletes.size });
    expect(await deltaRows()).toBe(afterDeletes.size);
    await expectExact();
    expect(await compactPayoutTotals(db)).toEqual({ compacted: true, rowsBefore: afterDeletes.size, rowsAfter: afterDeletes.size });

    // And writes after it add up as before.
    await createPayout({ provider: alice, currency: "JPY", providerShare: 600 });
    await db.payout.update({ where: { id: usd[3]!.id }, data: { status: "failed" } });
    await expectExact();
  });

  it("reads the kept totals with every status and currency the payouts have, zeros included", async () => {
    const overview = await getOverview(db, new Date());
    expect(overview.byStatus.map((s) => s.status)).toEqual(Object.values(PayoutStatus));
    for (const summary of overview.byStatus) expect(summary.totals.map((t) => t.currency)).toEqual(overview.currencies);
  });
});

describe("reading the kept totals", () => {
  it("compacts them after a read that summed more than COMPACT_ON_READ_ROWS rows", async () => {
    await createPayout({ currency: "USD", providerShare: 1_234 });
    const expected = await expectExact();
    await compactPayoutTotals(db);
    // Rows that add up to nothing, as many status changes back and forth would leave.
    await sql.query(
      `INSERT INTO "PayoutTotalDelta" (status, currency, count, amount)
       SELECT 'scheduled', 'USD', CASE WHEN i % 2 = 0 THEN 1 ELSE -1 END, CASE WHEN i % 2 = 0 THEN 777 ELSE -777 END
       FROM generate_series(1, $1::int) AS i`,
      [COMPACT_ON_READ_ROWS - expected.size],
    );
    const { totals } = await overviewTotals();
    expect(totals).toEqual(expected);
    expect(await deltaRows()).toBe(COMPACT_ON_READ_ROWS); // not past the threshold yet
    await sql.query(
      `INSERT INTO "PayoutTotalDelta" (status, currency, count, amount) VALUES ('failed', 'USD', 1, 5), ('failed', 'USD', -1, -5)`,
    );
    expect((await overviewTotals()).totals).toEqual(expected);
    expect(await deltaRows()).toBe(expected.size);
  });

  it("refuses totals that cannot be (a negative count) instead of showing them", async () => {
    const { rows } = await sql.query<{ id: string }>(
      `INSERT INTO "PayoutTotalDelta" (status, currency, count, amount) VALUES ('reversed', 'USD', -1, -100) RETURNING id::text`,
    );
    await expect(getOverview(db, new Date())).rejects.toThrow("The kept payout totals are wrong: reversed USD counts -1 payouts of -100.");
    await sql.query(`DELETE FROM "PayoutTotalDelta" WHERE id = $1`, [rows[0]?.id]);
    await expectExact();
  });
});

describe("kept payout totals under concurrency", () => {
  it("lets transactions updating different payouts commit without waiting for each other, and stays exact in every snapshot", async () => {
    const provider = await createProvider();
    const first = await createPayout({ provider, currency: "SEK", providerShare: 1_000 });
    const second = await createPayout({ provider, currency: "SEK", providerShare: 2_000 });
    const a = await connect();
    const b = await connect();
    try {
      // Both move a payout out of the same (status, currency): one counter row would be the hot row.
      await a.query("BEGIN");
      await a.query(`UPDATE "Payout" SET status = 'on_hold', "holdReason" = 'admin_hold' WHERE id = $1`, [first.id]);
      // A lock wait would end this with an error instead of hanging.
      await b.query("SET lock_timeout = '3s'");
      await b.query("BEGIN");
      await b.query(`UPDATE "Payout" SET status = 'on_hold', "holdReason" = 'admin_hold' WHERE id = $1`, [second.id]);
      await b.query("COMMIT");

      // While `a` is open: another connection sees b's change and not a's, in the payouts and in the totals.
      const seen = await fromScratch();
      expect(seen.get("on_hold SEK")).toEqual({ count: 1, amount: 2_000 });
      await expectExact();

      // A compaction neither waits for `a` nor takes its uncommitted rows.
      const compaction = compactPayoutTotals(db);
      const timeout = new Promise<"waited">((resolve) => setTimeout(() => resolve("waited"), 5_000).unref());
      await expect(Promise.race([compaction, timeout])).resolves.toMatchObject({ compacted: true });
      await expectExact();

      await a.query("COMMIT");
      expect((await expectExact()).get("on_hold SEK")).toEqual({ count: 2, amount: 3_000 });
    } finally {
      await a.query("ROLLBACK").catch(() => undefined);
      await a.end();
      await b.end();
    }
  });

  it("appends in the writing transaction, so a repeatable-read snapshot taken before a commit keeps the totals it saw", async () => {
    const provider = await createProvider();
    const payout = await createPayout({ provider, currency: "NOK", providerShare: 4_000 });
    const reader = await connect();
    try {
      await reader.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
      const before = await kept(reader);
      expect(before).toEqual(await fromScratch(reader));
      await db.payout.update({ where: { id: payout.id }, data: { status: "cancelled" } });
      await compactPayoutTotals(db);
      // The reader's snapshot: the totals and the payouts as they were, still in agreement.
      expect(await kept(reader)).toEqual(before);
      expect(await fromScratch(reader)).toEqual(before);
      await reader.query("COMMIT");
      expect((await expectExact()).get("cancelled NOK")).toEqual({ count: 1, amount: 4_000 });
    } finally {
      await reader.end();
    }
  });
});

describe("emptying the payouts empties the totals", () => {
  it("the simulation's reset (DELETE with triggers off) empties them with the payouts", async () => {
    await createPayout({ currency: "USD", providerShare: 5_000 });
    expect((await fromScratch()).size).toBeGreaterThan(0);
    const world = { fake: { reset: () => undefined }, receiver: { clear: () => undefined } } as unknown as TSimWorld;
    await resetWorld(world);
    expect(await fromScratch()).toEqual(new Map());
    await expectExact();
    expect(await deltaRows()).toBe(0);
  });

  it("TRUNCATE of Payout empties them", async () => {
    await createPayout({ currency: "USD", providerShare: 5_000 });
    await createPayout({ currency: "EUR", status: "failed", providerShare: 6_000 });
    await compactPayoutTotals(db);
    await createPayout({ currency: "EUR", providerShare: 7_000 });
    expect((await kept()).size).toBe(3);
    await sql.query(`TRUNCATE "Payout" CASCADE`);
    expect(await deltaRows()).toBe(0);
    await expectExact();
    await createPayout({ currency: "GBP", providerShare: 1_000 });
    expect((await expectExact()).get("scheduled GBP")).toEqual({ count: 1, amount: 1_000 });
  });
});
