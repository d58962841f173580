import "server-only";

import type { PrismaClient } from "@/generated/prisma/client";
import { independenceProblem } from "@/lib/auth/independent-approver";
import { hasRole, type TRole } from "@/lib/auth/roles";
import { getEnv } from "@/lib/env";
import {
  APPROVAL_AUDIT_ACTIONS,
  approvalBasisFromAudit,
  approvalMismatch,
  FORCE_RELEASE_ACTION,
  fourEyesThresholdFor,
  needsSecondApproval,
} from "@/lib/payouts/four-eyes";

import { approvedReleaseWaiting, payoutActionsFor, providerActionFacts } from "./payout-actions";
import type {
  TApprovalState,
  TApprovalUser,
  TApprovalView,
  TDebtView,
  TBankPayoutView,
  TDisputeView,
  TPayoutDetail,
  TPayoutDetailOptions,
  TReversalView,
  TTipView,
  TTransferAttemptView,
} from "./payout-detail-types";
import { buildTimeline, iso, isoOrNull } from "./payout-timeline";
import { readPayoutDetail, type TPayoutDetailRows } from "./read-payout-detail";

// Everything the payout detail page shows, in one read: the payout, its booking and
// provider, tips, disputes, transfer attempts, reversals, four-eyes requests and the audit
// entries of the payout, its booking, tips and disputes, merged into one time-ordered
// timeline; plus the actions the viewer's role allows and why any is disabled. Dates are
// ISO strings so the same shape serves the page, the JSON API and the browser cache.
//
// Cost: one statement (read-payout-detail.ts), index-driven whatever the table sizes (payout
// by id; booking and provider by primary key; tips, disputes, attempts, reversals, approvals
// and transfers by their payout/booking indexes; audit entries through the (entityType,
// entityId, createdAt) index): one snapshot, so the parts agree with each other. An admin
// viewing another admin's pending request reads it again in a repeatable-read transaction with
// the four-eyes independence checks.

/** At most this many audit entries are shown (newest first); a payout normally has a dozen. */
export const AUDIT_ENTRY_LIMIT = 500;

/** Whether `viewer` is an admin and another admin's request waits for approval. */
function awaitsAnotherAdmin(approvals: TPayoutDetailRows["approvals"], viewer: { id: string; role: TRole }): boolean {
  return hasRole(viewer.role, "admin") && approvals.some((a) => a.status === "pending" && a.requestedById !== viewer.id);
}

/**
 * The rows again, with why this admin may not approve each pending request of another admin
 * (four-eyes independence), all in one repeatable-read snapshot. Only when such a request waits.
 */
async function readWithIndependence(
  db: PrismaClient,
  payoutId: string,
  viewer: { id: string },
): Promise<(TPayoutDetailRows & { notIndependent: Map<string, string> }) | null> {
  return db.$transaction(
    async (tx) => {
      const read = await readPayoutDetail(tx, payoutId, AUDIT_ENTRY_LIMIT);
      if (!read) return null;
      const notIndependent = new Map<string, string>();
      for (const a of read.approvals) {
        if (a.status !== "pending" || a.requestedById === viewer.id) continue;
        const problem = await independenceProblem(tx, {
          approverId: viewer.id,
          requesterId: a.requestedById,
          requestedAt: a.createdAt,
          what: "force release",
        });
        if (problem) notIndependent.set(a.id, problem);
      }
      return { ...read, notIndependent };
    },
    { isolationLevel: "RepeatableRead" },
  );
}

/**
 * The payout's detail as `viewer` sees it, or null when there is no such payout.
 * `payoutId` must be a uuid (check it before calling).
 */
export async function getPayoutDetail(
  db: PrismaClient,
  payoutId: string,
  viewer: { id: string; role: TRole },
  options: TPayoutDetailOptions = {},
): Promise<TPayoutDetail | null> {
  const now = options.now ?? new Date();
  const configuredThreshold = options.fourEyesThreshold ?? getEnv().FOUR_EYES_THRESHOLD;

  const read = await readPayoutDetail(db, payoutId, AUDIT_ENTRY_LIMIT);
  if (!read) return null;
  const loaded = awaitsAnotherAdmin(read.approvals, viewer)
    ? await readWithIndependence(db, payoutId, viewer)
    : { ...read, notIndependent: new Map<string, string>() };
  if (!loaded) return null;

  const { payout, tips, disputes, attempts, reversals, approvals, transfers, lastBankPayout } = loaded;
  const bankPayoutView = (b: NonNullable<typeof lastBankPayout>): TBankPayoutView => ({
    stripePayoutId: b.stripePayoutId,
    status: b.status,
    amount: b.amount,
    currency: b.currency,
    arrivalDate: isoOrNull(b.arrivalDate),
    failureCode: b.failureCode,
    failureMessage: b.failureMessage,
  });
  const usersById = new Map(loaded.approvalUsers.map((u) => [u.id, u]));
  const userOf = (id: string): TApprovalUser => usersById.get(id) ?? { id, name: "Unknown user", email: "" };
  const { booking, provider } = payout;
  const auditTruncated = loaded.audit.length > AUDIT_ENTRY_LIMIT;
  const audit = loaded.audit.slice(0, AUDIT_ENTRY_LIMIT).reverse();

  const tipViews: TTipView[] = tips.map((t) => ({
    id: t.id,
    externalId: t.externalId,
    amount: t.amount,
    currency: t.currency,
    status: t.status,
    rejectionReason: t.rejectionReason,
    stripeChargeId: t.stripeChargeId,
    joined: t.payoutId === payout.id,
    tippedAt: iso(t.tippedAt),
    receivedAt: iso(t.createdAt),
  }));
  const disputeViews: TDisputeView[] = disputes.map((d) => ({
    id: d.id,
    externalId: d.externalId,
    stripeDisputeId: d.stripeDisputeId,
    scope: d.scope,
    reason: d.reason,
    status: d.status,
    outcome: d.outcome,
    refundedAmount: d.refundedAmount,
    currency: d.currency,
    openedAt: iso(d.openedAt),
    resolvedAt: isoOrNull(d.resolvedAt),
    openedAfterTransfer: d.openedAfterTransfer,
    refundAppliedAt: isoOrNull(d.refundAppliedAt),
    refundCountedAfterTransfer: d.refundAppliedAt !== null && payout.transferredAt !== null && d.refundAppliedAt >= payout.transferredAt,
  }));
  const attemptViews: TTransferAttemptView[] = attempts.map((a) => ({
    id: a.id,
    attemptNumber: a.attemptNumber,
    amount: a.amount,
    currency: a.currency,
    status: a.status,
    retryable: a.retryable,
    errorType: a.errorType,
    errorCode: a.errorCode,
    errorMessage: a.errorMessage,
    stripeTransferId: a.stripeTransferId,
    stripeRequestId: a.stripeRequestId,
    idempotencyKey: a.idempotencyKey,
    startedAt: iso(a.startedAt),
    finishedAt: isoOrNull(a.finishedAt),
  }));
  const reversalViews: TReversalView[] = reversals.map((r) => ({
    id: r.id,
    disputeId: r.disputeId,
    stripeReversalId: r.stripeReversalId,
    amount: r.amount,
    currency: r.currency,
    status: r.status,
    initiatedBy: r.initiatedBy,
    failureReason: r.failureReason,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  }));

  const current = { status: payout.status, amount: payout.amount, currency: payout.currency };
  const isAdmin = hasRole(viewer.role, "admin");
  const approvalViews: TApprovalView[] = approvals.map((a) => {
    let expiredBecause: string | null = null;
    if (a.status === "pending") {
      const recorded = audit
        .filter((e) => e.action === APPROVAL_AUDIT_ACTIONS.requested)
        .map((e) => approvalBasisFromAudit(e.after, a.id))
        .find((b) => b !== null);
      // Without its audit entry (beyond the timeline's limit, never expected otherwise), judge by the amount alone.
      const basis = recorded ?? { status: payout.status, amount: a.amount, currency: a.currency };
      expiredBecause = approvalMismatch(basis, current);
    }
    const pending = a.status === "pending";
    const ownRequest = a.requestedById === viewer.id;
    const notIndependent = loaded.notIndependent.get(a.id) ?? null;
    const state: TApprovalState = pending
      ? expiredBecause
        ? "expired"
        : "pending"
      : a.status === "cancelled"
        ? a.decidedById === a.requestedById
          ? "withdrawn"
          : "expired"
        : a.status;
    return {
      id: a.id,
      state,
      action: a.action,
      amount: a.amount,
      currency: a.currency,
      reason: a.reason,
      status: a.status,
      requestedBy: userOf(a.requestedById),
      decidedBy: a.decidedById ? userOf(a.decidedById) : null,
      decisionNote: a.decisionNote,
      createdAt: iso(a.createdAt),
      decidedAt: isoOrNull(a.decidedAt),
      expiredBecause,
      canApprove: isAdmin && pending && !ownRequest && expiredBecause === null && notIndependent === null,
      canReject: isAdmin && pending && !ownRequest,
      canWithdraw: isAdmin && pending && ownRequest,
      approveBlockedReason:
        isAdmin && pending
          ? ownRequest
            ? "You requested this force release; a second admin must approve it."
            : (expiredBecause ?? notIndependent)
          : null,
    };
  });
  const pendingApproval =
    approvalViews.find((a) => a.status === "pending" && a.action === FORCE_RELEASE_ACTION && a.expiredBecause === null) ?? null;

  // The newest force release request, approved and run but its transfer not tried yet: "waiting for the transfer to run".
  const newestRequest = approvals.find((a) => a.action === FORCE_RELEASE_ACTION) ?? null;
  const lastAttemptStartedAt = attempts.reduce<Date | null>((last, a) => (last && last >= a.startedAt ? last : a.startedAt), null);
  const approvedRelease = approvedReleaseWaiting(
    payout.status,
    newestRequest && {
      status: newestRequest.status,
      decidedAt: newestRequest.decidedAt,
      approvedBy: newestRequest.decidedById ? userOf(newestRequest.decidedById).name : "a second admin",
    },
    lastAttemptStartedAt,
  );

  const openDisputes = disputes.filter((d) => d.status === "open").length;
  const { providerReady, providerReadinessUnknown = false } = providerActionFacts(provider);
  const thresholdMinor = fourEyesThresholdFor(payout.currency, configuredThreshold);

  return {
    generatedAt: iso(now),
    payout: {
      id: payout.id,
      status: payout.status,
      holdReason: payout.holdReason,
      holdNote: payout.holdNote,
      cancelReason: payout.cancelReason,
      currency: payout.currency,
      providerShare: payout.providerShare,
      tipAmount: payout.tipAmount,
      refundedAmount: payout.refundedAmount,
      debtRecoveredAmount: payout.debtRecoveredAmount,
      amount: payout.amount,
      amountVersion: payout.amountVersion,
      reversedAmount: payout.reversedAmount,
      repaidAmount: payout.repaidAmount,
      transferCurrency: payout.transferCurrency,
      fundsExpectedAt: isoOrNull(payout.fundsExpectedAt),
      fundsWaitingSince: isoOrNull(payout.fundsWaitingSince),
      eligibleAt: iso(payout.eligibleAt),
      attempts: payout.attempts,
      lastError: payout.lastError,
      processingStartedAt: isoOrNull(payout.processingStartedAt),
      stripeTransferId: payout.stripeTransferId,
      transferredAt: isoOrNull(payout.transferredAt),
      version: payout.version,
      createdAt: iso(payout.createdAt),
      updatedAt: iso(payout.updatedAt),
    },
    provider: {
      id: provider.id,
      externalId: provider.externalId,
      name: provider.name,
      email: provider.email,
      stripeAccountId: provider.stripeAccountId,
      payoutsEnabled: provider.payoutsEnabled,
      accountUpdatedAt: isoOrNull(provider.accountUpdatedAt),
      lastBankPayout: lastBankPayout ? bankPayoutView(lastBankPayout) : null,
    },
    booking: {
      id: booking.id,
      externalId: booking.externalId,
      currency: booking.currency,
      providerShare: booking.providerShare,
      stripeChargeId: booking.stripeChargeId,
      stripePaymentIntentId: booking.stripePaymentIntentId,
      completedAt: isoOrNull(booking.completedAt),
      cancelledAt: isoOrNull(booking.cancelledAt),
      cancellationReason: booking.cancellationReason,
    },
    tips: tipViews,
    disputes: disputeViews,
    attempts: attemptViews,
    transfers: transfers.map((t) => ({
      id: t.id,
      kind: t.kind,
      leg: t.leg,
      amountVersion: t.amountVersion,
      status: t.status,
      sourceChargeId: t.sourceChargeId,
      payoutAmount: t.payoutAmount,
      amount: t.amount,
      currency: t.currency,
      exchangeRate: t.exchangeRate,
      stripeTransferId: t.stripeTransferId,
      transferredAt: isoOrNull(t.transferredAt),
      bankPayout: t.bankPayout ? bankPayoutView(t.bankPayout) : null,
    })),
    reversals: reversalViews,
    approvals: approvalViews,
    debts: loaded.debts.map((d): TDebtView => ({
      id: d.id,
      amount: d.amount,
      currency: d.currency,
      recoveredAmount: d.recoveredAmount,
      left: d.amount - d.recoveredAmount,
      status: d.status,
      reason: d.reason,
      closedReason: d.closedReason,
      createdAt: d.createdAt,
      pendingClosing: d.pending
        ? {
            id: d.pending.id,
            closing: d.pending.closing,
            amount: d.pending.amount,
            reason: d.pending.reason,
            requestedBy: d.pending.requestedByName,
            createdAt: d.pending.createdAt,
          }
        : null,
      canClose: viewer.role === "admin" && d.status === "open" && !d.pending && d.amount > d.recoveredAmount,
      canApprove: viewer.role === "admin" && !!d.pending && d.pending.requestedById !== viewer.id,
      fourEyesThresholdMinor: fourEyesThresholdFor(d.currency, configuredThreshold),
    })),
    timeline: buildTimeline({ audit, tips: tipViews, disputes: disputeViews, attempts: attemptViews, reversals: reversalViews }),
    auditTruncated,
    openDisputes,
    providerReady,
    providerReadinessUnknown,
    fourEyes: {
      thresholdMinor,
      required: needsSecondApproval(payout.amount, payout.currency, configuredThreshold),
      pendingApprovalId: pendingApproval?.id ?? null,
      approvedRelease,
    },
    viewer: { id: viewer.id, role: viewer.role },
    actions: payoutActionsFor(viewer.role, {
      status: payout.status,
      holdReason: payout.holdReason,
      openDisputes,
      providerReady,
      providerReadinessUnknown,
      pendingApproval: pendingApproval ? { requestedBy: pendingApproval.requestedBy.name } : null,
      approvedRelease,
      transferredPart: transfers.filter((t) => t.kind === "payout" && t.status === "succeeded").reduce((sum, t) => sum + t.payoutAmount, 0),
    }),
  };
}
