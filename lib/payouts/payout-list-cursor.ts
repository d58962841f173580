import "server-only";

import { z } from "zod";

import { ValidationError } from "@/lib/errors";
import { parseIsoInstant } from "@/lib/list/keyset-position";

import type { TPayoutFilter, TPayoutSort } from "./payout-filter";

// The payouts list's page positions (keyset cursors): what a cursor holds, how it travels
// (base64url JSON), and how strictly it is checked before it reaches the database.

/** `amount` is an int4 column: a cursor value outside its range cannot name a row. */
const INT4_MIN = -2_147_483_648;
const INT4_MAX = 2_147_483_647;

/**
 * A page position: the sort (`s`, `o`), the last row's sort value (`v`: an ISO instant as
 * toISOString writes it for the date sorts, an int4 for amount) and its id (`i`). Checked
 * strictly, so that a forged one is a 400 here, not an error from PostgreSQL.
 */
const ZCursor = z.object({
  s: z.enum(["createdAt", "eligibleAt", "amount"]),
  o: z.enum(["asc", "desc"]),
  v: z.union([z.string().max(40), z.number().int()]),
  i: z.uuid(),
});
export type TCursor = z.infer<typeof ZCursor>;

export type TSortValueRow = { id: string; createdAt: Date; eligibleAt: Date; amount: number };

export function sortValue(row: TSortValueRow, sort: TPayoutSort): string | number {
  return sort === "amount" ? row.amount : row[sort].toISOString();
}

export function encodeCursor(cursor: TCursor): string {
  return Buffer.from(JSON.stringify(cursor), "utf8").toString("base64url");
}

export function decodeCursor(raw: string, filter: Pick<TPayoutFilter, "sort" | "order">): TCursor {
  let parsed: TCursor;
  try {
    parsed = ZCursor.parse(JSON.parse(Buffer.from(raw, "base64url").toString("utf8")));
  } catch {
    throw new ValidationError("The page cursor is not valid; start again from the first page.", { field: "cursor" });
  }
  if (parsed.s !== filter.sort || parsed.o !== filter.order) {
    throw new ValidationError("The page cursor belongs to another sort order; start again from the first page.", { field: "cursor" });
  }
  const valueFits =
    parsed.s === "amount"
      ? typeof parsed.v === "number" && parsed.v >= INT4_MIN && parsed.v <= INT4_MAX
      : typeof parsed.v === "string" && parseIsoInstant(parsed.v) !== null;
  if (!valueFits) {
    throw new ValidationError("The page cursor is not valid; start again from the first page.", { field: "cursor" });
  }
  return parsed;
}
