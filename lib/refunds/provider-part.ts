// How much of money given back to a customer falls on the provider. Pure: no I/O.
//
// Refunds are proportional. A refund gives back part of the price, and the price was split
// between the provider (their share, plus any tips paid with the same charge) and the
// platform (its commission): both give back the same fraction of what they got. This is
// also how Stripe itself splits a refund with `reverse_transfer` on a destination charge.
//   provider's part of all refunds so far = floor(refundedTotal × providerPortion / chargeAmount)
// It is computed on what is refunded on the charge in all, never summed per refund, so a
// series of partial refunds rounds once: the provider's total never drifts from the
// proportion, and a full refund is exactly the provider's portion. Rounding down means any
// fraction of a minor unit stays with the platform (at most one unit per charge), never
// taken from the provider.
//
// Chargebacks fall on the provider first. A lost dispute means the bank took the disputed
// amount back from the platform; it falls on the provider up to what the provider still has
// from that charge (their portion minus refunds already borne), and only the excess is the
// platform's loss (as is Stripe's dispute fee, which is never passed on). For a full
// chargeback, the usual case, this equals the proportional rule (the provider loses their
// whole portion); for a partial one it treats the disputed part as the provider's service
// not delivered. It needs nothing but the dispute (Stripe's dispute payload does not carry
// the charge's amount, so a proportional rule would need an API call per dispute).
//
// Together, refunds and lost chargebacks on one charge never take more than the provider's
// portion of it, and what they take does not depend on the order Stripe's events arrive in:
//   provider's loss on the charge = min(portion, their part of the refunds + the disputed amounts)
// (providerLossOnCharge). A chargeback takes what refunds left (above); every other change of
// the facts (a refund, a refund that failed, a tip enlarging the portion) moves the loss to this
// total with one step (lib/refunds/charge-losses.ts), so every order ends at the same total.
import { ValidationError } from "@/lib/errors";
import { assertMinorUnits } from "@/lib/money/money";

export type TRefundShareInput = {
  /** What the customer paid on the charge, minor units (> 0). */
  chargeAmount: number;
  /** The part of the charge that was the provider's (share and/or tips paid with it). */
  providerPortion: number;
  /** Stripe's cumulative refunded amount on the charge. */
  refundedTotal: number;
};

/** The provider's part of all refunds on a charge so far (rounded down, never above their portion). */
export function providerPartOfRefunds({ chargeAmount, providerPortion, refundedTotal }: TRefundShareInput): number {
  assertMinorUnits(chargeAmount, "chargeAmount");
  assertMinorUnits(providerPortion, "providerPortion");
  assertMinorUnits(refundedTotal, "refundedTotal");
  if (chargeAmount === 0) throw new ValidationError("A charge of 0 has nothing to refund.");
  if (refundedTotal > chargeAmount) {
    throw new ValidationError(`The refunded total (${refundedTotal}) is more than the charge (${chargeAmount}).`);
  }
  // BigInt: the product of two 32-bit amounts can exceed 2^53.
  const part = Number((BigInt(refundedTotal) * BigInt(providerPortion)) / BigInt(chargeAmount));
  return Math.min(part, providerPortion);
}

export type TChargebackShareInput = {
  /** Stripe's dispute.amount: what the bank took back. */
  disputedAmount: number;
  /** The part of the disputed charge that was the provider's. */
  providerPortion: number;
  /** What the provider already bears for that charge (their part of refunds on it). */
  alreadyBorne: number;
};

/** The provider's part of a lost chargeback: the disputed amount, up to what they still have from the charge. */
export function providerPartOfChargeback({ disputedAmount, providerPortion, alreadyBorne }: TChargebackShareInput): number {
  assertMinorUnits(disputedAmount, "disputedAmount");
  assertMinorUnits(providerPortion, "providerPortion");
  assertMinorUnits(alreadyBorne, "alreadyBorne");
  return Math.min(disputedAmount, Math.max(0, providerPortion - alreadyBorne));
}

export type TChargeLossInput = {
  /** What the customer paid on the charge (> 0 when anything is refunded). */
  chargeAmount: number;
  /** The part of the charge that was the provider's. */
  providerPortion: number;
  /** What Stripe reports refunded on the charge now (failed and cancelled refunds left out). */
  refundedTotal: number;
  /** The sum of Stripe's disputed amounts of the lost chargebacks on the charge. */
  disputed: number;
};

/**
 * What refunds and lost chargebacks on one charge take from the provider in all, whatever the
 * order their events arrived in: their proportional part of the refunds plus the chargebacks,
 * never more than their portion of the charge. Every change of a fact (a refund, a refund that
 * failed, a chargeback lost, a tip enlarging the portion) moves the provider's loss to this.
 */
export function providerLossOnCharge({ chargeAmount, providerPortion, refundedTotal, disputed }: TChargeLossInput): number {
  assertMinorUnits(disputed, "disputed");
  const refunds = refundedTotal === 0 ? 0 : providerPartOfRefunds({ chargeAmount, providerPortion, refundedTotal });
  return Math.min(providerPortion, refunds + disputed);
}
