import "server-only";

import { Prisma } from "@/generated/prisma/client";
import type { Db } from "@/lib/db";
import { currencyMinorDigits } from "@/lib/money/format-money";
import { ZERO_DECIMAL_CURRENCIES } from "@/lib/money/money";

import { payoutExportBatches } from "./list-payouts";
import type { TPayoutFilter } from "./payout-filter";

// CSV export of exactly the payouts a filter matches (every page), streamed: rows are read
// in keyset batches and written as they come, so memory holds one batch, not the export.
// RFC 4180: comma-separated, CRLF line ends, fields quoted when they contain a comma, a
// quote or a line break, quotes doubled; a header row first.
//
// The rows are formatted by PostgreSQL, each batch as one text (see payoutExportBatches): as
// JavaScript objects, a million rows left hundreds of MB of garbage in the server. The rules
// are written once in JavaScript (csvField, minorToDecimal; the header and the failure line use
// them) and once in SQL below; test/integration/dashboard/csv-export-sql.test.ts holds the two
// to the same output.

/** "-1234" with 2 digits -> "12.34"; 5 with 2 -> "0.05"; 5000 with 0 -> "5000". Exact, no floats. */
export function minorToDecimal(amountMinor: number, currency: string): string {
  const digits = currencyMinorDigits(currency);
  const sign = amountMinor < 0 ? "-" : "";
  const magnitude = Math.abs(amountMinor).toString();
  if (digits === 0) return `${sign}${magnitude}`;
  const padded = magnitude.padStart(digits + 1, "0");
  return `${sign}${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}

/**
 * One CSV field. Text that a spreadsheet would run as a formula (starting with = + - @ or a
 * tab/CR; provider names and ids come from outside) gets a leading apostrophe, as OWASP
 * advises against CSV injection; numbers and our own values never start that way.
 */
export function csvField(value: string | number | null): string {
  if (value === null) return "";
  if (typeof value === "number") return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  // Quoted also when it holds ";" or a tab: spreadsheets in many locales split on those.
  return /[",;\t\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(fields: ReadonlyArray<string | number | null>): string {
  return `${fields.map(csvField).join(",")}\r\n`;
}

/**
 * What String.prototype.trim removes (WhiteSpace and LineTerminator), as the body of a bracket
 * expression in PostgreSQL's regular expressions. The test checks it against trim for every code point.
 */
export const JS_TRIMMED_CHARACTERS_SQL = String.raw`\u0009-\u000d\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff`;

/** csvField in SQL, for a text column (`column` is trusted SQL naming it). */
export function csvTextSql(column: string): string {
  const guarded = String.raw`CASE WHEN ${column} ~ '^[=+@\t\r-]' THEN '''' || ${column} ELSE ${column} END`;
  // The guard's apostrophe can hide only leading whitespace that is a tab or a CR: quoted anyway.
  const ws = JS_TRIMMED_CHARACTERS_SQL;
  return (
    `CASE WHEN ${column} IS NULL THEN '' ` +
    String.raw`WHEN ${column} ~ '[",;\t\r\n]|^[${ws}]|[${ws}]$' THEN '"' || replace(${guarded}, '"', '""') || '"' ` +
    `ELSE ${guarded} END`
  );
}

/** Every currency code Intl or Stripe's zero-decimal list knows; any other has 2 digits. */
const CURRENCY_CODES = [...new Set([...Intl.supportedValuesOf("currency"), ...ZERO_DECIMAL_CURRENCIES])].filter((code) =>
  /^[A-Z]{3}$/.test(code),
);

/** minorToDecimal in SQL, for an int4 amount column and its currency column. */
export function decimalAmountSql(amount: string, currency: string): string {
  const listed = (digits: number) =>
    CURRENCY_CODES.filter((code) => currencyMinorDigits(code) === digits)
      .map((code) => `'${code}'`)
      .join(",");
  // bigint first: the magnitude of int4's minimum does not fit an int4.
  const scaled = (unit: number, digits: number) =>
    `CASE WHEN ${amount} < 0 THEN '-' ELSE '' END || (abs(${amount}::bigint) / ${unit})::text || '.' || ` +
    `lpad((abs(${amount}::bigint) % ${unit})::text, ${digits}, '0')`;
  return (
    `CASE WHEN upper(${currency}) IN (${listed(0)}) THEN ${amount}::text ` +
    `WHEN upper(${currency}) IN (${listed(3)}) THEN ${scaled(1000, 3)} ` +
    `ELSE ${scaled(100, 2)} END`
  );
}

/**
 * A timestamptz(3) column as toISOString writes it, or nothing. Only for the years 1 to 9999 (no
 * era, four digits): toISOString writes others with a sign and six digits, and infinity not at all
 * (Prisma reads none of them), so a row holding one is refused (PAYOUT_CSV_UNWRITABLE_SQL).
 */
const iso = (column: string) => `coalesce(to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), '')`;
/** Values of ours that never need quoting or a guard: uuids, enum labels, integers. */
const plain = (column: string) => `coalesce(${column}::text, '')`;

/** A timestamptz column's field; `instant` names the column for PAYOUT_CSV_UNWRITABLE_SQL. */
const instant = (column: string) => ({ sql: iso(column), instant: column });

type TColumn = { header: string; sql: string; instant?: string };

/** The export's columns: `p` is the payout, `b` its booking, `pr` its provider (payoutExportBatches). */
export const PAYOUT_CSV_COLUMNS: readonly TColumn[] = [
  { header: "payout_id", sql: plain("p.id") },
  { header: "status", sql: plain("p.status") },
  { header: "hold_reason", sql: plain(`p."holdReason"`) },
  { header: "currency", sql: csvTextSql("p.currency") },
  { header: "amount", sql: decimalAmountSql("p.amount", "p.currency") },
  { header: "amount_minor", sql: plain("p.amount") },
  { header: "provider_share_minor", sql: plain(`p."providerShare"`) },
  { header: "tip_amount_minor", sql: plain(`p."tipAmount"`) },
  { header: "refunded_amount_minor", sql: plain(`p."refundedAmount"`) },
  { header: "reversed_amount_minor", sql: plain(`p."reversedAmount"`) },
  { header: "booking_external_id", sql: csvTextSql(`b."externalId"`) },
  { header: "provider_id", sql: plain("pr.id") },
  { header: "provider_external_id", sql: csvTextSql(`pr."externalId"`) },
  { header: "provider_name", sql: csvTextSql("pr.name") },
  { header: "stripe_transfer_id", sql: csvTextSql(`p."stripeTransferId"`) },
  { header: "transfer_attempts", sql: plain("p.attempts") },
  { header: "created_at", ...instant(`p."createdAt"`) },
  { header: "eligible_at", ...instant(`p."eligibleAt"`) },
  { header: "transferred_at", ...instant(`p."transferredAt"`) },
];

export const PAYOUT_CSV_HEADER = csvLine(PAYOUT_CSV_COLUMNS.map((c) => c.header));

/** True for a payout whose line cannot be written truly: an instant outside the years 1 to 9999. */
export const PAYOUT_CSV_UNWRITABLE_SQL = Prisma.raw(
  PAYOUT_CSV_COLUMNS.flatMap((c) => c.instant ?? [])
    .map((c) => `NOT (${c} IS NULL OR ${c} BETWEEN '0001-01-01T00:00:00Z' AND '9999-12-31T23:59:59.999Z')`)
    .join(" OR "),
);

/** One payout's CSV line, CRLF included, as an SQL expression. */
export const PAYOUT_CSV_LINE_SQL = Prisma.raw(`${PAYOUT_CSV_COLUMNS.map((c) => `(${c.sql})`).join(" || ',' || ")} || chr(13) || chr(10)`);

/** "payouts-20261124-1230Z.csv" */
export function payoutExportFileName(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").slice(0, 13).replace("T", "-");
  return `payouts-${stamp}Z.csv`;
}

/**
 * The last line of an export that failed part-way, written before the download is broken off: a
 * file saved anyway (or a client that ignores the broken connection) still says it is incomplete.
 */
export const PAYOUT_CSV_FAILED_LINE = csvLine([
  "EXPORT FAILED: this file is incomplete; the rows above are not all the payouts the filter matches. Export again.",
]);

/**
 * The filter's payouts as a CSV byte stream. The first batch is read before the stream is
 * returned, so a query that fails at once is an error answer (a 500 with no CSV), never a header
 * followed by nothing. Pull-based after that: the next batch is read only when the consumer (the
 * HTTP response) wants more, so a slow download does not pile rows up in memory; cancelling the
 * download stops the reads.
 *
 * A batch that fails later, after bytes have gone out, ends the stream so that a client can tell:
 * the failure line ({@link PAYOUT_CSV_FAILED_LINE}) goes out, then the stream errors, and the HTTP
 * response is broken off without its end (no final chunk), which browsers, curl and fetch all
 * report as a failed download rather than a complete file.
 */
export async function exportPayoutsCsv(
  db: Db,
  filter: TPayoutFilter,
  options: { batchSize?: number } = {},
): Promise<ReadableStream<Uint8Array>> {
  const encoder = new TextEncoder();
  const batches = payoutExportBatches(
    db,
    filter,
    { line: PAYOUT_CSV_LINE_SQL, unwritable: PAYOUT_CSV_UNWRITABLE_SQL },
    options.batchSize ?? 1000,
  );
  const first = await batches.next();
  let failure: { error: unknown } | null = null;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(encoder.encode(PAYOUT_CSV_HEADER + (first.done ? "" : first.value)));
        if (first.done) controller.close();
      },
      async pull(controller) {
        // The failure line was enqueued by the previous pull and has been read: now break off,
        // after a moment for the HTTP layer to send the line (Node holds a response's writes
        // until the next tick, and breaking off discards what it still holds).
        if (failure !== null) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          controller.error(failure.error);
          return;
        }
        try {
          const { value, done } = await batches.next();
          if (done) controller.close();
          else controller.enqueue(encoder.encode(value));
        } catch (error) {
          console.error("Payout CSV export failed part-way; the download is broken off", error);
          failure = { error };
          controller.enqueue(encoder.encode(PAYOUT_CSV_FAILED_LINE));
        }
      },
      async cancel() {
        await batches.return(undefined);
      },
    },
    { highWaterMark: 1 },
  );
}
