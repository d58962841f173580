// Money rules. Amounts are integers in the currency's minor unit (cents; yen have none),
// always with an ISO 4217 code beside them. Nothing here converts or rounds: a JPY
// amount of 5000 is 5000 yen everywhere, as Stripe expects. Pure: no I/O.
import { ValidationError } from "@/lib/errors";

/** Currencies Stripe treats as zero-decimal: the amount is in whole units. */
export const ZERO_DECIMAL_CURRENCIES: ReadonlySet<string> = new Set([
  "BIF",
  "CLP",
  "DJF",
  "GNF",
  "JPY",
  "KMF",
  "KRW",
  "MGA",
  "PYG",
  "RWF",
  "UGX",
  "VND",
  "VUV",
  "XAF",
  "XOF",
  "XPF",
]);

/** Largest amount one payout may carry (Postgres integer), ≈ 21 million in a 2-decimal currency. */
export const MAX_AMOUNT_MINOR = 2_147_483_647;

export function isZeroDecimal(currency: string): boolean {
  return ZERO_DECIMAL_CURRENCIES.has(currency.toUpperCase());
}

export function normalizeCurrency(currency: string): string {
  const code = currency.trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(code)) throw new ValidationError(`"${currency}" is not an ISO 4217 currency code.`);
  return code;
}

/** Throws unless `amount` is a non-negative integer number of minor units within range. */
export function assertMinorUnits(amount: number, what = "amount"): number {
  if (!Number.isInteger(amount)) throw new ValidationError(`${what} must be an integer number of minor units, got ${amount}.`);
  if (amount < 0) throw new ValidationError(`${what} must not be negative, got ${amount}.`);
  if (amount > MAX_AMOUNT_MINOR) throw new ValidationError(`${what} is too large (${amount} > ${MAX_AMOUNT_MINOR}).`);
  return amount;
}

export type TPayoutParts = { providerShare: number; tipAmount: number; refundedAmount: number };

/** amount = providerShare + tips - refunded, never below zero. */
export function payoutAmount({ providerShare, tipAmount, refundedAmount }: TPayoutParts): number {
  assertMinorUnits(providerShare, "providerShare");
  assertMinorUnits(tipAmount, "tipAmount");
  assertMinorUnits(refundedAmount, "refundedAmount");
  return Math.max(0, providerShare + tipAmount - refundedAmount);
}

/**
 * What is transferred: the payout's amount (share + tips − refunded, never below zero) less what
 * is kept for the provider's debts (`debtRecovered`, never more than that amount: a recovery
 * is reserved from what the payout carries, so a larger one is a bug, not a rounding).
 */
export function netPayoutAmount(parts: TPayoutParts, debtRecovered: number): number {
  assertMinorUnits(debtRecovered, "debtRecovered");
  const gross = payoutAmount(parts);
  if (debtRecovered > gross) throw new ValidationError(`debtRecovered (${debtRecovered}) is more than the payout carries (${gross}).`);
  return gross - debtRecovered;
}

/**
 * What the provider gets back when what is taken off the payout falls by `stepDown` (a refund
 * failed): the payout's amount with the losses after the fall, less its amount with the losses
 * before. `parts.refundedAmount` is everything that takes from the payout after the fall (Stripe
 * refunds and lost chargebacks, and the booking platform's dispute refunds), counted in full even
 * when together they exceed share + tips. Since the amount never goes below zero, losses beyond
 * share + tips were never taken, so a fall within them gives nothing back: a failed refund returns
 * only what it really took, never a part another refund (or the platform's dispute) still takes.
 */
export function refundGivenBack(parts: TPayoutParts, stepDown: number): number {
  assertMinorUnits(stepDown, "stepDown");
  return payoutAmount(parts) - payoutAmount({ ...parts, refundedAmount: parts.refundedAmount + stepDown });
}

/**
 * What a new loss takes from the provider (a refund or a lost dispute after the transfer): the
 * payout's amount with the losses before it less its amount with them after, `parts.refundedAmount`
 * being every loss before it, counted in full. The mirror of refundGivenBack: the part of the loss
 * beyond share + tips (the losses together exceed them) was never paid, so it is never taken,
 * whatever is left at Stripe. A loss counts in full from then on, taken or not, so a refund behind
 * an earlier loss that later fails gives back only what that refund took.
 */
export function lossTaken(parts: TPayoutParts, loss: number): number {
  assertMinorUnits(loss, "loss");
  return payoutAmount(parts) - payoutAmount({ ...parts, refundedAmount: parts.refundedAmount + loss });
}
