import type { Payout, Prisma } from "@/generated/prisma/client";

export type TSnapshotSource = Pick<
  Payout,
  | "status"
  | "currency"
  | "providerShare"
  | "tipAmount"
  | "refundedAmount"
  | "amount"
  | "amountVersion"
  | "reversedAmount"
  | "holdReason"
  | "eligibleAt"
  | "attempts"
  | "stripeTransferId"
>;

/** What the audit log keeps of a payout before and after each change. Pure. */
export function payoutSnapshot(p: TSnapshotSource) {
  return {
    status: p.status,
    currency: p.currency,
    providerShare: p.providerShare,
    tipAmount: p.tipAmount,
    refundedAmount: p.refundedAmount,
    amount: p.amount,
    amountVersion: p.amountVersion,
    reversedAmount: p.reversedAmount,
    holdReason: p.holdReason,
    eligibleAt: p.eligibleAt.toISOString(),
    attempts: p.attempts,
    stripeTransferId: p.stripeTransferId,
  } satisfies Prisma.InputJsonObject;
}
