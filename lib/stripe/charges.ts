import "server-only";

import type Stripe from "stripe";

import { normalizeCurrency } from "@/lib/money/money";

/** What the engine needs to know of a charge to fund a transfer with it (lib/payouts/plan-transfers.ts). */
export type TChargeFunding = {
  id: string;
  paymentIntentId: string | null;
  amount: number;
  currency: string;
  settlementCurrency: string;
  settledAmount: number;
  exchangeRate: string | null;
  balanceTransactionId: string | null;
  /** When the charge's funds become available in the platform's balance; null when Stripe did not say. */
  availableOn: Date | null;
  metadataBookingId: string | null;
  transferGroup: string | null;
};

function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === "string" ? value : value.id;
}

/** The charge as a funding source: its balance transaction tells the settlement currency, amount and availability. */
export async function retrieveChargeFunding(stripe: Stripe, chargeId: string): Promise<TChargeFunding> {
  const charge = await stripe.charges.retrieve(chargeId, { expand: ["balance_transaction"] });
  return chargeFundingOf(charge);
}

export function chargeFundingOf(charge: Stripe.Charge): TChargeFunding {
  const bt = typeof charge.balance_transaction === "object" && charge.balance_transaction !== null ? charge.balance_transaction : null;
  const currency = normalizeCurrency(charge.currency);
  // Captured is what the customer paid; a charge never captured moved no money.
  const amount = charge.amount_captured > 0 ? charge.amount_captured : charge.amount;
  const bookingId = charge.metadata?.bookingId;
  return {
    id: charge.id,
    paymentIntentId: idOf(charge.payment_intent),
    amount,
    currency,
    settlementCurrency: bt ? normalizeCurrency(bt.currency) : currency,
    settledAmount: bt ? bt.amount : amount,
    exchangeRate: bt?.exchange_rate != null ? String(bt.exchange_rate) : null,
    balanceTransactionId: bt ? bt.id : idOf(charge.balance_transaction),
    availableOn: bt ? new Date(bt.available_on * 1000) : null,
    metadataBookingId: typeof bookingId === "string" && bookingId.trim() !== "" && bookingId.length <= 191 ? bookingId.trim() : null,
    transferGroup: charge.transfer_group ?? null,
  };
}

/** The charge a PaymentIntent was paid with (latest_charge), or null while it has none. */
export async function latestChargeOf(stripe: Stripe, paymentIntentId: string): Promise<string | null> {
  const intent = await stripe.paymentIntents.retrieve(paymentIntentId);
  return idOf(intent.latest_charge);
}

/** Every refund of a charge, as Stripe has them now (all pages). */
export async function listChargeRefunds(stripe: Stripe, chargeId: string): Promise<Stripe.Refund[]> {
  const refunds: Stripe.Refund[] = [];
  for await (const refund of stripe.refunds.list({ charge: chargeId, limit: 100 })) refunds.push(refund);
  return refunds;
}

/** The currencies the platform's Stripe balance holds (available or pending). */
export async function retrieveBalanceCurrencies(stripe: Stripe): Promise<string[]> {
  const balance = await stripe.balance.retrieve();
  const currencies = new Set([...balance.available, ...balance.pending].map((b) => normalizeCurrency(b.currency)));
  return [...currencies].sort();
}
