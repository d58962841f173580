import "server-only";

import type {
  Booking,
  Dispute,
  Payout,
  PayoutApproval,
  PayoutTransfer,
  Provider,
  ProviderBankPayout,
  ProviderDebt,
  Tip,
  TransferAttempt,
  TransferReversal,
} from "@/generated/prisma/client";
import type { DebtClosing } from "@/generated/prisma/enums";
import type { TAuditEntryRow } from "@/lib/audit/audit-entry-select";
import type { Db, Tx } from "@/lib/db";

// Everything the payout detail page shows of one payout, read in ONE statement: the payout with
// its booking and provider, and each list beside it as a JSON array built by an index-driven
// subquery (tips and disputes by booking, attempts, reversals, approvals and transfers by payout,
// the provider's newest bank payout, the approvers' names, the newest audit entries of the payout,
// its booking, tips and disputes). One statement sees one snapshot, so the parts agree with each
// other without a transaction, and the page pays one round trip instead of fifteen
// (get-payout-detail.ts; a test runs EXPLAIN on it with sequential scans disabled).

/** Rows as the Prisma client reads them, so the rest of the read model stays the same. */
export type TPayoutDetailRows = {
  payout: Payout & { booking: Booking; provider: Provider };
  tips: Tip[];
  disputes: Dispute[];
  attempts: TransferAttempt[];
  reversals: TransferReversal[];
  /** Newest first. */
  approvals: PayoutApproval[];
  transfers: (PayoutTransfer & { bankPayout: ProviderBankPayout | null })[];
  lastBankPayout: ProviderBankPayout | null;
  /** The users who requested or decided an approval. */
  approvalUsers: { id: string; name: string; email: string }[];
  /** Newest first, at most `auditLimit + 1` (one more than is shown tells that some were left out). */
  audit: TAuditEntryRow[];
  /** The debts this payout's refused reversals made, oldest first, each with its pending waive / write-off request. */
  debts: TDebtRow[];
};

/** A debt as the detail reads it (dates as ISO strings: they are only shown). */
export type TDebtRow = {
  id: string;
  amount: number;
  recoveredAmount: number;
  currency: string;
  status: ProviderDebt["status"];
  reason: string;
  closedReason: string | null;
  createdAt: string;
  settledAt: string | null;
  pending: {
    id: string;
    closing: DebtClosing;
    amount: number;
    reason: string;
    requestedById: string;
    requestedByName: string;
    createdAt: string;
  } | null;
};

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

const DATES = {
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

type TJsonRow = Record<string, unknown>;

/** The row with its date columns as Dates (in place: the row was just parsed). */
function revive<T>(row: TJsonRow, keys: readonly string[]): T {
  for (const key of keys) {
    const value = row[key];
    if (typeof value === "string") row[key] = new Date(value);
  }
  return row as T;
}

function reviveAll<T>(rows: TJsonRow[], keys: readonly string[]): T[] {
  return rows.map((row) => revive<T>(row, keys));
}

type TDetailJson = {
  payout: TJsonRow;
  booking: TJsonRow;
  provider: TJsonRow;
  tips: TJsonRow[];
  disputes: TJsonRow[];
  attempts: TJsonRow[];
  reversals: TJsonRow[];
  approvals: TJsonRow[];
  transfers: { transfer: TJsonRow; bankPayout: TJsonRow | null }[];
  lastBankPayout: TJsonRow | null;
  approvalUsers: { id: string; name: string; email: string }[];
  audit: TJsonRow[];
  debts: TDebtRow[];
};

/**
 * The payout's rows, or null when there is no such payout. `payoutId` must be a uuid. Run it on
 * a transaction to read it in that transaction's snapshot.
 */
export async function readPayoutDetail(db: Db | Tx, payoutId: string, auditLimit: number): Promise<TPayoutDetailRows | null> {
  const take = auditLimit + 1;
  // The audit entries: one index walk per entity (payout, booking, each tip, each dispute) on
  // (entityType, entityId, createdAt), each stopping after `take` rows, then the newest `take`.
  const [row] = await db.$queryRaw<{ detail: TDetailJson | string }[]>`
    SELECT json_build_object(
      'payout', row_to_json(p),
      'booking', row_to_json(b),
      'provider', row_to_json(pr),
      'tips', (SELECT coalesce(json_agg(t ORDER BY t."createdAt", t.id), '[]') FROM "Tip" t WHERE t."bookingId" = p."bookingId"),
      'disputes', (SELECT coalesce(json_agg(d ORDER BY d."openedAt", d.id), '[]') FROM "Dispute" d WHERE d."bookingId" = p."bookingId"),
      'attempts', (SELECT coalesce(json_agg(a ORDER BY a."attemptNumber"), '[]') FROM "TransferAttempt" a WHERE a."payoutId" = p.id),
      'reversals', (SELECT coalesce(json_agg(r ORDER BY r."createdAt", r.id), '[]') FROM "TransferReversal" r WHERE r."payoutId" = p.id),
      'approvals', (SELECT coalesce(json_agg(ap ORDER BY ap."createdAt" DESC, ap.id DESC), '[]') FROM "PayoutApproval" ap WHERE ap."payoutId" = p.id),
      'transfers', (
        SELECT coalesce(json_agg(json_build_object('transfer', x, 'bankPayout', bp) ORDER BY x.kind, x.leg), '[]')
        FROM "PayoutTransfer" x LEFT JOIN "ProviderBankPayout" bp ON bp.id = x."bankPayoutId"
        WHERE x."payoutId" = p.id AND x.status <> 'superseded'),
      'lastBankPayout', (
        SELECT row_to_json(l) FROM (
          SELECT * FROM "ProviderBankPayout" WHERE "providerId" = p."providerId" ORDER BY "createdAt" DESC, id DESC LIMIT 1) l),
      'debts', (
        SELECT coalesce(json_agg(json_build_object(
                 'id', dd.id, 'amount', dd.amount, 'recoveredAmount', dd."recoveredAmount", 'currency', dd.currency,
                 'status', dd.status, 'reason', dd.reason, 'closedReason', dd."closedReason", 'createdAt', dd."createdAt",
                 'settledAt', dd."settledAt", 'pending', pq.pending) ORDER BY dd."createdAt", dd.id), '[]')
        FROM "ProviderDebt" dd
        LEFT JOIN LATERAL (
          SELECT json_build_object('id', q.id, 'closing', q.closing, 'amount', q.amount, 'reason', q.reason,
                                   'requestedById', q."requestedById", 'requestedByName', u.name, 'createdAt', q."createdAt") AS pending
          FROM "DebtClosingRequest" q JOIN "AdminUser" u ON u.id = q."requestedById"
          WHERE q."debtId" = dd.id AND q.status = 'pending') pq ON true
        WHERE dd."payoutId" = p.id),
      'approvalUsers', (
        SELECT coalesce(json_agg(json_build_object('id', u.id, 'name', u.name, 'email', u.email)), '[]')
        FROM "AdminUser" u
        WHERE u.id IN (SELECT "requestedById" FROM "PayoutApproval" WHERE "payoutId" = p.id
                       UNION SELECT "decidedById" FROM "PayoutApproval" WHERE "payoutId" = p.id)),
      'audit', (
        SELECT coalesce(json_agg(e ORDER BY e."createdAt" DESC, e.id DESC), '[]') FROM (
          SELECT id, "createdAt", "actorType", "actorId", "actorLabel", action, "entityType", "entityId", reason, before, after,
                 "requestId", "runId"
          FROM (
            (SELECT * FROM "AuditLog" WHERE "entityType" = 'payout' AND "entityId" = p.id::text
             ORDER BY "createdAt" DESC, id DESC LIMIT ${take})
            UNION ALL
            (SELECT * FROM "AuditLog" WHERE "entityType" = 'booking' AND "entityId" = p."bookingId"::text
             ORDER BY "createdAt" DESC, id DESC LIMIT ${take})
            UNION ALL
            (SELECT ta.* FROM "Tip" t CROSS JOIN LATERAL (
               SELECT * FROM "AuditLog" WHERE "entityType" = 'tip' AND "entityId" = t.id::text
               ORDER BY "createdAt" DESC, id DESC LIMIT ${take}) ta
             WHERE t."bookingId" = p."bookingId")
            UNION ALL
            (SELECT da.* FROM "Dispute" d CROSS JOIN LATERAL (
               SELECT * FROM "AuditLog" WHERE "entityType" = 'dispute' AND "entityId" = d.id::text
               ORDER BY "createdAt" DESC, id DESC LIMIT ${take}) da
             WHERE d."bookingId" = p."bookingId")
          ) entries
          ORDER BY "createdAt" DESC, id DESC LIMIT ${take}) e)
    ) AS detail
    FROM "Payout" p
    JOIN "Booking" b ON b.id = p."bookingId"
    JOIN "Provider" pr ON pr.id = p."providerId"
    WHERE p.id = ${payoutId}::uuid`;
  if (!row) return null;
  const json = typeof row.detail === "string" ? (JSON.parse(row.detail) as TDetailJson) : row.detail;

  const payout = revive<Payout>(json.payout, DATES.payout);
  return {
    payout: {
      ...payout,
      booking: revive<Booking>(json.booking, DATES.booking),
      provider: revive<Provider>(json.provider, DATES.provider),
    },
    tips: reviveAll<Tip>(json.tips, DATES.tip),
    disputes: reviveAll<Dispute>(json.disputes, DATES.dispute),
    attempts: reviveAll<TransferAttempt>(json.attempts, DATES.attempt),
    reversals: reviveAll<TransferReversal>(json.reversals, DATES.reversal),
    approvals: reviveAll<PayoutApproval>(json.approvals, DATES.approval),
    transfers: json.transfers.map(({ transfer, bankPayout }) => ({
      ...revive<PayoutTransfer>(transfer, DATES.transfer),
      bankPayout: bankPayout ? revive<ProviderBankPayout>(bankPayout, DATES.bankPayout) : null,
    })),
    lastBankPayout: json.lastBankPayout ? revive<ProviderBankPayout>(json.lastBankPayout, DATES.bankPayout) : null,
    approvalUsers: json.approvalUsers,
    audit: reviveAll<TAuditEntryRow>(json.audit, DATES.audit),
    debts: json.debts,
  };
}
