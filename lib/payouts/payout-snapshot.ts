import type { Payout } from "@/generated/prisma/client";
import type { PAYOUT_SNAPSHOT_FIELDS, TPayoutSnapshot } from "@/lib/audit/audit-snapshots";

export type TSnapshotSource = Pick<Payout, (typeof PAYOUT_SNAPSHOT_FIELDS)[number]>;

/** What the audit log keeps of a payout before and after each change (TPayoutSnapshot). Pure. */
export function payoutSnapshot(p: TSnapshotSource): TPayoutSnapshot {
  return {
    status: p.status,
    currency: p.currency,
    providerShare: p.providerShare,
    tipAmount: p.tipAmount,
    refundedAmount: p.refundedAmount,
    debtRecoveredAmount: p.debtRecoveredAmount,
    amount: p.amount,
    amountVersion: p.amountVersion,
    reversedAmount: p.reversedAmount,
    holdReason: p.holdReason,
    eligibleAt: p.eligibleAt.toISOString(),
    attempts: p.attempts,
    stripeTransferId: p.stripeTransferId,
  };
}
