// The Stripe event types Payouts acts on. Every other type is stored and answered 200 as
// `ignored` (subscribe the endpoints to these only; docs/webhooks.md). One handler per type.
/** Events about the platform's own objects (the account endpoint). */
export const PLATFORM_STRIPE_EVENTS = [
  "charge.dispute.created",
  "charge.dispute.updated",
  "charge.dispute.closed",
  "charge.refunded",
  "charge.refund.updated",
  "refund.created",
  "refund.updated",
  "refund.failed",
  "transfer.reversed",
] as const;

/** Events about the providers' connected accounts (the Connect endpoint; they carry `account`). */
export const CONNECT_STRIPE_EVENTS = ["account.updated", "payout.paid", "payout.failed", "payout.canceled"] as const;

export const RELEVANT_STRIPE_EVENTS = [...PLATFORM_STRIPE_EVENTS, ...CONNECT_STRIPE_EVENTS] as const;

export type TRelevantStripeEvent = (typeof RELEVANT_STRIPE_EVENTS)[number];

const relevant: ReadonlySet<string> = new Set(RELEVANT_STRIPE_EVENTS);
const connect: ReadonlySet<string> = new Set(CONNECT_STRIPE_EVENTS);

export function isRelevantStripeEvent(type: string): type is TRelevantStripeEvent {
  return relevant.has(type);
}

/** Whether the type is about a connected account's objects (and so is expected with `account`). */
export function isConnectStripeEvent(type: string): boolean {
  return connect.has(type);
}
