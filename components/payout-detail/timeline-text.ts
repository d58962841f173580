// Words for the payout timeline: audit actions as short titles, and how loud each item is.
import type { TBadgeTone } from "@/components/ui/status-badge";
import { isAuditAction, type TAuditAction } from "@/lib/audit/audit-actions";
import { APPROVAL_AUDIT_ACTIONS } from "@/lib/payouts/four-eyes";
import type { TTimelineItem } from "@/lib/payouts/payout-detail-types";

const AUDIT_TITLES: Record<TAuditAction, string> = {
  "booking.completed": "Booking completed",
  "booking.cancelled": "Booking cancelled",
  "booking.charge_learned": "Charge recorded from Stripe",
  "booking.charge_refunded": "Charge refunded",
  "booking.charge_refund_failed": "Refund failed at Stripe: given back",
  "booking.charge_refund_repriced": "Charge refund re-priced",
  "tip.accepted": "Tip added",
  "tip.rejected": "Tip not added",
  "dispute.opened": "Dispute opened",
  "dispute.resolved": "Dispute resolved",
  "payout.scheduled": "Payout scheduled",
  "payout.held": "Put on hold",
  "payout.released": "Released from hold",
  "payout.force_released": "Force released",
  "payout.retried": "Retry requested",
  "payout.cancelled": "Payout cancelled",
  "payout.reopened": "Payout reopened (refunds no longer take all of it)",
  "payout.cancel_reason_changed": "Cancelled now because the booking was cancelled",
  "payout.amount_adjusted": "Amount adjusted",
  "payout.awaiting_funds": "Waiting for funds",
  "payout.currency_converted": "Converted to the settlement currency",
  "payout.failed": "Transfer failed",
  "payout.transfer_started": "Transfer started",
  "payout.transfer_attempt_started": "Transfer attempt started",
  "payout.transfer_attempt_failed": "Transfer attempt failed",
  "payout.transfer_attempt_turned_away": "Transfer turned away by Stripe (not counted)",
  "payout.transfer_outcome_unknown": "Transfer outcome unknown",
  "payout.transfer_rescheduled": "Transfer put back on the schedule",
  "payout.transfer_made": "Transfer made",
  "payout.transfers_replaced": "Unsent transfers replaced (the amount changed; Stripe had none of them)",
  "payout.transferred": "Transferred",
  "payout.top_up_requested": "Top-up requested (tips received before the transfer)",
  "payout.top_up_refused": "Top-up refused by Stripe",
  "payout.reversal_requested": "Reversal requested",
  "payout.reversal_failed": "Reversal failed",
  "payout.reversal_canceled": "Reversal cancelled (its refund failed)",
  "payout.reversal_capped": "Reversal capped: part of the loss was never paid",
  "payout.reversal_deferred": "Part of a reversal kept from money on its way to the provider",
  "payout.reversed": "Transfer reversed",
  "payout.reversed_externally": "Transfer reversed in Stripe",
  "payout.repayment_requested": "Repayment requested (a refund failed)",
  "payout.repayment_not_needed": "Repayment not needed",
  "payout.repayment_reduced": "Repayment reduced to what the provider is owed",
  "payout.repaid": "Repaid to the provider",
  "payout.give_back_capped": "Give-back limited to what the failed refund took",
  "payout.bank_payout_pending": "Bank payout pending",
  "payout.bank_payout_in_transit": "Bank payout in transit",
  "payout.bank_payout_paid": "Paid out to the provider's bank",
  "payout.bank_payout_failed": "Provider's bank payout failed",
  "payout.bank_payout_canceled": "Provider's bank payout cancelled",
  "payout.force_release_requested": "Force release requested, awaiting a second admin",
  "payout.force_release_approved": "Force release approved",
  "payout.force_release_rejected": "Force release rejected",
  "payout.force_release_withdrawn": "Force release request withdrawn",
  "payout.force_release_expired": "Force release request expired",
  "provider.account_ready": "Provider's Stripe account ready",
  "provider.account_not_ready": "Provider's Stripe account not ready",
  "provider.account_updated": "Provider's Stripe account updated",
  "provider.debt_forgiven": "Provider debt forgiven (its refund failed)",
  "provider.debt_reduced": "Provider debt reduced (part of its refund failed)",
  "payout.debt_recovery_reserved": "Debt recovery reserved from this payout",
  "payout.debt_recovery_released": "Debt recovery released (the transfer was not made)",
  "payout.applied_to_debt": "Payout applied to the provider's debt",
  "provider.debt_recovered": "Provider debt recovered from a payout",
  "provider.debt_waived": "Provider debt waived",
  "provider.debt_written_off": "Provider debt written off",
  "provider.debt_closing_requested": "Debt waive / write-off requested (needs a second admin)",
  "provider.debt_closing_rejected": "Debt waive / write-off request rejected",
  "provider.debt_closing_cancelled": "Debt waive / write-off request cancelled (the debt changed since)",
  "provider.bank_payout_pending": "Bank payout pending",
  "provider.bank_payout_in_transit": "Bank payout in transit",
  "provider.bank_payout_paid": "Paid out to the provider's bank",
  "provider.bank_payout_failed": "Provider's bank payout failed",
  "provider.bank_payout_canceled": "Provider's bank payout cancelled",
  "stripe_account.state_kept": "Stripe account state kept for its provider",
  "alert.acknowledged": "Alert acknowledged",
  "alert_notification.test_requested": "Test alert message requested",
  "admin_user.created": "Dashboard user created",
  "admin_user.updated": "Dashboard user updated",
  "admin_user.role_changed": "Dashboard user's role changed",
  "admin_user.disabled": "Dashboard user disabled",
  "admin_user.enabled": "Dashboard user enabled",
  "admin_access.requested": "Admin access requested, awaiting a second admin",
  "admin_access.approved": "Admin access approved",
  "admin_access.rejected": "Admin access request rejected",
  "admin_access.withdrawn": "Admin access request withdrawn",
  "admin_access.expired": "Admin access request expired",
  "admin_access.granted_alone": "Admin access granted by the only admin",
  "webhook_event.redriven": "Webhook delivery re-applied",
  "platform_webhook.endpoint_created": "Platform webhook endpoint added",
  "platform_webhook.endpoint_updated": "Platform webhook endpoint changed",
  "platform_webhook.secret_rotated": "Platform webhook secret rotated",
  "platform_webhook.delivery_resent": "Platform webhook re-sent",
};

/** "payout.some_thing" -> "Some thing": for an action stored by an older version and since renamed. */
function humanize(action: string): string {
  const last = action.split(".").pop() ?? action;
  const words = last.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function auditTitle(action: string): string {
  return isAuditAction(action) ? AUDIT_TITLES[action] : humanize(action);
}

const DANGER_ACTIONS: ReadonlySet<string> = new Set<TAuditAction>([
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
const WARNING_ACTIONS: ReadonlySet<string> = new Set<TAuditAction>([
  "payout.held",
  "payout.awaiting_funds",
  "payout.transfer_outcome_unknown",
  APPROVAL_AUDIT_ACTIONS.requested,
  APPROVAL_AUDIT_ACTIONS.expired,
  "payout.reversal_requested",
]);
const SUCCESS_ACTIONS: ReadonlySet<string> = new Set<TAuditAction>([
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
