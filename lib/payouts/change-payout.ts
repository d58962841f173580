import "server-only";

import { Prisma, type Payout } from "@/generated/prisma/client";
import type { TAuditAction } from "@/lib/audit/audit-actions";
import type { TPayoutAuditDetails } from "@/lib/audit/audit-snapshots";
import { payoutChangeEntry, recordAudit, type TActor } from "@/lib/audit/record-audit";
import type { Tx } from "@/lib/db";
import { AppError, NotFoundError } from "@/lib/errors";
import { recordPayoutEvent } from "@/lib/platform-webhooks/record-event";
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
  const rows = await tx.$queryRaw<Payout[]>`SELECT ${PAYOUT_COLUMNS} FROM "Payout" WHERE id = ${payoutId}::uuid FOR UPDATE`;
  const payout = rows[0];
  if (!payout) throw new NotFoundError("Payout", payoutId);
  return payout;
}

export async function lockPayoutForBooking(tx: Tx, bookingId: string): Promise<Payout | null> {
  const rows = await tx.$queryRaw<Payout[]>`SELECT ${PAYOUT_COLUMNS} FROM "Payout" WHERE "bookingId" = ${bookingId}::uuid FOR UPDATE`;
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
  let updated: Payout;
  try {
    // Written and read back in one round trip (UPDATE … RETURNING), only at the version read.
    updated = await tx.payout.update({
      where: { id: payout.id, version: payout.version },
      data: changedPayoutFields(payout, change.event, change.data ?? {}),
    });
  } catch (error) {
    if (!isRecordNotFound(error)) throw error;
    const current = await tx.payout.findUnique({ where: { id: payout.id }, select: { version: true } });
    throw new PayoutVersionConflictError(payout.id, payout.version, current?.version);
  }
  await recordAudit(
    tx,
    payoutChangeEntry({
      actor: change.audit.actor,
      action: change.audit.action,
      entityId: payout.id,
      reason: change.audit.reason ?? null,
      before: payoutSnapshot(payout),
      after: { ...payoutSnapshot(updated), ...(change.audit.details ?? {}) },
      runId: change.audit.runId ?? null,
      requestId: change.audit.requestId ?? null,
    }),
  );
  await settleDebtRecoveries(tx, payout, updated, change.audit);
  // What the booking platform is told of the change (a new status), in the same transaction.
  await recordPayoutEvent(tx, payout, updated);
  return updated;
}

/** Prisma's "no record matched the where" (P2025): an update's row was not there at the version read. */
function isRecordNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === "P2025";
}
