import "server-only";

import type { ApprovalStatus } from "@/generated/prisma/enums";
import type { TAuditAction } from "@/lib/audit/audit-actions";
import { recordAudit, type TActor } from "@/lib/audit/record-audit";
import type { Tx } from "@/lib/db";

import { adminAccessRequestInclude, personLabel, type TAdminAccessRequestRow } from "./admin-access-rules";

/**
 * Closes a pending admin access request with an admin's decision (approved, rejected, or withdrawn
 * by its requester): who decided, when and why, its password hash dropped; audited on the account
 * in the caller's transaction, the decider named under `deciderKey`.
 */
export async function decideAdminAccessRequest(
  tx: Tx,
  request: TAdminAccessRequestRow,
  decision: {
    status: ApprovalStatus;
    action: TAuditAction;
    actor: TActor & { type: "admin" };
    deciderKey: "approvedBy" | "decidedBy";
    note: string;
    now: Date;
  },
): Promise<TAdminAccessRequestRow> {
  const { status, action, actor, deciderKey, note, now } = decision;
  const decided = await tx.adminAccessRequest.update({
    where: { id: request.id },
    data: { status, decidedById: actor.id, decidedAt: now, decisionNote: note, passwordHash: null },
    include: adminAccessRequestInclude,
  });
  await recordAudit(tx, {
    actor,
    action,
    entityType: "admin_user",
    entityId: request.userId,
    reason: note,
    after: {
      requestId: request.id,
      kind: request.kind,
      requestedBy: personLabel(request.requestedBy),
      [deciderKey]: actor.label,
      status: decided.status,
    },
    at: now,
  });
  return decided;
}
