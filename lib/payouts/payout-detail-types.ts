// The payout detail's shape: what the page, the JSON API and the browser cache share (dates as
// ISO strings). Types only; lib/payouts/get-payout-detail.ts reads it.
import type {
  ActorType,
  ApprovalStatus,
  BankPayoutStatus,
  DisputeOutcome,
  DisputeScope,
  DisputeStatus,
  HoldReason,
  PayoutStatus,
  PayoutTransferKind,
  PayoutTransferStatus,
  ReversalInitiator,
  ReversalStatus,
  TipStatus,
  TransferAttemptStatus,
} from "@/generated/prisma/enums";
import type { TRole } from "@/lib/auth/roles";
import type { TProviderListItem } from "@/lib/providers/list-providers";

import type { TApprovedRelease, TPayoutActionState } from "./payout-actions";

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
  /** What was kept for the provider's debts (reserved at the claim, applied with the transfer): the amount is net of it. */
  debtRecoveredAmount: number;
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

export type TDebtView = {
  id: string;
  amount: number;
  currency: string;
  /** What recoveries from the provider's later payouts took (reserved or applied). */
  recoveredAmount: number;
  /** amount − recoveredAmount. */
  left: number;
  status: "open" | "settled" | "written_off" | "waived";
  reason: string;
  closedReason: string | null;
  createdAt: string;
  /** A waive or write-off at or above the four-eyes threshold waiting for a second admin. */
  pendingClosing: {
    id: string;
    closing: "waive" | "write_off";
    amount: number;
    reason: string;
    requestedBy: string;
    createdAt: string;
  } | null;
  /** The viewer (an admin) may waive or write it off now. */
  canClose: boolean;
  /** The viewer (an admin who did not request it) may approve the pending request; the server checks independence. */
  canApprove: boolean;
  /** A waive or write-off of this much or more (minor units of the debt's currency) needs a second admin. */
  fourEyesThresholdMinor: number;
};

export type TPayoutDetail = {
  generatedAt: string;
  payout: TPayoutView;
  /** The provider's fields as the Providers list shows them. */
  provider: Pick<TProviderListItem, "id" | "externalId" | "name" | "email" | "stripeAccountId" | "payoutsEnabled" | "accountUpdatedAt"> & {
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
  /** The debts this payout's refused reversals made, oldest first: what recoveries took and what is left. */
  debts: TDebtView[];
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
    /** A force release a second admin approved and that was run, its transfer not tried yet: waiting for the workflow engine. */
    approvedRelease: TApprovedRelease | null;
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
