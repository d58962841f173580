// Words for the payout timeline: audit actions as short titles, and how loud each item is.
import type { TBadgeTone } from "@/components/ui/status-badge";
import { APPROVAL_AUDIT_ACTIONS } from "@/lib/approvals/four-eyes";
import type { TTimelineItem } from "@/lib/payouts/get-payout-detail";

const AUDIT_TITLES: Record<string, string> = {
  "booking.completed": "Booking completed",
  "booking.cancelled": "Booking cancelled",
  "booking.charge_refunded": "Charge refunded",
  "payout.scheduled": "Payout scheduled",
  "payout.held": "Put on hold",
  "payout.released": "Released from hold",
  "payout.force_released": "Force released",
  "payout.retried": "Retry requested",
  "payout.cancelled": "Payout cancelled",
  "payout.amount_adjusted": "Amount adjusted",
  "payout.transfer_started": "Transfer started",
  "payout.transfer_attempt_started": "Transfer attempt started",
  "payout.transfer_attempt_failed": "Transfer attempt failed",
  "payout.transfer_rescheduled": "Transfer put back on the schedule",
  "payout.transferred": "Transferred",
  "payout.failed": "Transfer failed",
  "payout.reversed": "Transfer reversed",
  "payout.reversal_requested": "Reversal requested",
  "payout.reversal_failed": "Reversal failed",
  "payout.reversed_externally": "Transfer reversed in Stripe",
  "payout.reversal_canceled": "Reversal cancelled (its refund failed)",
  "payout.reversal_capped": "Reversal capped at what is left",
  "payout.repayment_requested": "Repayment requested (a refund failed)",
  "payout.repaid": "Repaid to the provider",
  "payout.repayment_not_needed": "Repayment not needed",
  "payout.top_up_requested": "Top-up requested (tips received before the transfer)",
  "payout.top_up_refused": "Top-up refused by Stripe",
  "payout.transfer_made": "Transfer made",
  "payout.transfers_replaced": "Unsent transfers replaced (the amount changed; Stripe had none of them)",
  "payout.transfer_attempt_turned_away": "Transfer turned away by Stripe (not counted)",
  "payout.transfer_outcome_unknown": "Transfer outcome unknown",
  "payout.awaiting_funds": "Waiting for funds",
  "payout.bank_payout_paid": "Paid out to the provider's bank",
  "payout.bank_payout_failed": "Provider's bank payout failed",
  "payout.bank_payout_canceled": "Provider's bank payout cancelled",
  "payout.bank_payout_in_transit": "Bank payout in transit",
  "payout.bank_payout_pending": "Bank payout pending",
  "booking.charge_refund_failed": "Refund failed at Stripe: given back",
  "booking.charge_refund_repriced": "Charge refund re-priced",
  "booking.charge_learned": "Charge recorded from Stripe",
  "provider.debt_forgiven": "Provider debt forgiven (its refund failed)",
  "provider.debt_reduced": "Provider debt reduced (part of its refund failed)",
  [APPROVAL_AUDIT_ACTIONS.requested]: "Force release requested, awaiting a second admin",
  [APPROVAL_AUDIT_ACTIONS.approved]: "Force release approved",
  [APPROVAL_AUDIT_ACTIONS.rejected]: "Force release rejected",
  [APPROVAL_AUDIT_ACTIONS.withdrawn]: "Force release request withdrawn",
  [APPROVAL_AUDIT_ACTIONS.expired]: "Force release request expired",
};

/** "payout.some_thing" -> "Some thing" for actions without a title. */
function humanize(action: string): string {
  const last = action.split(".").pop() ?? action;
  const words = last.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function auditTitle(action: string): string {
  return AUDIT_TITLES[action] ?? humanize(action);
}

const DANGER_ACTIONS = new Set([
  "payout.failed",
  "payout.bank_payout_failed",
  "payout.bank_payout_canceled",
  "payout.transfer_attempt_failed",
  "payout.reversal_failed",
  "payout.top_up_refused",
  "payout.cancelled",
  "booking.cancelled",
  "payout.reversed",
  APPROVAL_AUDIT_ACTIONS.rejected,
]);
const WARNING_ACTIONS = new Set([
  "payout.held",
  "payout.awaiting_funds",
  "payout.transfer_outcome_unknown",
  APPROVAL_AUDIT_ACTIONS.requested,
  APPROVAL_AUDIT_ACTIONS.expired,
  "payout.reversal_requested",
]);
const SUCCESS_ACTIONS = new Set([
  "payout.transferred",
  "payout.released",
  "payout.force_released",
  "payout.repaid",
  "payout.bank_payout_paid",
  APPROVAL_AUDIT_ACTIONS.approved,
]);

export function timelineTone(item: TTimelineItem): TBadgeTone {
  switch (item.kind) {
    case "audit":
      if (DANGER_ACTIONS.has(item.action)) return "danger";
      if (WARNING_ACTIONS.has(item.action)) return "warning";
      if (SUCCESS_ACTIONS.has(item.action)) return "success";
      return item.actor.type === "admin" ? "accent" : "neutral";
    case "tip":
      return item.tip.status === "accepted" ? "info" : "neutral";
    case "dispute_opened":
      return "warning";
    case "dispute_resolved":
      return item.dispute.outcome === "provider_won" ? "success" : "warning";
    case "transfer_attempt":
      return item.attempt.status === "succeeded" ? "success" : item.attempt.status === "failed" ? "danger" : "info";
    case "reversal":
      return item.reversal.status === "failed" ? "danger" : "warning";
  }
}
