// Which admin actions exist on a payout, which role each needs, and whether each is allowed
// right now — and if not, why, in words an operator can act on. The state machine decides
// what a status allows; the facts (open disputes, the provider's Stripe account, a pending
// four-eyes request) decide the rest. The dashboard shows disallowed actions disabled with
// this reason; the services enforce the same rules when the action runs. Pure: no I/O.
import type { HoldReason, PayoutStatus } from "@/generated/prisma/enums";
import { hasRole, type TRole } from "@/lib/auth/roles";
import { providerReadiness } from "@/lib/providers/account-readiness";

import { canTransition, type TPayoutEvent } from "./state-machine";

export const PAYOUT_ACTIONS = ["hold", "release", "retry", "force_release", "cancel"] as const;

export type TPayoutAction = (typeof PAYOUT_ACTIONS)[number];

/** The least role that may run each action. */
export const PAYOUT_ACTION_ROLES: Record<TPayoutAction, TRole> = {
  hold: "operator",
  release: "operator",
  retry: "operator",
  force_release: "admin",
  cancel: "admin",
};

export const PAYOUT_ACTION_LABELS: Record<TPayoutAction, string> = {
  hold: "Hold",
  release: "Release",
  retry: "Retry",
  force_release: "Force release",
  cancel: "Cancel payout",
};

/** Each action is one state-machine event. */
export const ACTION_EVENTS: Record<TPayoutAction, TPayoutEvent> = {
  hold: "hold",
  release: "release",
  retry: "retry",
  force_release: "force_release",
  cancel: "cancel",
};

export type TPayoutActionFacts = {
  status: PayoutStatus;
  holdReason: HoldReason | null;
  /** Open disputes on the payout's booking. */
  openDisputes: number;
  /** The provider has a Stripe account that can receive payouts. */
  providerReady: boolean;
  /**
   * Stripe never said whether the provider's account can receive payouts (a new provider): a
   * force release asks Stripe when it runs instead of refusing on the "not ready" default.
   */
  providerReadinessUnknown?: boolean;
  /** A force release of this payout waiting for a second admin (still matching the payout). */
  pendingApproval: { requestedBy: string } | null;
  /**
   * A force release a second admin approved, run, and still waiting for its transfer (see
   * approvedReleaseWaiting): releasing it again would change nothing.
   */
  approvedRelease?: TApprovedRelease | null;
  /** Part of the payout already transferred (one of its several transfers went through), in minor units. */
  transferredPart?: number;
};

/** The provider's part of the facts, from its record: the one reading the button, the action and the approval share. */
export function providerActionFacts(
  provider: Parameters<typeof providerReadiness>[0],
): Pick<TPayoutActionFacts, "providerReady" | "providerReadinessUnknown"> {
  const readiness = providerReadiness(provider);
  return { providerReady: readiness === "ready", providerReadinessUnknown: readiness === "unknown" };
}

/** An approved four-eyes force release whose transfer has not run yet: who approved it, and when (ISO). */
export type TApprovedRelease = { approvedBy: string; approvedAt: string };

/**
 * The approved force release still waiting for the transfer to run, or null: the newest force
 * release request of the payout was approved, the payout is still scheduled, and no transfer was
 * tried since the approval (the workflow engine has not run it yet).
 */
export function approvedReleaseWaiting(
  status: PayoutStatus,
  newestRequest: { status: string; decidedAt: Date | null; approvedBy: string } | null,
  lastAttemptStartedAt: Date | null,
): TApprovedRelease | null {
  if (status !== "scheduled" || !newestRequest || newestRequest.status !== "approved" || !newestRequest.decidedAt) return null;
  if (lastAttemptStartedAt && lastAttemptStartedAt >= newestRequest.decidedAt) return null;
  return { approvedBy: newestRequest.approvedBy, approvedAt: newestRequest.decidedAt.toISOString() };
}

export type TPayoutActionState = {
  action: TPayoutAction;
  label: string;
  requiredRole: TRole;
  allowed: boolean;
  /** Why the action is not allowed now; null when it is. */
  disabledReason: string | null;
};

/** Why a status allows none of the admin actions, or null when it allows some. */
function settledReason(status: PayoutStatus): string | null {
  switch (status) {
    case "processing":
      return "The transfer is in progress; wait until it settles.";
    case "transferred":
    case "partially_reversed":
    case "reversed":
      return "The money has already been transferred.";
    case "cancelled":
      return "The payout is cancelled.";
    case "applied_to_debt":
      return "The payout was applied to the provider's debt.";
    default:
      return null;
  }
}

/** Why `action` does not apply to a payout in `status` (the state machine said no). */
function wrongStatusReason(action: TPayoutAction, status: PayoutStatus): string {
  const settled = settledReason(status);
  if (settled) return settled;
  switch (action) {
    case "hold":
      return status === "on_hold"
        ? "The payout is already on hold."
        : "A failed payout is not being transferred; retry or cancel it instead.";
    case "release":
      return status === "failed" ? "A failed payout is not on hold; retry it instead." : "The payout is not on hold.";
    case "retry":
      return "Only a failed payout can be retried.";
    case "force_release":
      return "A failed payout is retried, not force released.";
    case "cancel":
      return "This payout can no longer be cancelled.";
  }
}

/** Whether `action` may run on a payout with these facts, and why not. Role is not considered. */
export function evaluatePayoutAction(
  action: TPayoutAction,
  facts: TPayoutActionFacts,
): { allowed: true } | { allowed: false; reason: string } {
  if (!canTransition(facts.status, ACTION_EVENTS[action])) return { allowed: false, reason: wrongStatusReason(action, facts.status) };
  if (action === "release") {
    if (facts.openDisputes > 0) {
      return {
        allowed: false,
        reason:
          facts.holdReason === "dispute_open"
            ? "Held for an open dispute; it is released when the dispute is resolved."
            : "A dispute on this booking is open; it is released when the dispute is resolved.",
      };
    }
    if (facts.holdReason === "provider_account_not_ready" && !facts.providerReady) {
      return { allowed: false, reason: "The provider's Stripe account still cannot receive payouts." };
    }
  }
  if (action === "force_release") {
    if (facts.openDisputes > 0) return { allowed: false, reason: "A dispute on this booking is open; resolve it first." };
    if (!facts.providerReady && !facts.providerReadinessUnknown)
      return { allowed: false, reason: "The provider's Stripe account cannot receive payouts." };
    if (facts.approvedRelease) {
      return {
        allowed: false,
        reason: `A force release was already approved by ${facts.approvedRelease.approvedBy}; it is waiting for the transfer to run.`,
      };
    }
    if (facts.pendingApproval) {
      return { allowed: false, reason: `Already awaiting a second admin's approval (requested by ${facts.pendingApproval.requestedBy}).` };
    }
  }
  if (action === "cancel" && (facts.transferredPart ?? 0) > 0) {
    return { allowed: false, reason: "Part of this payout was already transferred; it can be retried, not cancelled." };
  }
  return { allowed: true };
}

/** The error text when an action is refused: "Cannot release: a dispute on this booking is open; …". */
export function refusalMessage(action: TPayoutAction, reason: string): string {
  return `Cannot ${PAYOUT_ACTION_LABELS[action].toLowerCase()}: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`;
}

/** The actions `role` may run, each with whether it is allowed now and why not. */
export function payoutActionsFor(role: TRole, facts: TPayoutActionFacts): TPayoutActionState[] {
  return PAYOUT_ACTIONS.filter((action) => hasRole(role, PAYOUT_ACTION_ROLES[action])).map((action) => {
    const verdict = evaluatePayoutAction(action, facts);
    return {
      action,
      label: PAYOUT_ACTION_LABELS[action],
      requiredRole: PAYOUT_ACTION_ROLES[action],
      allowed: verdict.allowed,
      disabledReason: verdict.allowed ? null : verdict.reason,
    };
  });
}
