import "server-only";

import type { Db } from "@/lib/db";
import { currencyMinorDigits } from "@/lib/money/format-money";

import { payoutExportBatches, type TPayoutExportRow } from "./list-payouts";
import type { TPayoutFilter } from "./payout-filter";

// CSV export of exactly the payouts a filter matches (every page), streamed: rows are read
// in keyset batches and written as they come, so memory holds one batch, not the export.
// RFC 4180: comma-separated, CRLF line ends, fields quoted when they contain a comma, a
// quote or a line break, quotes doubled; a header row first.

type TColumn = { header: string; value: (row: TPayoutExportRow) => string | number | null };

/** "-1234" with 2 digits -> "12.34"; 5 with 2 -> "0.05"; 5000 with 0 -> "5000". Exact, no floats. */
export function minorToDecimal(amountMinor: number, currency: string): string {
  const digits = currencyMinorDigits(currency);
  const sign = amountMinor < 0 ? "-" : "";
  const magnitude = Math.abs(amountMinor).toString();
  if (digits === 0) return `${sign}${magnitude}`;
  const padded = magnitude.padStart(digits + 1, "0");
  return `${sign}${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export const PAYOUT_CSV_COLUMNS: readonly TColumn[] = [
  { header: "payout_id", value: (r) => r.id },
  { header: "status", value: (r) => r.status },
  { header: "hold_reason", value: (r) => r.holdReason },
  { header: "currency", value: (r) => r.currency },
  { header: "amount", value: (r) => minorToDecimal(r.amount, r.currency) },
  { header: "amount_minor", value: (r) => r.amount },
  { header: "provider_share_minor", value: (r) => r.providerShare },
  { header: "tip_amount_minor", value: (r) => r.tipAmount },
  { header: "refunded_amount_minor", value: (r) => r.refundedAmount },
  { header: "reversed_amount_minor", value: (r) => r.reversedAmount },
  { header: "booking_external_id", value: (r) => r.bookingExternalId },
  { header: "provider_id", value: (r) => r.providerId },
  { header: "provider_external_id", value: (r) => r.providerExternalId },
  { header: "provider_name", value: (r) => r.providerName },
  { header: "stripe_transfer_id", value: (r) => r.stripeTransferId },
  { header: "transfer_attempts", value: (r) => r.attempts },
  { header: "created_at", value: (r) => iso(r.createdAt) },
  { header: "eligible_at", value: (r) => iso(r.eligibleAt) },
  { header: "transferred_at", value: (r) => iso(r.transferredAt) },
];

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

export const PAYOUT_CSV_HEADER = csvLine(PAYOUT_CSV_COLUMNS.map((c) => c.header));

export function payoutCsvLine(row: TPayoutExportRow): string {
  return csvLine(PAYOUT_CSV_COLUMNS.map((c) => c.value(row)));
}

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
  const batches = payoutExportBatches(db, filter, options.batchSize ?? 1000);
  const first = await batches.next();
  let failure: { error: unknown } | null = null;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(encoder.encode(PAYOUT_CSV_HEADER + (first.done ? "" : first.value.map(payoutCsvLine).join(""))));
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
          else controller.enqueue(encoder.encode(value.map(payoutCsvLine).join("")));
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
