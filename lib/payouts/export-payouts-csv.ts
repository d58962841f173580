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
 * The filter's payouts as a CSV byte stream. Pull-based: the next batch is read only when
 * the consumer (the HTTP response) wants more, so a slow download does not pile rows up in
 * memory; cancelling the download stops the reads.
 */
export function exportPayoutsCsv(db: Db, filter: TPayoutFilter, options: { batchSize?: number } = {}): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const batches = payoutExportBatches(db, filter, options.batchSize ?? 1000);
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(encoder.encode(PAYOUT_CSV_HEADER));
      },
      async pull(controller) {
        try {
          const { value, done } = await batches.next();
          if (done) controller.close();
          else controller.enqueue(encoder.encode(value.map(payoutCsvLine).join("")));
        } catch (error) {
          console.error("Payout CSV export failed", error);
          controller.error(error);
        }
      },
      async cancel() {
        await batches.return(undefined);
      },
    },
    { highWaterMark: 1 },
  );
}
