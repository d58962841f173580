import "server-only";

import type {
  Booking,
  Dispute,
  Payout,
  PayoutApproval,
  PayoutTransfer,
  Provider,
  ProviderBankPayout,
  Tip,
  TransferAttempt,
  TransferReversal,
} from "@/generated/prisma/client";
import type { TAuditEntryRow } from "@/lib/audit/audit-entry-select";

// Rows read as JSON (one statement returning a row and what hangs off it: the payout detail,
// a booking locked with its provider) made model rows again: JSON carries dates as strings.

// ─── JSON to rows: the date columns of each model ───

/** The keys of T whose values are dates (or null). */
type TDateKey<T> = { [K in keyof T]-?: NonNullable<T[K]> extends Date ? K : never }[keyof T];

/**
 * A model's date columns, every one of them: a date column added to the model and not listed
 * here fails to compile (JSON carries dates as strings; each must become a Date again).
 */
const datesOf =
  <T>() =>
  <const K extends readonly TDateKey<T>[]>(
    keys: K & ([Exclude<TDateKey<T>, K[number]>] extends [never] ? unknown : { missingDateColumns: Exclude<TDateKey<T>, K[number]> }),
  ): K =>
    keys;

export const MODEL_DATES = {
  payout: datesOf<Payout>()([
    "eligibleAt",
    "processingStartedAt",
    "transferredAt",
    "fundsExpectedAt",
    "fundsWaitingSince",
    "createdAt",
    "updatedAt",
  ]),
  booking: datesOf<Booking>()(["completedAt", "cancelledAt", "createdAt", "updatedAt"]),
  provider: datesOf<Provider>()(["accountUpdatedAt", "accountCheckedAt", "accountLookedUpAt", "accountStateAt", "createdAt", "updatedAt"]),
  tip: datesOf<Tip>()(["tippedAt", "receivedAt", "createdAt"]),
  dispute: datesOf<Dispute>()(["openedAt", "resolvedAt", "refundAppliedAt", "createdAt", "updatedAt"]),
  attempt: datesOf<TransferAttempt>()(["startedAt", "finishedAt"]),
  reversal: datesOf<TransferReversal>()(["sentAt", "createdAt", "updatedAt"]),
  approval: datesOf<PayoutApproval>()(["createdAt", "decidedAt"]),
  transfer: datesOf<PayoutTransfer>()(["transferredAt", "createdAt", "updatedAt"]),
  bankPayout: datesOf<ProviderBankPayout>()(["arrivalDate", "stateAt", "createdAt", "updatedAt"]),
  audit: datesOf<TAuditEntryRow>()(["createdAt"]),
};

export type TJsonRow = Record<string, unknown>;

/** The row with its date columns as Dates (in place: the row was just parsed). */
export function revive<T>(row: TJsonRow, keys: readonly string[]): T {
  for (const key of keys) {
    const value = row[key];
    if (typeof value === "string") row[key] = new Date(value);
  }
  return row as T;
}

export function reviveAll<T>(rows: TJsonRow[], keys: readonly string[]): T[] {
  return rows.map((row) => revive<T>(row, keys));
}
