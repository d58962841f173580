const ENTITY_LABELS: Record<string, string> = {
  payout: "Payout",
  booking: "Booking",
  tip: "Tip",
  dispute: "Dispute",
  provider: "Provider",
  stripe_account: "Stripe account (no provider yet)",
  alert: "Alert",
  admin_user: "User",
  webhook_event: "Webhook delivery",
};

/** "Payout", "User", … for an audit entity type; unknown types as they are. */
export function entityTypeLabel(type: string): string {
  return ENTITY_LABELS[type] ?? type;
}
