// Human labels for enum values shown in the dashboard.
import type {
  ActorType,
  AlertSeverity,
  DisputeOutcome,
  DisputeScope,
  DisputeStatus,
  HoldReason,
  PayoutStatus,
} from "@/generated/prisma/enums";

export const PAYOUT_STATUS_LABELS: Record<PayoutStatus, string> = {
  scheduled: "Scheduled",
  on_hold: "On hold",
  processing: "Processing",
  transferred: "Transferred",
  partially_reversed: "Partially reversed",
  reversed: "Reversed",
  failed: "Failed",
  cancelled: "Cancelled",
  applied_to_debt: "Applied to debt",
};

export const HOLD_REASON_LABELS: Record<HoldReason, string> = {
  dispute_open: "Open dispute",
  admin_hold: "Held by an admin",
  provider_account_not_ready: "Provider account not ready",
  awaiting_funds: "Waiting for funds",
  currency_unsupported: "Currency not transferable",
  review_required: "Needs review",
};

export const DISPUTE_STATUS_LABELS: Record<DisputeStatus, string> = { open: "Open", resolved: "Resolved" };

export const DISPUTE_OUTCOME_LABELS: Record<DisputeOutcome, string> = {
  provider_won: "Provider won",
  customer_won: "Customer won",
  partial: "Partial refund",
};

export const DISPUTE_SCOPE_LABELS: Record<DisputeScope, string> = {
  booking: "Booking",
  tip: "Tip",
  both: "Booking and tip",
};

export const ALERT_SEVERITY_LABELS: Record<AlertSeverity, string> = {
  info: "Info",
  warning: "Warning",
  critical: "Critical",
};

export const ACTOR_TYPE_LABELS: Record<ActorType, string> = { system: "System", webhook: "Webhook", admin: "Admin" };
