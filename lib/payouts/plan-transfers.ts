// How a payout is paid with Stripe's separate charges and transfers. Pure: no I/O.
//
// Stripe lets a transfer name the charge that funds it (`source_transaction`): the transfer is
// accepted while the charge's funds are still pending and settles with them, so a payout never
// fails for money that is only pending. Stripe's rules (docs.stripe.com, Connect "transfer
// availability"): the source must be a charge (ch_…, not a PaymentIntent); the transfers from
// one charge may not add up to more than the charge; and a transfer's currency must be the
// currency of the charge's balance transaction, i.e. the currency the platform settled it in.
//
// So a payout is paid with one transfer per charge that paid for it: the booking's charge carries
// the provider's share and the tips paid with it (or with no charge named), each separate tip
// charge carries its tips, each less what refunds and lost chargebacks on that charge took from
// the provider (refunds the booking platform reported with no charge come off the booking's
// charge first). What no known charge can carry (no charge named, or more than the charge) is a
// transfer from the platform's available balance, in the payout's currency.
//
// Currencies: a charge settled in another currency than the payout's (a EUR booking on a platform
// whose balance is in USD) is transferred in the settlement currency, the payout's part converted
// with the charge's own rate (its balance transaction's gross amount over the charge's amount,
// rounded down: a fraction of a unit stays with the platform). A transfer from the balance in a
// currency the platform does not hold cannot be made: the payout is held with that reason.
import type { TFundingCharge } from "@/lib/charges/funding-charge";
import { currencyMinorDigits, formatMoney } from "@/lib/money/format-money";
import { normalizeCurrency } from "@/lib/money/money";

/** A part of the payout and the charge that paid it (null: no charge we know). */
export type TOwedPart = { chargeId: string | null; owed: number };

export type TPlannedLeg = {
  sourceChargeId: string | null;
  /** The part of the payout this transfer carries, in the payout's currency. */
  payoutAmount: number;
  /** What is transferred, in `currency`. */
  amount: number;
  currency: string;
  exchangeRate: string | null;
};

export type TFundingPlan =
  | { kind: "plan"; legs: TPlannedLeg[] }
  /** Nothing can carry (part of) the payout in a currency the platform can transfer. */
  | { kind: "currency_unsupported"; reason: string };

export type TOwedFacts = {
  bookingChargeId: string | null;
  providerShare: number;
  /** Accepted tips joined to the payout. */
  tips: readonly { amount: number; stripeChargeId: string | null }[];
  /** What refund steps and lost chargebacks took from the provider before the transfer, per charge. */
  chargeLosses: ReadonlyMap<string, number>;
  /** Refunds the booking platform reported (its disputes), which name no charge. */
  unattributedRefunds: number;
  /** The payout's amount: the parts are reconciled to it exactly. */
  amount: number;
};

/**
 * What the provider is owed from each charge: the booking's charge first (share and the tips
 * paid with it or with no charge named), then each tip charge in the order its first tip came,
 * each less its losses; the platform's charge-less refunds come off in that order too. The parts
 * always add up to `amount` (the payout's rounding and floor at zero win).
 */
export function owedByCharge(facts: TOwedFacts): TOwedPart[] {
  const primary = facts.bookingChargeId;
  const portions = new Map<string | null, number>([[primary, facts.providerShare]]);
  for (const tip of facts.tips) {
    const key = tip.stripeChargeId ?? primary;
    portions.set(key, (portions.get(key) ?? 0) + tip.amount);
  }
  const parts: TOwedPart[] = [...portions].map(([chargeId, portion]) => {
    // A loss on a charge no part names (it matched the booking another way) comes off the booking's part.
    const loss = chargeId === null ? 0 : (facts.chargeLosses.get(chargeId) ?? 0);
    return { chargeId, owed: Math.max(0, portion - loss) };
  });
  let stray = facts.unattributedRefunds;
  for (const [chargeId, loss] of facts.chargeLosses) if (!portions.has(chargeId)) stray += loss;
  for (const part of parts) {
    const taken = Math.min(part.owed, stray);
    part.owed -= taken;
    stray -= taken;
  }
  // Reconcile to the payout's amount (it is share + tips − refunds, floored at zero).
  let difference = facts.amount - parts.reduce((sum, p) => sum + p.owed, 0);
  if (difference > 0) parts[0]!.owed += difference;
  for (let i = parts.length - 1; i >= 0 && difference < 0; i--) {
    const part = parts[i]!;
    const taken = Math.min(part.owed, -difference);
    part.owed -= taken;
    difference += taken;
  }
  return parts.filter((p) => p.owed > 0);
}

export type TPlanFacts = {
  payoutCurrency: string;
  /** What is still to be transferred, in the payout's currency (the amount less transfers kept from earlier plans). */
  remaining: number;
  owed: readonly TOwedPart[];
  /** Charges Stripe described to us; a part whose charge is missing here is paid from the balance. */
  charges: ReadonlyMap<string, TFundingCharge>;
  /** What this payout's earlier transfers already took from each charge, in its settlement currency. */
  transferredFrom: ReadonlyMap<string, number>;
  /** What earlier transfers kept in the plan already paid of each part (payout currency). */
  paidFrom: ReadonlyMap<string | null, number>;
  /** The currencies the platform's Stripe balance holds; null when unknown (the transfer is tried). */
  platformCurrencies: readonly string[] | null;
};

/** x × numerator / denominator, rounded down, without losing precision on large amounts. */
export function mulDivFloor(x: number, numerator: number, denominator: number): number {
  if (denominator <= 0) throw new RangeError("denominator must be positive");
  return Number((BigInt(x) * BigInt(numerator)) / BigInt(denominator));
}

/** The transfers that pay `remaining`, in order (see the top of this file). */
export function planTransfers(facts: TPlanFacts): TFundingPlan {
  const payoutCurrency = normalizeCurrency(facts.payoutCurrency);
  const legs: TPlannedLeg[] = [];
  let remaining = facts.remaining;
  let fromBalance = 0;

  for (const part of facts.owed) {
    if (remaining <= 0) break;
    const want = Math.min(remaining, Math.max(0, part.owed - (facts.paidFrom.get(part.chargeId) ?? 0)));
    if (want === 0) continue;
    remaining -= want;
    const charge = part.chargeId === null ? undefined : facts.charges.get(part.chargeId);
    if (!charge || normalizeCurrency(charge.currency) !== payoutCurrency || charge.amount <= 0 || charge.settledAmount <= 0) {
      fromBalance += want;
      continue;
    }
    const settlement = normalizeCurrency(charge.settlementCurrency);
    const converted = settlement !== payoutCurrency;
    // Stripe's cap: the charge's amount (in its settlement currency) less what was already transferred from it.
    const capSettled = Math.max(0, charge.settledAmount - (facts.transferredFrom.get(charge.id) ?? 0));
    const capPayout = converted ? mulDivFloor(capSettled, charge.amount, charge.settledAmount) : capSettled;
    const carried = Math.min(want, capPayout);
    const amount = converted ? mulDivFloor(carried, charge.settledAmount, charge.amount) : carried;
    if (amount > 0) {
      legs.push({
        sourceChargeId: charge.id,
        payoutAmount: carried,
        amount,
        currency: settlement,
        exchangeRate: converted ? (charge.exchangeRate ?? rateOf(charge)) : null,
      });
      fromBalance += want - carried;
    } else {
      fromBalance += want;
    }
  }
  fromBalance += remaining;

  if (fromBalance > 0) {
    if (facts.platformCurrencies && !facts.platformCurrencies.map(normalizeCurrency).includes(payoutCurrency)) {
      return {
        kind: "currency_unsupported",
        reason:
          `${formatMoney(fromBalance, payoutCurrency)} of this payout is not paid with a charge Stripe converts, and the platform's ` +
          `Stripe balance holds no ${payoutCurrency} (it holds ${facts.platformCurrencies.map(normalizeCurrency).join(", ") || "nothing"}).`,
      };
    }
    legs.push({ sourceChargeId: null, payoutAmount: fromBalance, amount: fromBalance, currency: payoutCurrency, exchangeRate: null });
  }
  return { kind: "plan", legs };
}

/** Settlement units per presentment unit (as Stripe states exchange_rate), from the amounts in minor units. */
function rateOf(charge: TFundingCharge): string {
  const scale = 10 ** (currencyMinorDigits(charge.currency) - currencyMinorDigits(charge.settlementCurrency));
  return Number(((charge.settledAmount / charge.amount) * scale).toPrecision(10)).toString();
}
