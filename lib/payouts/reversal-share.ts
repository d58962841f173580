// What reversals take of a transfer, counted twice: in the payout's currency and in the
// transfer's own (they differ when the transfer was converted). Conversions round down both
// ways, so a transfer is never counted as having more left than it has. Pure: no I/O.
import type { PayoutTransfer, TransferReversal } from "@/generated/prisma/client";

import { mulDivFloor } from "./plan-transfers";

/** What reversals took from a transfer: in the payout's currency, and in the transfer's own. */
export type TTaken = { amount: number; transferAmount: number };

/**
 * What one reversal still counts against its transfer: all of it, or, when Stripe refused it
 * and it is owed as a debt, the debt as it stands (a failed refund may have lowered it;
 * provider.debt_reduced). In the transfer's currency, what was given back of it is rounded down.
 */
export function stillTaken(
  reversal: Pick<TransferReversal, "amount" | "transferAmount" | "status"> & { debt: { amount: number } | null },
): TTaken {
  const whole = reversal.transferAmount ?? reversal.amount;
  const amount = reversal.status === "failed" && reversal.debt ? Math.min(reversal.debt.amount, reversal.amount) : reversal.amount;
  // In the transfer's currency, what was given back of it rounded down: never counted as more left than there is.
  const transferAmount = amount === reversal.amount ? whole : whole - mulDivFloor(reversal.amount - amount, whole, reversal.amount);
  return { amount, transferAmount };
}

/**
 * Up to `wanted` (in the payout's currency) of what is left of a transfer once `already` is
 * taken, with its amount in the transfer's currency; null when nothing is left to reverse.
 */
export function shareToReverse(transfer: Pick<PayoutTransfer, "amount" | "payoutAmount">, already: TTaken, wanted: number): TTaken | null {
  const amount = Math.min(wanted, transfer.payoutAmount - already.amount);
  // Never more than is left of the transfer in its own currency (conversions round down both ways).
  const converted = transfer.amount === transfer.payoutAmount ? amount : mulDivFloor(amount, transfer.amount, transfer.payoutAmount);
  const transferAmount = Math.min(converted, transfer.amount - already.transferAmount);
  if (amount <= 0 || transferAmount <= 0) return null;
  return { amount, transferAmount };
}
