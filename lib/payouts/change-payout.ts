import "server-only";

import { AsyncResource } from "node:async_hooks";
import { isDeepStrictEqual } from "node:util";

import { Prisma, type Payout } from "@/generated/prisma/client";
import type { TAuditAction } from "@/lib/audit/audit-actions";
import type { TPayoutAuditDetails } from "@/lib/audit/audit-snapshots";
import { auditInsertSql, entryTime, payoutChangeEntry, type TActor, type TAuditEntry } from "@/lib/audit/record-audit";
import type { Tx } from "@/lib/db";
import { sqlRows } from "@/lib/direct-sql";
import { AppError, NotFoundError } from "@/lib/errors";
import { gatheredRows } from "@/lib/gathered-rows";
import {
  noteEventInserted,
  payoutEventInsert,
  payoutEventRow,
  payoutEventsInsert,
  type TInsertedEvent,
} from "@/lib/platform-webhooks/record-event";
import { columnsOf } from "@/lib/statement-names";

import { settleDebtRecoveries } from "./debt-recovery-rows";
import { legWritesWaitFor } from "./gathered-leg-writes";
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
  return changeNow(tx, payout, preparedChange(payout, change), change.audit);
}

type TPreparedChange = ReturnType<typeof preparedChange>;

/** changePayout of a change prepared (preparedChange). */
async function changeNow(
  tx: Tx,
  payout: Payout,
  { fields, expected, entry }: TPreparedChange,
  audit: TPayoutChange["audit"],
): Promise<Payout> {
  // Its platform event reads the payout's legs: none may wait to be written (gathered-leg-writes.ts).
  if (legWritesWaitFor(tx, payout.id)) throw new Error(`Payout ${payout.id}: changed at once while its leg writes wait for the batch.`);
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
  if (!row) throw await versionConflict(tx, payout);
  const { platformEvent, ...updated } = row;
  checkWritten(payout, expected, updated);
  noteEventInserted(platformEvent);
  await settleDebtRecoveries(tx, payout, updated, audit);
  return updated;
}

/** What a change makes of the payout: the fields it writes, the row as it will be, and its audit entry. */
function preparedChange(payout: Payout, change: TPayoutChange) {
  // Text as PostgreSQL stores it (a lone surrogate becomes U+FFFD, as a text parameter made it), so
  // that the audited snapshot is what the row holds.
  const fields = wellFormed({ ...changedPayoutFields(payout, change.event, change.data ?? {}), updatedAt: new Date() });
  // The row as the change makes it, for the audit entry written by the same statement.
  const expected: Payout = { ...payout, ...definedFields(fields) };
  const entry = payoutChangeEntry({
    actor: change.audit.actor,
    action: change.audit.action,
    entityId: payout.id,
    reason: change.audit.reason ?? null,
    before: payoutSnapshot(payout),
    after: { ...payoutSnapshot(expected), ...(change.audit.details ?? {}) },
    runId: change.audit.runId ?? null,
    requestId: change.audit.requestId ?? null,
    // Dated now, as the change is made: a change written later with its batch keeps its place on the timeline.
    at: entryTime(),
  });
  return { fields: definedFields(fields), expected, entry };
}

/** The payout was not at the version read: someone else changed it. */
async function versionConflict(tx: Tx, payout: Payout): Promise<PayoutVersionConflictError> {
  const current = await tx.payout.findUnique({ where: { id: payout.id }, select: { version: true } });
  return new PayoutVersionConflictError(payout.id, payout.version, current?.version);
}

/**
 * The entry said what the change would make of the row, and the platform's event was made of it: both
 * must be what was written. (The version read proves the row was the payout given, whose every write
 * bumps it; should a caller pass a payout that is not the row, this throws, and its transaction rolls
 * back with the entry.)
 */
function checkWritten(payout: Payout, expected: Payout, updated: Payout): void {
  if (!isDeepStrictEqual(payoutSnapshot(updated), payoutSnapshot(expected))) {
    throw new Error(
      `Payout ${payout.id}: the row written differs from the audited change (${JSON.stringify(payoutSnapshot(updated))} ≠ ${JSON.stringify(payoutSnapshot(expected))}).`,
    );
  }
  // The event told the platform of the row as predicted: it must be the event of the row written.
  if (!isDeepStrictEqual(payoutEventRow(payout, updated), payoutEventRow(payout, expected))) {
    throw new Error(`Payout ${payout.id}: the platform event written differs from the one of the row written.`);
  }
}

type TGatheredChange = {
  payout: Payout;
  expected: Payout;
  fields: Partial<TPayoutWrite>;
  entry: TAuditEntry;
  /** Notes the change's platform event in the async context of the member that made the change. */
  noteEvent: (row: TInsertedEvent | null | undefined) => void;
};

/**
 * The changes a batch's members make with changePayoutGathered (lib/payouts/batch-members.ts
 * workEachMember), written before it commits: one statement for the changes that write the same
 * columns (usually all of them), which writes them, their audit entries and their platform events
 * only if every payout was still at the version read (all or nothing: otherwise the batch rolls
 * back, and each member is done alone), then checks each row written as changePayout does.
 */
export const gatheredPayoutChanges = gatheredRows<TGatheredChange>(async (tx, changes) => {
  const groups = Map.groupBy(changes, (c) => Object.keys(c.fields).sort().join(","));
  for (const group of groups.values()) await writeChanges(tx, group);
});

/**
 * changePayout, in a batch that gathers payout changes (gatheredPayoutChanges): the change is written
 * with the other members' before the batch commits, and the row it will make returned now. For a
 * change nothing in the transaction reads back before the commit (the payout's row, its audit
 * entries and its platform events), one per payout and batch. A change that keeps or gives back
 * money for the provider's debts (settleDebtRecoveries), or made outside such a batch, is made at once.
 */
export async function changePayoutGathered(tx: Tx, payout: Payout, change: TPayoutChange): Promise<Payout> {
  const gathered = gatheredPayoutChanges.of(tx);
  const prepared = preparedChange(payout, change);
  const { fields, expected, entry } = prepared;
  if (!gathered || payout.debtRecoveredAmount > 0 || expected.debtRecoveredAmount > 0) return changeNow(tx, payout, prepared, change.audit);
  if (gathered.some((c) => c.payout.id === payout.id)) throw new Error(`Payout ${payout.id}: a second change gathered in one batch.`);
  gathered.push({ payout, expected, fields, entry, noteEvent: AsyncResource.bind(noteEventInserted) });
  return expected;
}

/** gatheredPayoutChanges's statement for changes that write the same columns. */
async function writeChanges(tx: Tx, changes: readonly TGatheredChange[]): Promise<void> {
  const columns = Object.keys(changes[0]!.fields) as (keyof TPayoutWrite)[];
  const rows = changes.map((c) => ({ id: c.payout.id, readVersion: c.payout.version, ...c.fields }));
  const events = changes.flatMap((c) => payoutEventRow(c.payout, c.expected) ?? []);
  const all = Prisma.sql`(SELECT count(*) FROM updated) = ${changes.length}`;
  const written = await sqlRows<(Payout & { platformEvent?: TInsertedEvent | null })[]>(
    tx,
    Prisma.sql`
    WITH updated AS (
      UPDATE "Payout" p SET ${Prisma.raw(columns.map((c) => `"${c}" = x."${c}"`).join(", "))}
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        AS x(id uuid, "readVersion" int, ${Prisma.raw(columns.map((c) => `"${c}" ${WRITE_TYPES[c]}`).join(", "))})
      WHERE p.id = x.id AND p.version = x."readVersion"
      RETURNING ${columnsOf(Prisma.PayoutScalarFieldEnum, "p")}
    ), audit AS (${auditInsertSql(
      changes.map((c) => c.entry),
      all,
    )})${events.length > 0 ? Prisma.sql`, event AS (${payoutEventsInsert(events, all)})` : Prisma.empty}
    SELECT ${PAYOUT_COLUMNS}${
      events.length > 0
        ? Prisma.sql`, (SELECT row_to_json(e) FROM event e WHERE e."subjectId" = updated.id::text) AS "platformEvent"`
        : Prisma.empty
    } FROM updated`,
  );
  const byId = new Map(written.map((row) => [row.id, row]));
  for (const change of changes) {
    const row = byId.get(change.payout.id);
    if (!row) throw await versionConflict(tx, change.payout);
    const { platformEvent, ...updated } = row;
    checkWritten(change.payout, change.expected, updated);
    change.noteEvent(platformEvent);
  }
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
