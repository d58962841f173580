// Prepared statements (lib/statement-names.ts) get PostgreSQL's GENERIC plan after five runs on a
// connection when that plan looks no dearer than the ones made with the values. A generic plan
// cannot see a parameter's value: for a rare value of a skewed column it may walk a whole table.
// A review found one such statement: the sweep's look for pending repayments, as Prisma words it
// (`kind = CAST($1 …) AND status = CAST($2 …) … ORDER BY id LIMIT $4`), walked every transfer in id
// order (120,544 pages against 974 planned with the values, at 120,000 transfers). The sweep's looks
// are now written with their kinds and statuses as literals.
//
// This test runs one real sweep over many transferred payouts and nothing pending, takes every
// statement it sent, and for each runs it as the app's prepared statement would be on a busy
// server (prepared, executed six times, then explained as PostgreSQL now runs it) and planned with
// its values: the pages it reads (deterministic, unlike time) may be at most 3× + 100 those.
import pg from "pg";
import type Stripe from "stripe";
import { beforeAll, describe, expect, it } from "vitest";

import { ENGINE_ACTOR } from "@/lib/context";
import { db } from "@/lib/db";
import { sweepPayouts } from "@/lib/payouts/sweep-payouts";

import { knowPlatformCurrencies } from "../../support/factories";
import { seedTransferredPayouts } from "../../support/transferred-payouts";

const PAYOUTS = 60_000;

type TStatement = { sql: string; values: unknown[] };
let capturing = false;
const sent: TStatement[] = [];

// Every statement the Prisma adapter sends goes through pg's Client#query (as scripts/bench-pipeline.ts counts them).
type TQueryFn = (this: pg.Client, ...args: unknown[]) => unknown;
const originalQuery = pg.Client.prototype.query as unknown as TQueryFn;
(pg.Client.prototype as unknown as { query: TQueryFn }).query = function (this: pg.Client, ...args: unknown[]) {
  const first = args[0] as { text?: string; values?: unknown[] } | undefined;
  if (capturing && typeof first === "object" && first?.text) sent.push({ sql: first.text, values: first.values ?? [] });
  return originalQuery.apply(this, args);
};

/** A value as an SQL literal of unknown type (PostgreSQL infers its type, as for a parameter). */
function literal(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  const text = value instanceof Date ? value.toISOString() : typeof value === "object" ? JSON.stringify(value) : String(value);
  return `'${text.replaceAll("'", "''")}'`;
}

/** Pages a statement reads as a prepared statement on its seventh run, and planned with its values. */
async function pagesRead({ sql, values }: TStatement): Promise<{ prepared: number; custom: number }> {
  return db.$transaction(async (tx) => {
    await tx.$executeRawUnsafe(`PREPARE plan_check AS ${sql}`);
    const execute = `EXECUTE plan_check(${values.map(literal).join(", ")})`;
    const pages = async () => {
      const [row] = await tx.$queryRawUnsafe<{ "QUERY PLAN": [{ Plan: Record<string, number> }] }[]>(
        `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${execute}`,
      );
      const plan = row!["QUERY PLAN"][0].Plan;
      return Number(plan["Shared Hit Blocks"] ?? 0) + Number(plan["Shared Read Blocks"] ?? 0);
    };
    for (let i = 0; i < 6; i++) await tx.$executeRawUnsafe(execute);
    const prepared = await pages();
    await tx.$executeRawUnsafe(`SET LOCAL plan_cache_mode = force_custom_plan`);
    const custom = await pages();
    await tx.$executeRawUnsafe(`DEALLOCATE plan_check`);
    return { prepared, custom };
  });
}

describe("prepared statements keep plans as good as those made with the values", () => {
  beforeAll(async () => {
    // 120,000 transferred payouts, each with its succeeded transfer leg; no repayment, nothing pending.
    await seedTransferredPayouts(db, { prefix: "rv", providers: 200, payouts: PAYOUTS });
    // The platform's currencies are known (the sweep does not ask Stripe for its balance).
    await knowPlatformCurrencies(["usd"], new Date(Date.now() + 3_600_000));
    for (const table of ["Provider", "Booking", "Payout", "PayoutTransfer"]) await db.$executeRawUnsafe(`VACUUM (ANALYZE) "${table}"`);
  });

  it("in the sweep, over many transferred payouts and nothing pending", async () => {
    capturing = true;
    try {
      // Nothing in this sweep calls Stripe: nothing is due, pending, stuck or held.
      const result = await sweepPayouts({ db, actor: ENGINE_ACTOR }, {} as Stripe);
      expect(result.repaymentRequests).toBe(0);
    } finally {
      capturing = false;
    }
    const reads = sent.filter((s) => /^\s*(SELECT|WITH)\b/i.test(s.sql) && s.values.length > 0);
    expect(reads.some((s) => s.sql.includes(`"PayoutTransfer"`))).toBe(true);
    const worse: string[] = [];
    for (const statement of reads) {
      const { prepared, custom } = await pagesRead(statement);
      if (prepared > 3 * custom + 100) worse.push(`${prepared} pages prepared, ${custom} planned with the values: ${statement.sql}`);
    }
    expect(worse).toEqual([]);
  });

  it("the sweep's looks written as literals find exactly the pending repayments and platform reversals old enough", async () => {
    const [payout] = await db.$queryRaw<{ id: string; currency: string; bookingId: string }[]>`
      SELECT id::text, currency, "bookingId"::text FROM "Payout" LIMIT 1`;
    const old = new Date(Date.now() - 86_400_000);
    // A repayment is caused by a charge step of its own (a CHECK constraint and a unique key).
    const step = (n: number) =>
      db.chargeRefund.create({
        data: {
          bookingId: payout!.bookingId,
          stripeChargeId: "ch_plans",
          sequence: n,
          currency: payout!.currency,
          chargeAmount: 10_000,
          providerPortion: 100,
          customerRefundedTotal: 100,
          providerRefundedTotal: 100,
          amount: 100,
          refundedAt: old,
        },
      });
    const leg = async (kind: "repayment" | "payout", status: "pending" | "succeeded", createdAt: Date, n: number) =>
      db.payoutTransfer.create({
        data: {
          payoutId: payout!.id,
          kind,
          amountVersion: 1,
          leg: 100 + n,
          payoutAmount: 100,
          amount: 100,
          currency: payout!.currency,
          status,
          idempotencyKey: `plans-${n}`,
          createdAt,
          ...(kind === "repayment" ? { chargeRefundId: (await step(n)).id } : {}),
        },
      });
    const reversal = (initiatedBy: "platform" | "stripe", createdAt: Date) =>
      db.transferReversal.create({ data: { payoutId: payout!.id, amount: 100, currency: payout!.currency, initiatedBy, createdAt } });
    const due = await leg("repayment", "pending", old, 1);
    await leg("repayment", "pending", new Date(), 2);
    await leg("repayment", "succeeded", old, 3);
    const dueReversal = await reversal("platform", old);
    await reversal("platform", new Date());
    await reversal("stripe", old);

    const result = await sweepPayouts({ db, actor: ENGINE_ACTOR }, {} as Stripe);
    expect({ repayments: result.repaymentRequests, reversals: result.reversalRequests }).toEqual({ repayments: 1, reversals: 1 });
    const events = await db.outboxEvent.findMany({ where: { eventId: { startsWith: "sweep-re" } }, select: { eventId: true } });
    expect(events.map((e) => e.eventId.split(":").slice(0, 2).join(":")).sort()).toEqual(
      [`sweep-repayment:${due.id}`, `sweep-reversal:${dueReversal.id}`].sort(),
    );
  });
});
