import "server-only";

import type { Payout } from "@/generated/prisma/client";
import type { TAuditAction } from "@/lib/audit/audit-actions";
import type { TPayoutAuditDetails } from "@/lib/audit/audit-snapshots";
import { payoutChangeEntry, recordAudit, type TActor } from "@/lib/audit/record-audit";
import type { Tx } from "@/lib/db";
import { AppError, NotFoundError } from "@/lib/errors";

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

/** Locks the payout row until the transaction ends, so changes to one payout are serialised. */
export async function lockPayout(tx: Tx, payoutId: string): Promise<Payout> {
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "Payout" WHERE id = ${payoutId}::uuid FOR UPDATE`;
  if (rows.length === 0) throw new NotFoundError("Payout", payoutId);
  return tx.payout.findUniqueOrThrow({ where: { id: payoutId } });
}

export async function lockPayoutForBooking(tx: Tx, bookingId: string): Promise<Payout | null> {
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "Payout" WHERE "bookingId" = ${bookingId}::uuid FOR UPDATE`;
  const row = rows[0];
  return row ? tx.payout.findUniqueOrThrow({ where: { id: row.id } }) : null;
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
 * only if nobody changed it since it was read, and the audit entry is written in the
 * same transaction. The payout should be locked (lockPayout) by the caller.
 */
export async function changePayout(tx: Tx, payout: Payout, change: TPayoutChange): Promise<Payout> {
  const { count } = await tx.payout.updateMany({
    where: { id: payout.id, version: payout.version },
    data: changedPayoutFields(payout, change.event, change.data ?? {}),
  });
  if (count === 0) {
    const current = await tx.payout.findUnique({ where: { id: payout.id }, select: { version: true } });
    throw new PayoutVersionConflictError(payout.id, payout.version, current?.version);
  }
  const updated = await tx.payout.findUniqueOrThrow({ where: { id: payout.id } });
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
  return updated;
}
