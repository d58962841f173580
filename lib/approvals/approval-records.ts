import "server-only";

import { z } from "zod";

import type { Payout, PayoutApproval } from "@/generated/prisma/client";
import { ZReason } from "@/lib/audit/reason";
import { recordAudit, type TActor } from "@/lib/audit/record-audit";
import type { Tx } from "@/lib/db";
import { NotFoundError, ValidationError } from "@/lib/errors";
import { APPROVAL_AUDIT_ACTIONS, approvalBasisFromAudit, type TApprovalBasis } from "@/lib/payouts/four-eyes";

/** The body of approving or rejecting a four-eyes request. */
export const ZApprovalDecision = z.object({ reason: ZReason }).strict();

// Shared steps of the four-eyes use cases (request, approve, reject). Lock order everywhere:
// booking, then payout (lockPayoutAndBooking), then the approval row.

export type TApprovalWithRequester = PayoutApproval & { requestedBy: { id: string; name: string; email: string } };

export function requireAdminActor(actor: TActor): TActor & { type: "admin" } {
  if (actor.type !== "admin") throw new ValidationError("Four-eyes approvals need an admin user as the actor.");
  return actor;
}

export function requesterLabel(approval: TApprovalWithRequester): string {
  return `${approval.requestedBy.name} <${approval.requestedBy.email}>`;
}

/** Locks one approval request until the transaction ends. */
export async function lockApproval(tx: Tx, approvalId: string): Promise<TApprovalWithRequester> {
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "PayoutApproval" WHERE id = ${approvalId}::uuid FOR UPDATE`;
  if (rows.length === 0) throw new NotFoundError("Approval request", approvalId);
  return tx.payoutApproval.findUniqueOrThrow({
    where: { id: approvalId },
    include: { requestedBy: { select: { id: true, name: true, email: true } } },
  });
}

/** The payout's status and amount when the request was made, as its audit entry recorded them. */
export async function requestBasis(tx: Tx, approval: PayoutApproval, payout: Payout): Promise<TApprovalBasis> {
  const entry = await tx.auditLog.findFirst({
    where: {
      entityType: "payout",
      entityId: approval.payoutId,
      action: APPROVAL_AUDIT_ACTIONS.requested,
      after: { path: ["approvalId"], equals: approval.id },
    },
    select: { after: true },
  });
  // Without its audit entry (never expected), judge by the amount alone.
  return (
    approvalBasisFromAudit(entry?.after, approval.id) ?? { status: payout.status, amount: approval.amount, currency: approval.currency }
  );
}

export function basisOf(payout: Payout): TApprovalBasis {
  return { status: payout.status, amount: payout.amount, currency: payout.currency };
}

/** Closes a pending request that no longer matches its payout (status `cancelled`, no decider), audited. */
export async function expireApproval(
  tx: Tx,
  approval: TApprovalWithRequester,
  why: string,
  now: Date,
  audit: { actor: TActor; requestId: string | null; runId: string | null },
): Promise<void> {
  await tx.payoutApproval.update({
    where: { id: approval.id },
    data: { status: "cancelled", decidedAt: now, decidedById: null, decisionNote: `Expired. ${why}` },
  });
  await recordAudit(tx, {
    actor: audit.actor,
    action: APPROVAL_AUDIT_ACTIONS.expired,
    entityType: "payout",
    entityId: approval.payoutId,
    reason: why,
    after: { approvalId: approval.id, requestedBy: requesterLabel(approval), status: "cancelled" },
    requestId: audit.requestId,
    runId: audit.runId,
  });
}
