// Every audit action, in one typed list: `recordAudit` takes only these, and the payout
// timeline's titles are a map over all of them, so a new action without a title does not
// compile. Pure: no I/O, no server imports (the timeline renders in the browser).
export const AUDIT_ACTIONS = [
  // Bookings, tips and disputes, as the booking platform and Stripe report them.
  "booking.completed",
  "booking.cancelled",
  "booking.charge_learned",
  "booking.charge_refunded",
  "booking.charge_refund_failed",
  "booking.charge_refund_repriced",
  "tip.accepted",
  "tip.rejected",
  "dispute.opened",
  "dispute.resolved",
  // The payout's life: its status and amount.
  "payout.scheduled",
  "payout.held",
  "payout.released",
  "payout.force_released",
  "payout.retried",
  "payout.cancelled",
  "payout.reopened",
  "payout.cancel_reason_changed",
  "payout.amount_adjusted",
  "payout.awaiting_funds",
  "payout.currency_converted",
  "payout.failed",
  // Its transfers.
  "payout.transfer_started",
  "payout.transfer_attempt_started",
  "payout.transfer_attempt_failed",
  "payout.transfer_attempt_turned_away",
  "payout.transfer_outcome_unknown",
  "payout.transfer_rescheduled",
  "payout.transfer_made",
  "payout.transfers_replaced",
  "payout.transferred",
  "payout.top_up_requested",
  "payout.top_up_refused",
  // Reversals and repayments after a transfer.
  "payout.reversal_requested",
  "payout.reversal_failed",
  "payout.reversal_canceled",
  "payout.reversal_capped",
  "payout.reversal_deferred",
  "payout.reversed",
  "payout.reversed_externally",
  "payout.repayment_requested",
  "payout.repayment_not_needed",
  "payout.repayment_reduced",
  "payout.repaid",
  "payout.give_back_capped",
  // The provider's bank payouts that carried it.
  "payout.bank_payout_pending",
  "payout.bank_payout_in_transit",
  "payout.bank_payout_paid",
  "payout.bank_payout_failed",
  "payout.bank_payout_canceled",
  // Four-eyes force releases.
  "payout.force_release_requested",
  "payout.force_release_approved",
  "payout.force_release_rejected",
  "payout.force_release_withdrawn",
  "payout.force_release_expired",
  // Providers and their Stripe accounts.
  "provider.account_ready",
  "provider.account_not_ready",
  "provider.account_updated",
  "provider.debt_forgiven",
  "provider.debt_reduced",
  // Debt recovery from later payouts (lib/payouts/recover-debts.ts) and its closing by an admin.
  "payout.debt_recovery_reserved",
  "payout.debt_recovery_released",
  "payout.applied_to_debt",
  "provider.debt_recovered",
  "provider.debt_waived",
  "provider.debt_written_off",
  "provider.debt_closing_requested",
  "provider.debt_closing_rejected",
  "provider.debt_closing_cancelled",
  "provider.bank_payout_pending",
  "provider.bank_payout_in_transit",
  "provider.bank_payout_paid",
  "provider.bank_payout_failed",
  "provider.bank_payout_canceled",
  "stripe_account.state_kept",
  // The dashboard.
  "alert.acknowledged",
  "alert_notification.test_requested",
  "admin_user.created",
  "admin_user.updated",
  "admin_user.role_changed",
  "admin_user.disabled",
  "admin_user.enabled",
  // Four-eyes admin access (creating, promoting or enabling an admin; lib/users).
  "admin_access.requested",
  "admin_access.approved",
  "admin_access.rejected",
  "admin_access.withdrawn",
  "admin_access.expired",
  "admin_access.granted_alone",
  "webhook_event.redriven",
  // Outbound webhooks to the booking platform (lib/platform-webhooks).
  "platform_webhook.endpoint_created",
  "platform_webhook.endpoint_updated",
  "platform_webhook.secret_rotated",
  "platform_webhook.delivery_resent",
] as const;

export type TAuditAction = (typeof AUDIT_ACTIONS)[number];

const KNOWN: ReadonlySet<string> = new Set(AUDIT_ACTIONS);

export function isAuditAction(value: string): value is TAuditAction {
  return KNOWN.has(value);
}
