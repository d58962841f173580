import "server-only";

import type { Payout, PayoutTransfer, Prisma } from "@/generated/prisma/client";
import { recordAudit } from "@/lib/audit/record-audit";
import type { Tx } from "@/lib/db";
import { formatMoney } from "@/lib/money/format-money";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";

import { payoutSnapshot } from "./change-payout";
import { providerPosition, takenFrom } from "./provider-position";
import type { TClaimAudit, TRefundClaim } from "./refund-claim";
import { shareToReverse, type TTaken } from "./reversal-share";

// Reversals requested after the transfer: what a loss takes, from the payout's transfers
// (reverseClaim), and what a transfer that landed overpays, from that transfer
// (reverseWhatIsNotOwed). Each is a pending TransferReversal, audited, its
// payout/reversal.requested event in the outbox; reverse-transfer.ts sends it.

/** Reverses `amountToReverse` of a claim from the payout's transfers, as far as they have it; the reversals requested and what they take. */
export async function reverseClaim(
  tx: Tx,
  payout: Payout,
  transfers: readonly PayoutTransfer[],
  taken: Map<string, TTaken>,
  claim: TRefundClaim,
  amountToReverse: number,
  audit: TClaimAudit,
): Promise<{ ids: string[]; reversed: number }> {
  const ordered = [...transfers].sort(
    (a, b) =>
      Number(b.sourceChargeId === claim.stripeChargeId && claim.stripeChargeId !== null) -
      Number(a.sourceChargeId === claim.stripeChargeId && claim.stripeChargeId !== null),
  );
  let left = amountToReverse;
  const ids: string[] = [];
  for (const transfer of ordered) {
    if (left <= 0) break;
    const already = taken.get(transfer.id) ?? { amount: 0, transferAmount: 0 };
    const share = shareToReverse(transfer, already, left);
    if (!share) continue;
    left -= share.amount;
    taken.set(transfer.id, { amount: already.amount + share.amount, transferAmount: already.transferAmount + share.transferAmount });
    ids.push(await requestReversal(tx, payout, transfer, claim.link, share, audit, claim.afterTransferReason));
  }
  return { ids, reversed: amountToReverse - left };
}

/**
 * A transfer to the provider (a repayment, a top-up) was just recorded as made. What it overpays
 * (with it, and what else is on its way, the provider would hold more than the rules owe: a loss
 * was settled while it was on its way) is reversed from it at once, audited, the reversal requested
 * in the outbox. A repayment sent after the loss sends only what is owed (repay-provider.ts), so
 * this acts when the transfer had left already. Call with the booking and the payout locked.
 */
export async function reverseWhatIsNotOwed(
  tx: Tx,
  payout: Payout,
  transfer: PayoutTransfer,
  audit: TClaimAudit,
  reason: string,
): Promise<string | null> {
  const { owed, held, onItsWay } = await providerPosition(tx, payout);
  const excess = held + onItsWay - owed;
  if (excess <= 0) return null;
  const already = (await takenFrom(tx, [transfer.id])).get(transfer.id) ?? { amount: 0, transferAmount: 0 };
  const share = shareToReverse(transfer, already, excess);
  if (!share) return null;
  return requestReversal(
    tx,
    payout,
    transfer,
    transfer.chargeRefundId ? { chargeRefundId: transfer.chargeRefundId } : {},
    share,
    audit,
    `${reason}: with it the provider would hold ${formatMoney(excess, payout.currency)} more than the rules owe (refunds or disputes settled while it was on its way)`,
    { owed, held, onItsWay },
  );
}

/** One pending reversal of `share` from `transfer`: recorded, audited, its event in the outbox. */
async function requestReversal(
  tx: Tx,
  payout: Payout,
  transfer: PayoutTransfer,
  link: TRefundClaim["link"] | Record<string, never>,
  share: TTaken,
  audit: TClaimAudit,
  reason: string,
  details: Prisma.InputJsonObject = {},
): Promise<string> {
  const reversal = await tx.transferReversal.create({
    data: {
      payoutId: payout.id,
      payoutTransferId: transfer.id,
      ...link,
      amount: share.amount,
      currency: payout.currency,
      transferAmount: share.transferAmount,
      transferCurrency: transfer.currency,
      status: "pending",
      initiatedBy: "platform",
    },
  });
  await recordAudit(tx, {
    ...audit,
    action: "payout.reversal_requested",
    entityType: "payout",
    entityId: payout.id,
    reason,
    before: payoutSnapshot(payout),
    after: {
      ...payoutSnapshot(payout),
      reversalId: reversal.id,
      reversalAmount: share.amount,
      stripeTransferId: transfer.stripeTransferId,
      ...details,
    },
  });
  await enqueueEvent(tx, {
    name: "payout/reversal.requested",
    data: { reversalId: reversal.id, payoutId: payout.id },
    eventId: `reversal:${reversal.id}`,
  });
  return reversal.id;
}
