import "server-only";

import { Prisma } from "@/generated/prisma/client";
import type { Db } from "@/lib/db";
import { isUuid } from "@/lib/ids";
import { currencyMinorDigits } from "@/lib/money/format-money";
import { ZERO_DECIMAL_CURRENCIES } from "@/lib/money/money";

import { decimalToMinor, type TPayoutFilter } from "./payout-filter";

// The payouts list's filter as SQL: the lookups a filter needs (the provider it names, what a
// search matches) and the WHERE conditions built from them, shared by the list, its count and
// the CSV export.

/**
 * What a search matched, looked up before the payouts are read, so that the payouts query holds
 * only the conditions that can match (one, nearly always): an OR of conditions that match
 * nothing would keep the planner from walking the one index that answers.
 */
export type TResolvedSearch = {
  /** Payouts named by their id or by their Stripe transfer id. */
  payoutIds: string[];
  bookingIds: string[];
  /** Providers named by their external id or id. */
  providerIds: string[];
  /** `name ILIKE namePrefix` (escaped) when some provider's name starts with the text; else null. */
  namePrefix: string | null;
};

/** The filter with its lookups done (provider, search): what the WHERE clause is built from. */
export type TResolvedFilter = {
  filter: TPayoutFilter;
  /** The provider filter's provider; `missing` when the filter names no provider (then nothing matches). */
  provider: { id: string; name: string; externalId: string } | "missing" | null;
  search: TResolvedSearch | null;
};

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

async function resolveProvider(db: Db, key: string): Promise<TResolvedFilter["provider"]> {
  const rows = await db.$queryRaw<{ id: string; name: string; externalId: string }[]>`
    SELECT id::text, name, "externalId" FROM "Provider"
    WHERE "externalId" = ${key} ${isUuid(key) ? Prisma.sql`OR id = ${key}::uuid` : Prisma.empty}
    ORDER BY ("externalId" = ${key}) DESC LIMIT 1`;
  return rows[0] ?? "missing";
}

/**
 * What a search can name: a payout by id or Stripe transfer id, bookings by external id or id,
 * providers by external id or id, or by the start of their name (any case; a uuid is never a
 * name). Every look-up is an index probe (the name through the trigram index on Provider.name).
 * Providers found by name stay a subquery of the payouts query (see payoutWhere): a common
 * prefix names thousands of providers, too many to pass back as a list.
 */
async function resolveSearch(db: Db, text: string): Promise<TResolvedSearch> {
  const uuid = isUuid(text) ? text.toLowerCase() : null;
  const namePrefix = uuid ? null : `${escapeLike(text)}%`;
  const [row] = await db.$queryRaw<{ payoutIds: string[]; bookingIds: string[]; providerIds: string[]; byName: boolean }[]>`
    SELECT
      ARRAY(SELECT id::text FROM "Payout" WHERE "stripeTransferId" = ${text} ${uuid ? Prisma.sql`OR id = ${uuid}::uuid` : Prisma.empty}) AS "payoutIds",
      ARRAY(SELECT id::text FROM "Booking" WHERE "externalId" = ${text} ${uuid ? Prisma.sql`OR id = ${uuid}::uuid` : Prisma.empty}) AS "bookingIds",
      ARRAY(SELECT id::text FROM "Provider" WHERE "externalId" = ${text} ${uuid ? Prisma.sql`OR id = ${uuid}::uuid` : Prisma.empty}) AS "providerIds",
      ${namePrefix ? Prisma.sql`EXISTS (SELECT 1 FROM "Provider" WHERE name ILIKE ${namePrefix})` : Prisma.sql`false`} AS "byName"`;
  return {
    payoutIds: row?.payoutIds ?? [],
    bookingIds: row?.bookingIds ?? [],
    providerIds: row?.providerIds ?? [],
    namePrefix: row?.byName ? namePrefix : null,
  };
}

/** Looks up what the provider filter and the search refer to (small indexed queries, in parallel). */
export async function resolvePayoutFilter(db: Db, filter: TPayoutFilter): Promise<TResolvedFilter> {
  const [provider, search] = await Promise.all([
    filter.provider ? resolveProvider(db, filter.provider) : null,
    filter.q ? resolveSearch(db, filter.q) : null,
  ]);
  return { filter, provider, search };
}

/** Currencies whose minor unit has 3 digits (KWD, BHD, …), by the same rule as formatMoney. */
let threeDecimalCurrencies: string[] | undefined;
function threeDecimal(): string[] {
  threeDecimalCurrencies ??= Intl.supportedValuesOf("currency").filter((c) => currencyMinorDigits(c) === 3);
  return threeDecimalCurrencies;
}

/**
 * Amount bounds are typed in major units ("10" = $10.00 = ¥10). With a currency filter they
 * become one range in minor units; without one, each row is compared in its own currency,
 * plus a loose range on `amount` alone that an index can use.
 */
function amountConditions(filter: TPayoutFilter): Prisma.Sql[] {
  const { amountMin: min, amountMax: max } = filter;
  if (!min && !max) return [];
  const range = (digits: number): Prisma.Sql[] => [
    ...(min ? [Prisma.sql`p.amount >= ${decimalToMinor(min, digits, "ceil")}::bigint`] : []),
    ...(max ? [Prisma.sql`p.amount <= ${decimalToMinor(max, digits, "floor")}::bigint`] : []),
  ];
  if (filter.currency) return range(currencyMinorDigits(filter.currency));

  const loose: Prisma.Sql[] = [
    ...(min ? [Prisma.sql`p.amount >= ${decimalToMinor(min, 0, "ceil")}::bigint`] : []),
    ...(max ? [Prisma.sql`p.amount <= ${decimalToMinor(max, 3, "floor")}::bigint`] : []),
  ];
  const and = (parts: Prisma.Sql[]) => Prisma.join(parts, " AND ");
  const exact = Prisma.sql`CASE
      WHEN p.currency = ANY(${[...ZERO_DECIMAL_CURRENCIES]}::text[]) THEN ${and(range(0))}
      WHEN p.currency = ANY(${threeDecimal()}::text[]) THEN ${and(range(3))}
      ELSE ${and(range(2))} END`;
  return [...loose, exact];
}

function startOfDayUtc(day: string): string {
  return `${day}T00:00:00.000Z`;
}

function nextDayUtc(day: string): string {
  const date = new Date(startOfDayUtc(day));
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString();
}

/** The WHERE conditions for a resolved filter; `null` when nothing can match. */
export function payoutWhere(resolved: TResolvedFilter): Prisma.Sql | null {
  const { filter, provider, search } = resolved;
  const conditions: Prisma.Sql[] = [];
  // One status as `=`: the planner then walks (status, createdAt, id) in order; with `= ANY`
  // (several statuses) it cannot keep the order from that index.
  if (filter.status.length === 1) conditions.push(Prisma.sql`p.status = ${filter.status[0]}::"PayoutStatus"`);
  else if (filter.status.length > 1) conditions.push(Prisma.sql`p.status = ANY(${filter.status}::"PayoutStatus"[])`);
  if (provider === "missing") return null;
  if (provider) conditions.push(Prisma.sql`p."providerId" = ${provider.id}::uuid`);
  if (filter.currency) conditions.push(Prisma.sql`p.currency = ${filter.currency}`);
  const dateColumn = filter.date === "eligible" ? Prisma.raw(`p."eligibleAt"`) : Prisma.raw(`p."createdAt"`);
  if (filter.from) conditions.push(Prisma.sql`${dateColumn} >= ${startOfDayUtc(filter.from)}::timestamptz`);
  if (filter.to) conditions.push(Prisma.sql`${dateColumn} < ${nextDayUtc(filter.to)}::timestamptz`);
  conditions.push(...amountConditions(filter));
  if (search) {
    const any: Prisma.Sql[] = [];
    if (search.payoutIds.length > 0) any.push(Prisma.sql`p.id = ANY(${search.payoutIds}::uuid[])`);
    if (search.bookingIds.length > 0) any.push(Prisma.sql`p."bookingId" = ANY(${search.bookingIds}::uuid[])`);
    if (search.providerIds.length > 0) any.push(Prisma.sql`p."providerId" = ANY(${search.providerIds}::uuid[])`);
    if (search.namePrefix) any.push(Prisma.sql`p."providerId" IN (SELECT id FROM "Provider" WHERE name ILIKE ${search.namePrefix})`);
    if (any.length === 0) return null;
    conditions.push(any.length === 1 ? (any[0] as Prisma.Sql) : Prisma.sql`(${Prisma.join(any, " OR ")})`);
  }
  return conditions.length > 0 ? Prisma.join(conditions, " AND ") : Prisma.sql`TRUE`;
}
