import "server-only";

import type { Prisma, PrismaClient } from "@/generated/prisma/client";
import type {
  ActorType,
  ApprovalStatus,
  DisputeOutcome,
  DisputeScope,
  DisputeStatus,
  BankPayoutStatus,
  HoldReason,
  PayoutStatus,
  PayoutTransferKind,
  PayoutTransferStatus,
  ReversalInitiator,
  ReversalStatus,
  TipStatus,
  TransferAttemptStatus,
} from "@/generated/prisma/enums";
import {
  APPROVAL_AUDIT_ACTIONS,
  approvalBasisFromAudit,
  approvalMismatch,
  FORCE_RELEASE_ACTION,
  fourEyesThresholdFor,
  needsSecondApproval,
} from "@/lib/approvals/four-eyes";
import { hasRole, type TRole } from "@/lib/auth/roles";
import { getEnv } from "@/lib/env";

import { payoutActionsFor, providerActionFacts, type TPayoutActionState } from "./payout-actions";

// Everything the payout detail page shows, in one read: the payout, its booking and
// provider, tips, disputes, transfer attempts, reversals, four-eyes requests and the audit
// entries of the payout, its booking, tips and disputes, merged into one time-ordered
// timeline; plus the actions the viewer's role allows and why any is disabled. Dates are
// ISO strings so the same shape serves the page, the JSON API and the browser cache.
//
// Cost: a handful of indexed queries, whatever the table sizes (payout by id; booking and
// provider by primary key; tips, disputes, attempts, reversals and approvals by their
// payout/booking indexes; audit entries through the (entityType, entityId, createdAt)
// index), in one repeatable-read transaction so the parts agree with each other.

/** At most this many audit entries are shown (newest first); a payout normally has a dozen. */
export const AUDIT_ENTRY_LIMIT = 500;

export type TPayoutDetailActor = { type: ActorType; id: string | null; label: string };

export type TPayoutView = {
  id: string;
  status: PayoutStatus;
  holdReason: HoldReason | null;
  holdNote: string | null;
  cancelReason: string | null;
  currency: string;
  providerShare: number;
  tipAmount: number;
  refundedAmount: number;
  amount: number;
  amountVersion: number;
  reversedAmount: number;
  /** What was given back after reversals whose refund failed. */
  repaidAmount: number;
  /** The currency the transfer is made in when it is not the payout's (the charge settled in it). */
  transferCurrency: string | null;
  /** While waiting for funds: when Stripe expects them, and since when the payout waits. */
  fundsExpectedAt: string | null;
  fundsWaitingSince: string | null;
  eligibleAt: string;
  attempts: number;
  lastError: string | null;
  processingStartedAt: string | null;
  stripeTransferId: string | null;
  transferredAt: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
};

export type TTipView = {
  id: string;
  externalId: string;
  amount: number;
  currency: string;
  status: TipStatus;
  rejectionReason: string | null;
  stripeChargeId: string | null;
  /** Counted in this payout's amount. */
  joined: boolean;
  tippedAt: string;
  receivedAt: string;
};

export type TDisputeView = {
  id: string;
  externalId: string | null;
  stripeDisputeId: string | null;
  scope: DisputeScope;
  reason: string | null;
  status: DisputeStatus;
  outcome: DisputeOutcome | null;
  refundedAmount: number;
  currency: string;
  openedAt: string;
  resolvedAt: string | null;
  openedAfterTransfer: boolean;
  /** When its refund was taken off the payout before the transfer, or counted after it with nothing reversed for it. */
  refundAppliedAt: string | null;
  /** Its refund was counted after the transfer with nothing reversed for it (beyond what share + tips leave, or kept from money on its way). */
  refundCountedAfterTransfer: boolean;
};

export type TTransferAttemptView = {
  id: string;
  attemptNumber: number;
  amount: number;
  currency: string;
  status: TransferAttemptStatus;
  retryable: boolean | null;
  errorType: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  stripeTransferId: string | null;
  stripeRequestId: string | null;
  idempotencyKey: string;
  startedAt: string;
  finishedAt: string | null;
};

export type TReversalView = {
  id: string;
  disputeId: string | null;
  stripeReversalId: string | null;
  amount: number;
  currency: string;
  status: ReversalStatus;
  initiatedBy: ReversalInitiator;
  failureReason: string | null;
  createdAt: string;
  updatedAt: string;
};

export type TBankPayoutView = {
  stripePayoutId: string;
  status: BankPayoutStatus;
  amount: number;
  currency: string;
  arrivalDate: string | null;
  failureCode: string | null;
  failureMessage: string | null;
};

/** One Stripe transfer of the payout (one per funding charge), or a repayment after a failed refund. */
export type TPayoutTransferView = {
  id: string;
  kind: PayoutTransferKind;
  leg: number;
  amountVersion: number;
  status: PayoutTransferStatus;
  /** The charge that funds it (source_transaction); null: the platform's balance. */
  sourceChargeId: string | null;
  /** Its part of the payout, in the payout's currency. */
  payoutAmount: number;
  /** What is transferred, in its own currency, and at which rate when converted. */
  amount: number;
  currency: string;
  exchangeRate: string | null;
  stripeTransferId: string | null;
  transferredAt: string | null;
  /** The provider's bank payout that carried it, when Stripe said so. */
  bankPayout: TBankPayoutView | null;
};

export type TApprovalUser = { id: string; name: string; email: string };

/** How a request stands, in words: a pending request that no longer matches the payout is `expired`. */
export type TApprovalState = "pending" | "approved" | "rejected" | "withdrawn" | "expired";

export type TApprovalView = {
  id: string;
  state: TApprovalState;
  action: string;
  amount: number;
  currency: string;
  reason: string;
  status: ApprovalStatus;
  requestedBy: TApprovalUser;
  decidedBy: TApprovalUser | null;
  decisionNote: string | null;
  createdAt: string;
  decidedAt: string | null;
  /** A pending request that no longer matches the payout: why. It cannot be approved. */
  expiredBecause: string | null;
  /** What the signed-in user may do with it. */
  canApprove: boolean;
  canReject: boolean;
  canWithdraw: boolean;
  /** Why the signed-in admin cannot approve a pending request (e.g. they made it). */
  approveBlockedReason: string | null;
};

export type TAuditTimelineItem = {
  kind: "audit";
  key: string;
  at: string;
  action: string;
  entityType: string;
  actor: TPayoutDetailActor;
  reason: string | null;
  statusFrom: PayoutStatus | null;
  statusTo: PayoutStatus | null;
  amountFrom: number | null;
  amountTo: number | null;
  stripeTransferId: string | null;
  stripeReversalId: string | null;
};

export type TTimelineItem =
  | TAuditTimelineItem
  | { kind: "tip"; key: string; at: string; tip: TTipView; recordedBy: TPayoutDetailActor | null }
  | { kind: "dispute_opened"; key: string; at: string; dispute: TDisputeView; recordedBy: TPayoutDetailActor | null }
  | { kind: "dispute_resolved"; key: string; at: string; dispute: TDisputeView; recordedBy: TPayoutDetailActor | null }
  | { kind: "transfer_attempt"; key: string; at: string; attempt: TTransferAttemptView }
  | { kind: "reversal"; key: string; at: string; reversal: TReversalView };

export type TPayoutDetail = {
  generatedAt: string;
  payout: TPayoutView;
  provider: {
    id: string;
    externalId: string;
    name: string;
    email: string;
    stripeAccountId: string | null;
    payoutsEnabled: boolean;
    accountUpdatedAt: string | null;
    /** The provider's latest bank payout (from Connect's payout.* events). */
    lastBankPayout: TBankPayoutView | null;
  };
  booking: {
    id: string;
    externalId: string;
    currency: string;
    providerShare: number;
    stripeChargeId: string | null;
    stripePaymentIntentId: string | null;
    completedAt: string | null;
    cancelledAt: string | null;
    cancellationReason: string | null;
  };
  tips: TTipView[];
  disputes: TDisputeView[];
  attempts: TTransferAttemptView[];
  /** Its Stripe transfers (superseded plans left out), oldest first. */
  transfers: TPayoutTransferView[];
  reversals: TReversalView[];
  approvals: TApprovalView[];
  /** Newest first. */
  timeline: TTimelineItem[];
  /** True when the payout has more audit entries than the timeline shows. */
  auditTruncated: boolean;
  openDisputes: number;
  providerReady: boolean;
  /** Stripe never said whether the provider's account can receive payouts (a new provider): a force release asks it first. */
  providerReadinessUnknown: boolean;
  fourEyes: {
    /** Force releases at or above this amount (minor units of the payout's currency) need a second admin. */
    thresholdMinor: number;
    required: boolean;
    /** The pending request that still matches the payout, if any: the payout awaits a second approval. */
    pendingApprovalId: string | null;
  };
  viewer: { id: string; role: TRole };
  /** The actions the viewer's role allows, each enabled or disabled with the reason. */
  actions: TPayoutActionState[];
};

export type TPayoutDetailOptions = {
  now?: Date;
  /** FOUR_EYES_THRESHOLD in hundredths of the currency's main unit; defaults to the configured value. */
  fourEyesThreshold?: number;
};

const iso = (d: Date) => d.toISOString();
const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

/** `value[key]` when `value` is a JSON object, else undefined. */
function field(value: Prisma.JsonValue | null, key: string): Prisma.JsonValue | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? value[key] : undefined;
}

const PAYOUT_STATUS_SET: ReadonlySet<string> = new Set<PayoutStatus>([
  "scheduled",
  "on_hold",
  "processing",
  "transferred",
  "partially_reversed",
  "reversed",
  "failed",
  "cancelled",
]);

function statusField(value: Prisma.JsonValue | null): PayoutStatus | null {
  const status = field(value, "status");
  return typeof status === "string" && PAYOUT_STATUS_SET.has(status) ? (status as PayoutStatus) : null;
}

function numberField(value: Prisma.JsonValue | null, key: string): number | null {
  const n = field(value, key);
  return typeof n === "number" ? n : null;
}

function stringField(value: Prisma.JsonValue | null, key: string): string | null {
  const s = field(value, key);
  return typeof s === "string" ? s : null;
}

type TAuditRow = {
  id: string;
  createdAt: Date;
  actorType: ActorType;
  actorId: string | null;
  actorLabel: string;
  action: string;
  entityType: string;
  entityId: string;
  reason: string | null;
  before: Prisma.JsonValue | null;
  after: Prisma.JsonValue | null;
};

function auditItem(row: TAuditRow): TAuditTimelineItem {
  const statusBefore = statusField(row.before);
  const statusAfter = statusField(row.after);
  const amountBefore = numberField(row.before, "amount");
  const amountAfter = numberField(row.after, "amount");
  const transferBefore = stringField(row.before, "stripeTransferId");
  const transferAfter = stringField(row.after, "stripeTransferId");
  const statusChanged = statusAfter !== null && statusAfter !== statusBefore;
  const amountChanged = amountAfter !== null && amountBefore !== null && amountAfter !== amountBefore;
  return {
    kind: "audit",
    key: `audit:${row.id}`,
    at: iso(row.createdAt),
    action: row.action,
    entityType: row.entityType,
    actor: { type: row.actorType, id: row.actorId, label: row.actorLabel },
    reason: row.reason,
    statusFrom: statusChanged ? statusBefore : null,
    statusTo: statusChanged ? statusAfter : null,
    amountFrom: amountChanged ? amountBefore : null,
    amountTo: amountChanged ? amountAfter : null,
    stripeTransferId: transferAfter !== null && transferAfter !== transferBefore ? transferAfter : null,
    stripeReversalId: stringField(row.after, "stripeReversalId"),
  };
}

const actorOf = (row: TAuditRow): TPayoutDetailActor => ({ type: row.actorType, id: row.actorId, label: row.actorLabel });

/**
 * For entries written at the same instant (one transaction), the order in which things
 * happen: the fact first, then what the payout did about it.
 */
function causalRank(item: TTimelineItem): number {
  switch (item.kind) {
    case "tip":
    case "dispute_opened":
    case "dispute_resolved":
      return 1;
    case "transfer_attempt":
    case "reversal":
      return 4;
    case "audit":
      if (item.action === "booking.completed") return 0;
      if (item.action === "payout.scheduled") return 2;
      if (item.action === APPROVAL_AUDIT_ACTIONS.approved || item.action === APPROVAL_AUDIT_ACTIONS.requested) return 2;
      return 3;
  }
}

/** Merges the parts into one timeline, newest first. */
export function buildTimeline(parts: {
  audit: TAuditRow[];
  tips: TTipView[];
  disputes: TDisputeView[];
  attempts: TTransferAttemptView[];
  reversals: TReversalView[];
}): TTimelineItem[] {
  // Audit entries that record a tip or a dispute arriving are shown on that fact's item.
  const recordedBy = new Map<string, TPayoutDetailActor>();
  const items: TTimelineItem[] = [];
  for (const row of parts.audit) {
    if (row.entityType === "tip" && (row.action === "tip.accepted" || row.action === "tip.rejected")) {
      recordedBy.set(`tip:${row.entityId}`, actorOf(row));
    } else if (row.entityType === "dispute" && row.action === "dispute.opened") {
      recordedBy.set(`dispute_opened:${row.entityId}`, actorOf(row));
    } else if (row.entityType === "dispute" && row.action === "dispute.resolved") {
      recordedBy.set(`dispute_resolved:${row.entityId}`, actorOf(row));
    } else {
      items.push(auditItem(row));
    }
  }
  for (const tip of parts.tips) {
    items.push({ kind: "tip", key: `tip:${tip.id}`, at: tip.receivedAt, tip, recordedBy: recordedBy.get(`tip:${tip.id}`) ?? null });
  }
  for (const dispute of parts.disputes) {
    items.push({
      kind: "dispute_opened",
      key: `dispute_opened:${dispute.id}`,
      at: dispute.openedAt,
      dispute,
      recordedBy: recordedBy.get(`dispute_opened:${dispute.id}`) ?? null,
    });
    if (dispute.resolvedAt) {
      items.push({
        kind: "dispute_resolved",
        key: `dispute_resolved:${dispute.id}`,
        at: dispute.resolvedAt,
        dispute,
        recordedBy: recordedBy.get(`dispute_resolved:${dispute.id}`) ?? null,
      });
    }
  }
  for (const attempt of parts.attempts) {
    items.push({ kind: "transfer_attempt", key: `attempt:${attempt.id}`, at: attempt.startedAt, attempt });
  }
  for (const reversal of parts.reversals) {
    items.push({ kind: "reversal", key: `reversal:${reversal.id}`, at: reversal.createdAt, reversal });
  }
  const order = new Map(items.map((item, index) => [item.key, index]));
  return items.sort(
    (a, b) =>
      Date.parse(b.at) - Date.parse(a.at) || causalRank(b) - causalRank(a) || (order.get(b.key) ?? 0) - (order.get(a.key) ?? 0),
  );
}

const USER_SELECT = { id: true, name: true, email: true } as const;

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

  const loaded = await db.$transaction(
    async (tx) => {
      const payout = await tx.payout.findUnique({ where: { id: payoutId }, include: { booking: true, provider: true } });
      if (!payout) return null;
      const [tips, disputes, attempts, reversals, approvals, transfers, lastBankPayout] = await Promise.all([
        tx.tip.findMany({ where: { bookingId: payout.bookingId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] }),
        tx.dispute.findMany({ where: { bookingId: payout.bookingId }, orderBy: [{ openedAt: "asc" }, { id: "asc" }] }),
        tx.transferAttempt.findMany({ where: { payoutId }, orderBy: { attemptNumber: "asc" } }),
        tx.transferReversal.findMany({ where: { payoutId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] }),
        tx.payoutApproval.findMany({ where: { payoutId }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] }),
        tx.payoutTransfer.findMany({
          where: { payoutId, status: { not: "superseded" } },
          orderBy: [{ kind: "asc" }, { leg: "asc" }],
          include: { bankPayout: true },
        }),
        tx.providerBankPayout.findFirst({ where: { providerId: payout.providerId }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] }),
      ]);
      const userIds = [...new Set(approvals.flatMap((a) => (a.decidedById ? [a.requestedById, a.decidedById] : [a.requestedById])))];
      const approvalUsers = userIds.length > 0 ? await tx.adminUser.findMany({ where: { id: { in: userIds } }, select: USER_SELECT }) : [];
      const entities: Prisma.AuditLogWhereInput[] = [
        { entityType: "payout", entityId: payoutId },
        { entityType: "booking", entityId: payout.bookingId },
      ];
      if (tips.length > 0) entities.push({ entityType: "tip", entityId: { in: tips.map((t) => t.id) } });
      if (disputes.length > 0) entities.push({ entityType: "dispute", entityId: { in: disputes.map((d) => d.id) } });
      const audit = await tx.auditLog.findMany({
        where: { OR: entities },
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: AUDIT_ENTRY_LIMIT + 1,
        select: {
          id: true,
          createdAt: true,
          actorType: true,
          actorId: true,
          actorLabel: true,
          action: true,
          entityType: true,
          entityId: true,
          reason: true,
          before: true,
          after: true,
        },
      });
      return { payout, tips, disputes, attempts, reversals, approvals, approvalUsers, audit, transfers, lastBankPayout };
    },
    { isolationLevel: "RepeatableRead" },
  );
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
      canApprove: isAdmin && pending && !ownRequest && expiredBecause === null,
      canReject: isAdmin && pending && !ownRequest,
      canWithdraw: isAdmin && pending && ownRequest,
      approveBlockedReason:
        isAdmin && pending
          ? ownRequest
            ? "You requested this force release; a second admin must approve it."
            : expiredBecause
          : null,
    };
  });
  const pendingApproval =
    approvalViews.find((a) => a.status === "pending" && a.action === FORCE_RELEASE_ACTION && a.expiredBecause === null) ?? null;

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
    timeline: buildTimeline({ audit, tips: tipViews, disputes: disputeViews, attempts: attemptViews, reversals: reversalViews }),
    auditTruncated,
    openDisputes,
    providerReady,
    providerReadinessUnknown,
    fourEyes: {
      thresholdMinor,
      required: needsSecondApproval(payout.amount, payout.currency, configuredThreshold),
      pendingApprovalId: pendingApproval?.id ?? null,
    },
    viewer: { id: viewer.id, role: viewer.role },
    actions: payoutActionsFor(viewer.role, {
      status: payout.status,
      holdReason: payout.holdReason,
      openDisputes,
      providerReady,
      providerReadinessUnknown,
      pendingApproval: pendingApproval ? { requestedBy: pendingApproval.requestedBy.name } : null,
      transferredPart: transfers.filter((t) => t.kind === "payout" && t.status === "succeeded").reduce((sum, t) => sum + t.payoutAmount, 0),
    }),
  };
}
