// The Stripe event types Payouts acts on. Every other type is stored and answered 200 as
// `ignored` (subscribe the endpoint to these only). One handler per type, in its own file.
export const RELEVANT_STRIPE_EVENTS = [
  "charge.dispute.created",
  "charge.dispute.updated",
  "charge.dispute.closed",
  "charge.refunded",
  "transfer.reversed",
  "account.updated",
] as const;

export type TRelevantStripeEvent = (typeof RELEVANT_STRIPE_EVENTS)[number];

const relevant: ReadonlySet<string> = new Set(RELEVANT_STRIPE_EVENTS);

export function isRelevantStripeEvent(type: string): type is TRelevantStripeEvent {
  return relevant.has(type);
}
