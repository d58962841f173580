import "server-only";

import type Stripe from "stripe";

import type { Payout, PayoutApproval } from "@/generated/prisma/client";
import { MAX_REASON_LENGTH } from "@/lib/audit/reason";
import { recordAudit } from "@/lib/audit/record-audit";
import { requireIndependentApprover } from "@/lib/auth/independent-approver";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { ConflictError, NotFoundError } from "@/lib/errors";
import { requireReason } from "@/lib/payouts/admin-action";
import { forceReleasePayout } from "@/lib/payouts/force-release-payout";
import { APPROVAL_AUDIT_ACTIONS, approvalMismatch } from "@/lib/payouts/four-eyes";
import { learnProviderAccountIfUnknown } from "@/lib/payouts/learn-provider-account";
import { lockPayoutAndBooking } from "@/lib/payouts/lock-booking";
import { getStripe } from "@/lib/stripe/client";

import { basisOf, expireApproval, lockApproval, requestBasis, requesterLabel, requireAdminActor } from "./approval-records";
import { joinTransaction } from "./join-transaction";

export type TApprovalDecisionInput = {
  approvalId: string;
  /** Required: why the admin decides this way (kept in the audit log). */
  reason: string;
};

export type TApproveResult = { approval: PayoutApproval; payout: Payout; transferRequested: boolean };

const REASON_LIMIT = MAX_REASON_LENGTH;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** The force release's audit reason: both admins by name, each with their words, within the reason limit. */
export function approvedReleaseReason(approver: string, note: string, requester: string, requestReason: string): string {
  const frame = (n: string, r: string) => `Four-eyes force release approved by ${approver}: "${n}". Requested by ${requester}: "${r}".`;
  const room = REASON_LIMIT - frame("", "").length;
  const noteRoom = Math.max(20, Math.min(note.length, Math.floor(room / 2)));
  const reasonRoom = Math.max(20, room - Math.min(note.length, noteRoom));
  return clip(frame(clip(note, noteRoom), clip(requestReason, reasonRoom)), REASON_LIMIT);
}

/** Why a request can no longer be approved because its requester is no longer an active admin, or null. */
async function requesterGone(tx: Tx, requesterId: string): Promise<string | null> {
  const requester = await tx.adminUser.findUnique({ where: { id: requesterId }, select: { role: true, disabledAt: true } });
  if (!requester || requester.disabledAt) return "Since the request, the requesting admin's account was disabled.";
  if (requester.role !== "admin") return "Since the request, the requesting admin lost the admin role.";
  return null;
}

/**
 * Admin (not the requester): approves a pending force release and runs it, in one
 * transaction, with the approver as the actor and both admins named in the audit reason.
 * The approver must be independent of the requester (requireIndependentApprover; 403 otherwise). If the payout's
 * status or amount changed since the request, or its requester is no longer an active admin,
 * the request expires (recorded) and nothing is released: 409. When Stripe never told us whether
 * the provider's account can receive payouts, Stripe is asked first (learnProviderAccountIfUnknown).
 */
export async function approveForceRelease(
  context: TServiceContext,
  input: TApprovalDecisionInput,
  options: { stripe?: Stripe } = {},
): Promise<TApproveResult> {
  const actor = requireAdminActor(context.actor);
  const note = requireReason(input.reason);
  const ctx = resolveContext(context);
  const request = await ctx.db.payoutApproval.findUnique({ where: { id: input.approvalId }, select: { payoutId: true } });
  if (!request) throw new NotFoundError("Approval request", input.approvalId);
  // As for the request: a new provider's "not ready" is a default; ask Stripe before releasing.
  await learnProviderAccountIfUnknown(context, options.stripe ?? getStripe(), { payoutId: request.payoutId });

  const result = await ctx.db.$transaction(
    async (tx): Promise<({ kind: "approved" } & TApproveResult) | { kind: "expired"; why: string }> => {
      const ref = await tx.payoutApproval.findUnique({ where: { id: input.approvalId }, select: { payoutId: true } });
      if (!ref) throw new NotFoundError("Approval request", input.approvalId);
      const { payout } = await lockPayoutAndBooking(tx, ref.payoutId);
      const approval = await lockApproval(tx, input.approvalId);
      if (approval.status !== "pending") throw new ConflictError(`This request is no longer pending (it was ${approval.status}).`);

      const now = ctx.clock.now();
      const audit = { actor, requestId: ctx.requestId, runId: ctx.runId };
      await requireIndependentApprover(tx, {
        approverId: actor.id,
        requesterId: approval.requestedById,
        requestedAt: approval.createdAt,
        what: "force release",
      });
      const mismatch =
        approvalMismatch(await requestBasis(tx, approval, payout), basisOf(payout)) ?? (await requesterGone(tx, approval.requestedById));
      if (mismatch) {
        await expireApproval(tx, approval, mismatch, now, audit);
        return { kind: "expired", why: mismatch };
      }

      const decided = await tx.payoutApproval.update({
        where: { id: approval.id },
        data: { status: "approved", decidedById: actor.id, decidedAt: now, decisionNote: note },
      });
      await recordAudit(tx, {
        ...audit,
        action: APPROVAL_AUDIT_ACTIONS.approved,
        entityType: "payout",
        entityId: payout.id,
        reason: note,
        after: { approvalId: approval.id, requestedBy: requesterLabel(approval), approvedBy: actor.label, status: "approved" },
      });
      const released = await forceReleasePayout(
        { ...context, db: joinTransaction(tx) },
        {
          payoutId: payout.id,
          reason: approvedReleaseReason(actor.label, note, requesterLabel(approval), approval.reason),
          expectedVersion: payout.version,
        },
      );
      return { kind: "approved", approval: decided, ...released };
    },
    TX_OPTIONS,
  );

  if (result.kind === "expired") {
    throw new ConflictError(`This request has expired. ${result.why} Request a new force release if it is still needed.`, {
      approvalId: input.approvalId,
      expired: true,
    });
  }
  return { approval: result.approval, payout: result.payout, transferRequested: result.transferRequested };
}
