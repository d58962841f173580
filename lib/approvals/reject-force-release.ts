import "server-only";

import type { PayoutApproval } from "@/generated/prisma/client";
import { recordAudit } from "@/lib/audit/record-audit";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import { ConflictError } from "@/lib/errors";
import { requireReason } from "@/lib/payouts/admin-action";
import { APPROVAL_AUDIT_ACTIONS } from "@/lib/payouts/four-eyes";

import { lockApproval, requesterLabel, requireAdminActor } from "./approval-records";
import type { TApprovalDecisionInput } from "./approve-force-release";

export type TRejectResult = { approval: PayoutApproval; outcome: "rejected" | "withdrawn" };

/**
 * Admin: turns down a pending force release; nothing happens to the payout. Another admin
 * rejects it (`rejected`); the requester withdraws their own (`cancelled`). Audited on the payout.
 */
export async function rejectForceRelease(context: TServiceContext, input: TApprovalDecisionInput): Promise<TRejectResult> {
  const actor = requireAdminActor(context.actor);
  const reason = requireReason(input.reason);
  const ctx = resolveContext(context);

  return ctx.db.$transaction(async (tx) => {
    const approval = await lockApproval(tx, input.approvalId);
    if (approval.status !== "pending") throw new ConflictError(`This request is no longer pending (it was ${approval.status}).`);
    const withdrawn = approval.requestedById === actor.id;
    const now = ctx.clock.now();
    const decided = await tx.payoutApproval.update({
      where: { id: approval.id },
      data: { status: withdrawn ? "cancelled" : "rejected", decidedById: actor.id, decidedAt: now, decisionNote: reason },
    });
    await recordAudit(tx, {
      actor,
      action: withdrawn ? APPROVAL_AUDIT_ACTIONS.withdrawn : APPROVAL_AUDIT_ACTIONS.rejected,
      entityType: "payout",
      entityId: approval.payoutId,
      reason,
      after: { approvalId: approval.id, requestedBy: requesterLabel(approval), decidedBy: actor.label, status: decided.status },
      requestId: ctx.requestId,
      runId: ctx.runId,
    });
    return { approval: decided, outcome: withdrawn ? "withdrawn" : "rejected" };
  }, TX_OPTIONS);
}
