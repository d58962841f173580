// The payouts list filter: one schema for the page, the list API and the CSV export, parsed
// from and serialised back to URL search params so that a view is a shareable link. Pure
// and browser-safe (no Prisma client, no server-only imports).
import { z } from "zod";

import { PayoutStatus } from "@/generated/prisma/enums";
import { storableText } from "@/lib/http/storable-text";

export const PAYOUT_STATUSES = Object.values(PayoutStatus);

export const PAYOUT_SORTS = ["createdAt", "eligibleAt", "amount"] as const;
export type TPayoutSort = (typeof PAYOUT_SORTS)[number];

export const PAYOUT_DATE_FIELDS = ["created", "eligible"] as const;
export type TPayoutDateField = (typeof PAYOUT_DATE_FIELDS)[number];

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** A non-negative decimal in the currency's major unit as typed by a person: "12", "12.5", "0.99". */
const DECIMAL = /^\d{1,12}(\.\d{1,3})?$/;
const DATE_MIN = "2000-01-01";
const DATE_MAX = "2999-12-31";

const optionalText = (max: number) => storableText().trim().min(1).max(max).optional();

const day = z.iso.date().refine((v) => v >= DATE_MIN && v <= DATE_MAX, `must be between ${DATE_MIN} and ${DATE_MAX}`);

/** The fields of the filter, shared by ZPayoutFilter and ZPayoutListQuery. */
const filterShape = {
  /** Any of these statuses (none: all). */
  status: z
    .array(z.enum(PayoutStatus))
    .max(PAYOUT_STATUSES.length)
    .default([])
    .transform((list) => PAYOUT_STATUSES.filter((s) => list.includes(s))),
  /** The provider's id (uuid) or its external id on the booking platform, exactly. */
  provider: optionalText(191),
  currency: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z]{3}$/, "must be a three-letter ISO 4217 code")
    .optional(),
  /** Which date `from` and `to` apply to. */
  date: z.enum(PAYOUT_DATE_FIELDS).default("created"),
  /** First day included (UTC), YYYY-MM-DD. */
  from: day.optional(),
  /** Last day included (UTC), YYYY-MM-DD. */
  to: day.optional(),
  /** Smallest amount, in the payout's currency's major unit ("10" is $10.00 or ¥10). */
  amountMin: z.string().trim().regex(DECIMAL, "must be a number like 10 or 10.50").optional(),
  amountMax: z.string().trim().regex(DECIMAL, "must be a number like 10 or 10.50").optional(),
  /**
   * Search: a payout id, a Stripe transfer id, a booking's external id or a provider's
   * external id (all exact), or the start of a provider's name (any case).
   */
  q: optionalText(200),
  sort: z.enum(PAYOUT_SORTS).default("createdAt"),
  order: z.enum(["asc", "desc"]).default("desc"),
};

type TRanges = { from?: string | undefined; to?: string | undefined; amountMin?: string | undefined; amountMax?: string | undefined };

function checkRanges(value: TRanges, ctx: z.RefinementCtx): void {
  if (value.from && value.to && value.from > value.to) {
    ctx.addIssue({ code: "custom", path: ["to"], message: "must not be before the start date" });
  }
  if (value.amountMin && value.amountMax && Number(value.amountMin) > Number(value.amountMax)) {
    ctx.addIssue({ code: "custom", path: ["amountMax"], message: "must not be below the minimum amount" });
  }
}

export const ZPayoutFilter = z.object(filterShape).strict().superRefine(checkRanges);
export type TPayoutFilter = z.output<typeof ZPayoutFilter>;
export type TPayoutFilterInput = z.input<typeof ZPayoutFilter>;

const cursor = z
  .string()
  .min(1)
  .max(500)
  .regex(/^[A-Za-z0-9_-]+$/, "is not a valid cursor");

/** The list API and page: the filter plus the page (a keyset cursor) and its size. */
export const ZPayoutListQuery = z
  .object({
    ...filterShape,
    /** Rows after this cursor (next page). */
    after: cursor.optional(),
    /** Rows before this cursor (previous page). */
    before: cursor.optional(),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  })
  .strict()
  .superRefine((value, ctx) => {
    checkRanges(value, ctx);
    if (value.after && value.before) ctx.addIssue({ code: "custom", path: ["before"], message: "use either after or before, not both" });
  });
export type TPayoutListQuery = z.output<typeof ZPayoutListQuery>;

/** The filter part of a list query (drops the page). */
export function filterOf(query: TPayoutListQuery | TPayoutFilter): TPayoutFilter {
  return {
    status: query.status,
    provider: query.provider,
    currency: query.currency,
    date: query.date,
    from: query.from,
    to: query.to,
    amountMin: query.amountMin,
    amountMax: query.amountMax,
    q: query.q,
    sort: query.sort,
    order: query.order,
  };
}

const ARRAY_KEYS = new Set(["status"]);

/**
 * URL params as the object the schemas validate: empty values are dropped (an empty form
 * field means "no filter"), `status` is a list (repeated or comma-separated), and any other
 * repeated key stays an array so the schema rejects it.
 */
export function paramsToObject(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const values = params
      .getAll(key)
      .flatMap((v) => (ARRAY_KEYS.has(key) ? v.split(",") : [v]))
      .map((v) => v.trim())
      .filter((v) => v !== "");
    if (values.length === 0) continue;
    out[key] = ARRAY_KEYS.has(key) || values.length > 1 ? values : (values[0] as string);
  }
  return out;
}

/** Next's `searchParams` record (page props) as URLSearchParams. */
export function recordToParams(record: Record<string, string | string[] | undefined>): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(record)) {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) params.append(key, v);
  }
  return params;
}

export function parsePayoutFilter(params: URLSearchParams) {
  return ZPayoutFilter.safeParse(paramsToObject(params));
}

export function parsePayoutListQuery(params: URLSearchParams) {
  return ZPayoutListQuery.safeParse(paramsToObject(params));
}

export const DEFAULT_PAYOUT_FILTER: TPayoutFilter = ZPayoutFilter.parse({});

/**
 * The filter as URL params, in a fixed order and without defaults, so that equal filters
 * give equal URLs (and equal query keys). `parsePayoutFilter(serialize(f))` returns `f`.
 */
export function serializePayoutFilter(
  filter: TPayoutFilter,
  page?: { after?: string | undefined; before?: string | undefined },
): URLSearchParams {
  const params = new URLSearchParams();
  if (filter.q) params.set("q", filter.q);
  for (const status of filter.status) params.append("status", status);
  if (filter.provider) params.set("provider", filter.provider);
  if (filter.currency) params.set("currency", filter.currency);
  if (filter.from || filter.to) {
    if (filter.date !== "created") params.set("date", filter.date);
    if (filter.from) params.set("from", filter.from);
    if (filter.to) params.set("to", filter.to);
  }
  if (filter.amountMin) params.set("amountMin", filter.amountMin);
  if (filter.amountMax) params.set("amountMax", filter.amountMax);
  if (filter.sort !== "createdAt") params.set("sort", filter.sort);
  if (filter.order !== "desc") params.set("order", filter.order);
  if (page?.after) params.set("after", page.after);
  else if (page?.before) params.set("before", page.before);
  return params;
}

/** True when the filter narrows the list (sort and order do not). */
export function isFiltered(filter: TPayoutFilter): boolean {
  return Boolean(
    filter.q ||
    filter.status.length > 0 ||
    filter.provider ||
    filter.currency ||
    filter.from ||
    filter.to ||
    filter.amountMin ||
    filter.amountMax,
  );
}

/** "status: Invalid option …; to: must not be before the start date" for people. */
export function describeFilterIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
}

/**
 * A decimal in major units as an integer in minor units with `digits` decimals, exactly
 * (no floating point): ("12.345", 2, "ceil") -> 1235, ("12.345", 2, "floor") -> 1234,
 * ("12.5", 0, "ceil") -> 13. `ceil` for a lower bound, `floor` for an upper bound, so
 * the bound keeps its meaning in a currency with fewer decimals.
 */
export function decimalToMinor(value: string, digits: number, rounding: "ceil" | "floor"): number {
  if (!DECIMAL.test(value)) throw new RangeError(`Not a decimal amount: ${value}`);
  const [whole = "0", fraction = ""] = value.split(".");
  const kept = fraction.slice(0, digits).padEnd(digits, "0");
  const dropped = fraction.slice(digits);
  const minor = Number(whole) * 10 ** digits + (digits > 0 ? Number(kept) : 0);
  return rounding === "ceil" && /[1-9]/.test(dropped) ? minor + 1 : minor;
}
