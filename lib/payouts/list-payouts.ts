import "server-only";

import { Prisma } from "@/generated/prisma/client";
import type { HoldReason, PayoutStatus } from "@/generated/prisma/enums";
import type { Db } from "@/lib/db";

import type { TPayoutFilter, TPayoutListQuery, TPayoutSort } from "./payout-filter";
import { decodeCursor, encodeCursor, sortValue, type TCursor } from "./payout-list-cursor";
import { payoutWhere, resolvePayoutFilter } from "./payout-where";

// The payouts list: filters, search and keyset pagination on (sort column, id), written as
// SQL so that every sort walks an index — (createdAt, id), (eligibleAt, id), (amount, id) —
// and a page costs the same on the first page and the thousandth. There is no OFFSET, and a
// result is counted exactly only up to TOTAL_CAP (see countPayouts).

/** How a list row travels to the browser (dates as ISO strings). */
export type TPayoutListItem = {
  id: string;
  status: PayoutStatus;
  holdReason: HoldReason | null;
  amount: number;
  currency: string;
  eligibleAt: string;
  createdAt: string;
  transferredAt: string | null;
  stripeTransferId: string | null;
  version: number;
  booking: { externalId: string };
  provider: { id: string; name: string; externalId: string };
};

/**
 * How many payouts match: exact (`capped` false) up to TOTAL_CAP; beyond it `capped`, `count`
 * being the cap ("more than 1,000"), with the planner's estimate when it says more than that
 * (approximate: shown as "about").
 */
export type TPayoutTotal = { count: number; capped: boolean; estimate?: number };

export type TPayoutListPage = {
  items: TPayoutListItem[];
  /** Opaque cursors for the neighbouring pages; null at either end. */
  pageInfo: { nextCursor: string | null; prevCursor: string | null; limit: number };
  /** How many payouts match (see TPayoutTotal); only on the first page (no cursor). */
  total: TPayoutTotal | null;
  /** The provider named by the `provider` filter, when it exists. */
  provider: { id: string; name: string; externalId: string } | null;
};

/**
 * Counting stops here. Counting to the cap reads up to cap / selectivity rows, so it stays
 * small: at 1,000 every first page measured on a million payouts counted in a few ms. An exact
 * count past it reads every matching row (a million rows: hundreds of ms on each first page),
 * so a list never asks for one.
 */
export const TOTAL_CAP = 1_000;

const SORT_COLUMNS: Record<TPayoutSort, Prisma.Sql> = {
  createdAt: Prisma.raw(`p."createdAt"`),
  eligibleAt: Prisma.raw(`p."eligibleAt"`),
  amount: Prisma.raw(`p."amount"`),
};

/** `(col, id) > (v, id)` (or <) for a keyset page, in the direction the rows are read. */
function keysetCondition(sort: TPayoutSort, cursor: TCursor, direction: "asc" | "desc"): Prisma.Sql {
  const value = sort === "amount" ? Prisma.sql`${cursor.v}::int` : Prisma.sql`${cursor.v}::timestamptz`;
  const op = Prisma.raw(direction === "asc" ? ">" : "<");
  return Prisma.sql`(${SORT_COLUMNS[sort]}, p.id) ${op} (${value}, ${cursor.i}::uuid)`;
}

function orderBy(sort: TPayoutSort, direction: "asc" | "desc"): Prisma.Sql {
  const dir = Prisma.raw(direction === "asc" ? "ASC" : "DESC");
  return Prisma.sql`${SORT_COLUMNS[sort]} ${dir}, p.id ${dir}`;
}

/**
 * The booking and provider of each row of a page, looked up by primary key row by row
 * (`OFFSET 0` keeps the planner from turning this into a hash join that reads the whole
 * Provider table for every page or export batch).
 */
const JOIN_BOOKING_AND_PROVIDER = Prisma.sql`
    CROSS JOIN LATERAL (SELECT "externalId" FROM "Booking" WHERE id = p."bookingId" OFFSET 0) b
    CROSS JOIN LATERAL (SELECT id, name, "externalId" FROM "Provider" WHERE id = p."providerId" OFFSET 0) pr`;

type TListRow = {
  id: string;
  status: PayoutStatus;
  holdReason: HoldReason | null;
  amount: number;
  currency: string;
  eligibleAt: Date;
  createdAt: Date;
  transferredAt: Date | null;
  stripeTransferId: string | null;
  version: number;
  bookingExternalId: string;
  providerId: string;
  providerName: string;
  providerExternalId: string;
};

/**
 * One keyset page of payouts, read in `direction` (the filter's order, or the reverse for a
 * previous page). The inner query picks the page's ids from the Payout table alone, naming no
 * column beyond the filter's and the sort's, so that an index holding them all answers it
 * without reading rows (a window on one date sorted by the other: the sort indexes carry the
 * other date); the outer one reads just those rows with their booking and provider.
 */
async function readPage(db: Db, where: Prisma.Sql, sort: TPayoutSort, direction: "asc" | "desc", cursor: TCursor | null, limit: number) {
  const conditions = cursor ? Prisma.sql`${where} AND ${keysetCondition(sort, cursor, direction)}` : where;
  return db.$queryRaw<TListRow[]>`
    SELECT p.id::text, p.status::text AS status, p."holdReason"::text AS "holdReason", p.amount, p.currency,
           p."eligibleAt", p."createdAt", p."transferredAt", p."stripeTransferId", p.version,
           b."externalId" AS "bookingExternalId", pr.id::text AS "providerId", pr.name AS "providerName",
           pr."externalId" AS "providerExternalId"
    FROM (SELECT p.id FROM "Payout" p WHERE ${conditions} ORDER BY ${orderBy(sort, direction)} LIMIT ${limit}) k
    CROSS JOIN LATERAL (SELECT * FROM "Payout" WHERE id = k.id OFFSET 0) p
    ${JOIN_BOOKING_AND_PROVIDER}
    ORDER BY ${orderBy(sort, direction)}`;
}

function toItem(row: TListRow): TPayoutListItem {
  return {
    id: row.id,
    status: row.status,
    holdReason: row.holdReason,
    amount: row.amount,
    currency: row.currency,
    eligibleAt: row.eligibleAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
    transferredAt: row.transferredAt?.toISOString() ?? null,
    stripeTransferId: row.stripeTransferId,
    version: row.version,
    booking: { externalId: row.bookingExternalId },
    provider: { id: row.providerId, name: row.providerName, externalId: row.providerExternalId },
  };
}

/** The planner's estimate of how many payouts match (no rows are read). */
async function estimatePayouts(db: Db, where: Prisma.Sql): Promise<number> {
  const [row] = await db.$queryRaw<{ "QUERY PLAN": unknown }[]>`EXPLAIN (FORMAT JSON) SELECT 1 FROM "Payout" p WHERE ${where}`;
  const raw = row?.["QUERY PLAN"];
  const plan = (typeof raw === "string" ? JSON.parse(raw) : raw) as [{ Plan?: { "Plan Rows"?: number } }] | undefined;
  return Math.round(plan?.[0]?.Plan?.["Plan Rows"] ?? 0);
}

/**
 * How many payouts match, counting at most `cap + 1` rows (so a huge result costs little):
 * exact up to the cap; past it `capped` with the planner's estimate when that is above the cap.
 * An estimate at or below it says nothing true ("more than 1,000 (about 1,000)": statistics
 * lag behind fresh rows), so it is left out.
 */
export async function countPayouts(db: Db, where: Prisma.Sql | null, cap = TOTAL_CAP): Promise<TPayoutTotal> {
  if (!where) return { count: 0, capped: false };
  const [row] = await db.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM (SELECT 1 FROM "Payout" p WHERE ${where} LIMIT ${cap + 1}) t`;
  const n = row?.n ?? 0;
  if (n <= cap) return { count: n, capped: false };
  const estimate = await estimatePayouts(db, where);
  return estimate > cap ? { count: cap, capped: true, estimate } : { count: cap, capped: true };
}

/** A page of the payouts list for a validated list query. */
export async function listPayouts(db: Db, query: TPayoutListQuery): Promise<TPayoutListPage> {
  const { sort, order, limit } = query;
  const after = query.after ? decodeCursor(query.after, query) : null;
  const before = query.before ? decodeCursor(query.before, query) : null;
  const resolved = await resolvePayoutFilter(db, query);
  const provider = resolved.provider === "missing" ? null : resolved.provider;
  const where = payoutWhere(resolved);
  const firstPage = !after && !before;
  if (!where) {
    return {
      items: [],
      pageInfo: { nextCursor: null, prevCursor: null, limit },
      total: firstPage ? { count: 0, capped: false } : null,
      provider,
    };
  }

  const reverse = order === "asc" ? "desc" : "asc";
  const [rows, total] = await Promise.all([
    before ? readPage(db, where, sort, reverse, before, limit + 1) : readPage(db, where, sort, order, after, limit + 1),
    firstPage ? countPayouts(db, where) : Promise.resolve(null),
  ]);
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  if (before) page.reverse();

  const cursorOf = (row: TListRow | undefined) => (row ? encodeCursor({ s: sort, o: order, v: sortValue(row, sort), i: row.id }) : null);
  const hasNext = before ? true : more;
  const hasPrev = before ? more : Boolean(after);
  return {
    items: page.map(toItem),
    pageInfo: {
      nextCursor: hasNext ? cursorOf(page.at(-1)) : null,
      prevCursor: hasPrev ? cursorOf(page[0]) : null,
      limit,
    },
    total,
    provider,
  };
}

// ───────────────────────────── Export batches ─────────────────────────────

/** The sort column as the next batch's keyset condition reads it back (`::int`, `::timestamptz`). */
const SORT_VALUE_TEXT: Record<TPayoutSort, Prisma.Sql> = {
  createdAt: Prisma.sql`p."createdAt"::text`,
  eligibleAt: Prisma.sql`p."eligibleAt"::text`,
  amount: Prisma.sql`p.amount::text`,
};

/** A payout the export cannot write truly: it stops there rather than write a wrong or short file. */
export class UnwritablePayoutError extends Error {
  constructor(readonly payoutId: string) {
    super(
      `Payout ${payoutId} holds a value the export cannot write truly (an instant outside the years 1 to 9999); the export stops here.`,
    );
  }
}

/**
 * Every payout the filter matches, in the filter's order, in batches of `batchSize` rows read
 * with the same keyset walk as the list, each batch formatted by PostgreSQL as one text: `line`
 * is an expression over `p` (the Payout), `b` (its booking's `externalId`) and `pr` (its
 * provider's `id`, `name`, `externalId`) giving one row's line, and a batch is those lines joined
 * in order. `unwritable`, over the same names, is true for a row the line cannot write truly: the
 * first such row ends the walk with an UnwritablePayoutError, never a line written wrong. A batch
 * is one string however many rows it holds (a million rows as objects were hundreds of MB of
 * garbage a minute), and memory stays at one batch however large the result. Rows that change
 * while a long export runs are read as they are when their batch is read.
 */
export async function* payoutExportBatches(
  db: Db,
  filter: TPayoutFilter,
  { line, unwritable }: { line: Prisma.Sql; unwritable: Prisma.Sql },
  batchSize = 1000,
): AsyncGenerator<string> {
  const where = payoutWhere(await resolvePayoutFilter(db, filter));
  if (!where) return;
  const { sort, order } = filter;
  const reverse = order === "asc" ? "desc" : "asc";
  let cursor: TCursor | null = null;
  for (;;) {
    const conditions: Prisma.Sql = cursor ? Prisma.sql`${where} AND ${keysetCondition(sort, cursor, order)}` : where;
    const [batch] = await db.$queryRaw<
      { text: string | null; rows: number; lastId: string | null; lastValue: string | null; unwritableId: string | null }[]
    >`
      SELECT string_agg(${line}, '' ORDER BY ${orderBy(sort, order)}) AS text, count(*)::int AS rows,
             (array_agg(p.id::text ORDER BY ${orderBy(sort, reverse)}))[1] AS "lastId",
             (array_agg(${SORT_VALUE_TEXT[sort]} ORDER BY ${orderBy(sort, reverse)}))[1] AS "lastValue",
             min(p.id::text) FILTER (WHERE ${unwritable}) AS "unwritableId"
      FROM (SELECT * FROM "Payout" p WHERE ${conditions} ORDER BY ${orderBy(sort, order)} LIMIT ${batchSize}) p
      ${JOIN_BOOKING_AND_PROVIDER}`;
    if (batch?.unwritableId) throw new UnwritablePayoutError(batch.unwritableId);
    if (!batch || batch.rows === 0) return;
    if (batch.text === null || batch.lastId === null || batch.lastValue === null) {
      throw new Error(`An export batch of ${batch.rows} rows came back without its text or its last position.`);
    }
    yield batch.text;
    if (batch.rows < batchSize) return;
    cursor = { s: sort, o: order, v: sort === "amount" ? Number(batch.lastValue) : batch.lastValue, i: batch.lastId };
  }
}

// ───────────────────────────── Filter options ─────────────────────────────

/**
 * The currencies payouts exist in, for the currency filter: a loose index scan over
 * (currency, status) — one index probe per currency instead of reading a million rows.
 */
export async function listPayoutCurrencies(db: Db): Promise<string[]> {
  const rows = await db.$queryRaw<{ currency: string }[]>`
    WITH RECURSIVE c AS (
      SELECT min(currency)::text AS currency FROM "Payout"
      UNION ALL
      SELECT (SELECT min(currency)::text FROM "Payout" WHERE currency > c.currency) FROM c WHERE c.currency IS NOT NULL
    )
    SELECT currency FROM c WHERE currency IS NOT NULL`;
  return rows.map((r) => r.currency);
}
