import "server-only";

import { isDeepStrictEqual } from "node:util";

import { Prisma, type Payout } from "@/generated/prisma/client";
import type { TAuditAction } from "@/lib/audit/audit-actions";
import type { TPayoutAuditDetails } from "@/lib/audit/audit-snapshots";
import { auditInsertSql, payoutChangeEntry, type TActor } from "@/lib/audit/record-audit";
import type { Tx } from "@/lib/db";
import { sqlRows } from "@/lib/direct-sql";
import { AppError, NotFoundError } from "@/lib/errors";
import { noteEventInserted, payoutEventInsert, type TInsertedEvent } from "@/lib/platform-webhooks/record-event";
import { columnsOf } from "@/lib/statement-names";

import { settleDebtRecoveries } from "./debt-recovery-rows";
import { changedPayoutFields, type TPayoutChangeData } from "./payout-change";
import { payoutSnapshot } from "./payout-snapshot";
import type { TPayoutEvent } from "./state-machine";

export { payoutSnapshot };
export type { TPayoutChangeData };

/** Someone else changed the payout between our read and our write. Safe to retry. */
export class PayoutVersionConflictError extends AppError {
  override name = "PayoutVersionConflictError";
  constructor(payoutId: string, expected: number, actual?: number) {
    super("version_conflict", "The payout changed while this action was being applied. Reload and try again.", 409, {
      payoutId,
      expectedVersion: expected,
      ...(actual !== undefined ? { actualVersion: actual } : {}),
    });
  }
}

const PAYOUT_COLUMNS = columnsOf(Prisma.PayoutScalarFieldEnum);

/**
 * Locks the payout row until the transaction ends, so changes to one payout are serialised, and
 * reads it in the same round trip (every column, named: see columnsOf).
 */
export async function lockPayout(tx: Tx, payoutId: string): Promise<Payout> {
  const rows = await sqlRows<Payout[]>(tx, Prisma.sql`SELECT ${PAYOUT_COLUMNS} FROM "Payout" WHERE id = ${payoutId}::uuid FOR UPDATE`);
  const payout = rows[0];
  if (!payout) throw new NotFoundError("Payout", payoutId);
  return payout;
}

export async function lockPayoutForBooking(tx: Tx, bookingId: string): Promise<Payout | null> {
  const rows = await sqlRows<Payout[]>(
    tx,
    Prisma.sql`SELECT ${PAYOUT_COLUMNS} FROM "Payout" WHERE "bookingId" = ${bookingId}::uuid FOR UPDATE`,
  );
  return rows[0] ?? null;
}

export type TPayoutChange = {
  /** The state-machine event; omit for changes that keep the status (amount adjustments). */
  event?: TPayoutEvent;
  data?: TPayoutChangeData;
  audit: {
    actor: TActor;
    action: TAuditAction;
    reason?: string | null;
    runId?: string | null;
    requestId?: string | null;
    /** Extra facts for the audit entry's "after" (e.g. the Stripe transfer id, the tip). */
    details?: TPayoutAuditDetails;
  };
};

/**
 * The one way a payout changes: the state machine decides the new status, the amount is
 * recomputed from its parts (and its version bumped when it moves), the row is written
 * only if nobody changed it since it was read, and the audit entry (and the booking platform's
 * event, lib/platform-webhooks) is written in the same transaction. What the payout reserved for
 * the provider's debts is applied or released with the change that transfers it or puts it back
 * (debt-recovery-rows.ts). The payout should be locked (lockPayout) by the caller.
 */
export async function changePayout(tx: Tx, payout: Payout, change: TPayoutChange): Promise<Payout> {
  // Text as PostgreSQL stores it (a lone surrogate becomes U+FFFD, as a text parameter made it), so
  // that the audited snapshot is what the row holds.
  const fields = wellFormed({ ...changedPayoutFields(payout, change.event, change.data ?? {}), updatedAt: new Date() });
  // The row as the change makes it, for the audit entry written by the same statement.
  const expected = { ...payout, ...definedFields(fields) };
  const entry = payoutChangeEntry({
    actor: change.audit.actor,
    action: change.audit.action,
    entityId: payout.id,
    reason: change.audit.reason ?? null,
    before: payoutSnapshot(payout),
    after: { ...payoutSnapshot(expected), ...(change.audit.details ?? {}) },
    runId: change.audit.runId ?? null,
    requestId: change.audit.requestId ?? null,
  });
  // Written, audited and read back in one round trip, only at the version read: the entry is
  // inserted only when the update matched the row, and so is what the booking platform is told of
  // the change (a new status; lib/platform-webhooks): its payload is made of the row as the change
  // makes it, checked below against the row written.
  const matched = Prisma.sql`EXISTS (SELECT 1 FROM updated)`;
  const event = payoutEventInsert(payout, expected, matched);
  const rows = await sqlRows<(Payout & { platformEvent?: TInsertedEvent | null })[]>(
    tx,
    Prisma.sql`
    WITH updated AS (
      UPDATE "Payout" SET ${setList(fields)}
      WHERE id = ${payout.id}::uuid AND version = ${payout.version}
      RETURNING ${PAYOUT_COLUMNS}
    ), audit AS (${auditInsertSql([entry], matched)})${event ? Prisma.sql`, event AS (${event})` : Prisma.empty}
    SELECT ${PAYOUT_COLUMNS}${event ? Prisma.sql`, (SELECT row_to_json(e) FROM event e) AS "platformEvent"` : Prisma.empty} FROM updated`,
  );
  const row = rows[0];
  if (!row) {
    const current = await tx.payout.findUnique({ where: { id: payout.id }, select: { version: true } });
    throw new PayoutVersionConflictError(payout.id, payout.version, current?.version);
  }
  const { platformEvent, ...updated } = row;
  // The entry said what the change would make of the row: it must be what was written. (The version
  // read proves the row was the payout given, whose every write bumps it; should a caller pass a
  // payout that is not the row, this throws, and its transaction rolls back with the entry.)
  if (!isDeepStrictEqual(payoutSnapshot(updated), payoutSnapshot(expected))) {
    throw new Error(
      `Payout ${payout.id}: the row written differs from the audited change (${JSON.stringify(payoutSnapshot(updated))} ≠ ${JSON.stringify(payoutSnapshot(expected))}).`,
    );
  }
  // The event told the platform of the row as predicted: it must be the event of the row written.
  if (!isDeepStrictEqual(payoutEventInsert(payout, updated, matched), event)) {
    throw new Error(`Payout ${payout.id}: the platform event written differs from the one of the row written.`);
  }
  noteEventInserted(platformEvent);
  await settleDebtRecoveries(tx, payout, updated, change.audit);
  return updated;
}

/** What a change may write to a payout's row: the change's fields, those it derives, and the time. */
type TPayoutWrite = Required<TPayoutChangeData> & Pick<Payout, "status" | "amount" | "amountVersion" | "version" | "updatedAt">;

/** Each writable column's SQL type, for its parameter's cast (the compiler checks none is missing). */
const WRITE_TYPES: { [K in keyof TPayoutWrite]: string } = {
  providerShare: "int",
  tipAmount: "int",
  refundedAmount: "int",
  debtRecoveredAmount: "int",
  reversedAmount: "int",
  repaidAmount: "int",
  holdReason: '"HoldReason"',
  holdNote: "text",
  cancelReason: "text",
  eligibleAt: "timestamptz",
  attempts: "int",
  lastError: "text",
  processingStartedAt: "timestamptz",
  stripeTransferId: "text",
  transferredAt: "timestamptz",
  transferCurrency: "text",
  fundsExpectedAt: "timestamptz",
  fundsWaitingSince: "timestamptz",
  status: '"PayoutStatus"',
  amount: "int",
  amountVersion: "int",
  version: "int",
  updatedAt: "timestamptz",
};

function wellFormed<T extends object>(fields: T): T {
  return Object.fromEntries(
    Object.entries(fields).map(([column, value]) => [column, typeof value === "string" ? value.toWellFormed() : value]),
  ) as T;
}

/** The fields given a value (undefined leaves a column as it is, as the ORM does). */
function definedFields(fields: Partial<TPayoutWrite>): Partial<TPayoutWrite> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<TPayoutWrite>;
}

function setList(fields: Partial<TPayoutWrite>): Prisma.Sql {
  const sets = Object.entries(definedFields(fields)).map(([column, value]) => {
    const type = WRITE_TYPES[column as keyof TPayoutWrite];
    if (!type) throw new Error(`changePayout cannot write the column ${column}.`);
    return Prisma.sql`${Prisma.raw(`"${column}"`)} = ${value}::${Prisma.raw(type)}`;
  });
  return Prisma.join(sets, ", ");
}
