import "server-only";

import type { Payout } from "@/generated/prisma/client";
import { recordAudit } from "@/lib/audit/record-audit";
import type { Tx } from "@/lib/db";
import { formatMoney } from "@/lib/money/format-money";
import { lossTaken, refundGivenBack } from "@/lib/money/money";

import { giveBack } from "./give-back";
import { alertIfNotCovered, lossesTaken, providerPosition, takenFrom } from "./provider-position";
import type { TClaimAudit, TRefundClaim } from "./refund-claim";
import { reverseClaim } from "./request-reversals";

// After the money moved, what refunds and lost disputes take from the provider is recovered with
// transfer reversals, and what a failed refund gives back is returned: by cancelling a reversal
// not yet sent, by forgiving the debt of a reversal that could not be made, and otherwise with a
// repayment transfer (exactly once per charge step). A payout paid with several transfers reverses
// from the transfer funded by the claim's own charge first, then from the others in order (its
// top-ups and repayments are transfers too).
// A loss counts in full once settled, whatever was left to reverse; it takes what it lowers the
// payout's amount by (lossTaken: never the part beyond share + tips, which was never paid). What
// it takes and the provider does not hold yet (a repayment or top-up still on its way) is kept from
// that money: a repayment sends only what the provider is still owed, and a transfer that lands
// while the provider holds more than that has the difference reversed from it (providerPosition).
// Tips received before the transfer was made that could not join the payout in time are paid
// with a top-up: more transfers after it (topUpForTips).
// The parts: where the provider stands (provider-position.ts), the reversals requested
// (request-reversals.ts), what a failed refund gives back (give-back.ts), and tips paid with a
// top-up (top-up-for-tips.ts).

/**
 * Turns each claim into reversals (positive) or give-backs (negative). Call with the booking
 * and the payout locked, for a payout that was transferred. Returns the reversals and
 * repayments requested (their Inngest events are in the outbox).
 *
 * A positive claim is settled at once and counts in full from then on: it reverses what it takes
 * (lossTaken: the payout's amount with the losses before it less with them after) from what is
 * at Stripe. The part beyond share + tips was never paid: it is not taken (reversal_capped). A
 * part taken that is not at the provider yet (a repayment or top-up on its way) is kept from that
 * money (reversal_deferred): repay-provider.ts sends only what is still owed, and
 * reverseWhatIsNotOwed reverses it from a transfer that lands; should nothing cover it, a person
 * is alerted. A claim that reversed nothing is marked applied, so it is never settled twice.
 */
export async function settleClaimsAfterTransfer(
  tx: Tx,
  payout: Payout,
  claims: readonly TRefundClaim[],
  audit: TClaimAudit,
): Promise<{ reversalIds: string[]; repaymentIds: string[] }> {
  const reversalIds: string[] = [];
  const repaymentIds: string[] = [];
  const transfers = await tx.payoutTransfer.findMany({
    where: { payoutId: payout.id, status: "succeeded", stripeTransferId: { not: null } },
    orderBy: [{ kind: "asc" }, { leg: "asc" }],
  });
  const taken = await takenFrom(
    tx,
    transfers.map((t) => t.id),
  );
  const parts = { providerShare: payout.providerShare, tipAmount: payout.tipAmount };
  // What takes from the payout, as of the claim being settled (claims are settled in order): the
  // losses settled before, and each claim's amount once it is, in full, taken or not.
  let losses = await lossesTaken(tx, payout.bookingId, claims);
  let deferred = 0;
  const now = new Date();

  for (const claim of claims) {
    const existing = await tx.transferReversal.count({ where: claim.link });
    if (existing > 0) continue;
    if (claim.amount > 0) {
      const takes = lossTaken({ ...parts, refundedAmount: Math.max(0, losses) }, claim.amount);
      losses += claim.amount;
      const { ids, reversed } = await reverseClaim(tx, payout, transfers, taken, claim, takes, audit);
      reversalIds.push(...ids);
      if (claim.amount > takes) {
        await recordAudit(tx, {
          ...audit,
          action: "payout.reversal_capped",
          entityType: "payout",
          entityId: payout.id,
          reason: `${claim.afterTransferReason}: ${formatMoney(claim.amount - takes, payout.currency)} of it is beyond the share and tips the other refunds and disputes leave (never paid, so not taken)`,
          after: { claimAmount: claim.amount, notReversed: claim.amount - takes },
        });
      }
      if (takes > reversed) {
        deferred += takes - reversed;
        const { onItsWay } = await providerPosition(tx, payout);
        await recordAudit(tx, {
          ...audit,
          action: "payout.reversal_deferred",
          entityType: "payout",
          entityId: payout.id,
          reason:
            `${claim.afterTransferReason}: ${formatMoney(takes - reversed, payout.currency)} of it is not at the provider yet (a repayment or top-up on its way): ` +
            `a repayment sends that much less, and a transfer that lands is reversed by what it overpays`,
          after: { claimAmount: claim.amount, reversed, deferred: takes - reversed, onItsWay },
        });
      }
      // Settled and counted though nothing was reversed (a claim with reversals is settled by them).
      if (ids.length === 0) {
        if ("disputeId" in claim.link) await tx.dispute.update({ where: { id: claim.link.disputeId }, data: { refundAppliedAt: now } });
        else await tx.chargeRefund.update({ where: { id: claim.link.chargeRefundId }, data: { appliedAt: now } });
      }
    } else if (claim.amount < 0 && "chargeRefundId" in claim.link) {
      losses += claim.amount;
      // Only what the step down stops taking comes back: losses beyond share + tips were never taken.
      const givenBack = refundGivenBack({ ...parts, refundedAmount: Math.max(0, losses) }, -claim.amount);
      const repayment = await giveBack(tx, payout, claim as TRefundClaim & { link: { chargeRefundId: string } }, givenBack, audit);
      if (repayment) repaymentIds.push(repayment);
    }
  }
  if (deferred > 0) await alertIfNotCovered(tx, payout);
  return { reversalIds, repaymentIds };
}
