// What a charge brought the platform, as the transfer plan needs it. Pure: no I/O.
export type TFundingCharge = {
  id: string;
  /** What the customer paid, in the charge's (presentment) currency. */
  amount: number;
  currency: string;
  /** The charge's balance transaction: the currency and gross amount the platform received. */
  settlementCurrency: string;
  settledAmount: number;
  /** Stripe's balance_transaction.exchange_rate, as text; null when the charge was not converted. */
  exchangeRate: string | null;
};
