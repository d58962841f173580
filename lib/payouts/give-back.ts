import "server-only";

import type { Payout } from "@/generated/prisma/client";
import { recordAudit } from "@/lib/audit/record-audit";
import type { Tx } from "@/lib/db";
import { formatMoney } from "@/lib/money/format-money";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";

import { forgiveWholeDebts, lowerNewestDebt } from "./forgive-whole-debts";
import { mulDivFloor } from "./plan-transfers";
import type { TClaimAudit, TRefundClaim } from "./refund-claim";

/**
 * A refund behind an earlier step failed: the provider gets back what it took, `givenBack`
 * (refundGivenBack: the step down less what the losses still take beyond share + tips, which the
 * refund never took; said in the audit log when smaller than the step). First the
 * reversals of that charge's steps that were never sent are cancelled, then the open debts of
 * those that Stripe refused are forgiven (whole ones, newest first, while they fit, then part of the
 * newest of the others); what is left
 * was really taken and is repaid with one transfer (lib/payouts/repay-provider.ts), which sends at
 * most what the reversals actually took once none is in flight.
 */
export async function giveBack(
  tx: Tx,
  payout: Payout,
  claim: TRefundClaim & { link: { chargeRefundId: string } },
  givenBack: number,
  audit: TClaimAudit,
): Promise<string | null> {
  let left = givenBack;
  const now = new Date();
  if (givenBack < -claim.amount) {
    await recordAudit(tx, {
      ...audit,
      action: "payout.give_back_capped",
      entityType: "payout",
      entityId: payout.id,
      reason: `${claim.afterTransferReason}: ${formatMoney(-claim.amount - givenBack, payout.currency)} of it was never taken (refunds and disputes together took more than the share and tips)`,
      after: { chargeRefundId: claim.link.chargeRefundId, stepDown: -claim.amount, givenBack, notGivenBack: -claim.amount - givenBack },
    });
  }
  const sameCharge = { payoutId: payout.id, chargeRefund: { is: { stripeChargeId: claim.stripeChargeId ?? "" } } };

  const unsent = await tx.transferReversal.findMany({
    where: { ...sameCharge, status: "pending", initiatedBy: "platform", sentAt: null },
    orderBy: { createdAt: "desc" },
  });
  for (const r of unsent) {
    if (r.amount > left) continue;
    // Its run may have claimed it for sending since it was read (reverse-transfer.ts does not take
    // the booking's lock): then it is no longer cancelled, and what it takes is repaid.
    const { count } = await tx.transferReversal.updateMany({
      where: { id: r.id, status: "pending", sentAt: null },
      data: { status: "canceled", failureReason: "the refund it recovered failed at Stripe" },
    });
    if (count === 0) continue;
    left -= r.amount;
    await recordAudit(tx, {
      ...audit,
      action: "payout.reversal_canceled",
      entityType: "payout",
      entityId: payout.id,
      reason: claim.afterTransferReason,
      after: { reversalId: r.id, reversalAmount: r.amount },
    });
  }

  const debts = await tx.providerDebt.findMany({
    // Settled ones too: recovered whole from later payouts, they were taken all the same (forgiveWholeDebts alerts).
    where: { payoutId: payout.id, status: { in: ["open", "settled"] }, reversal: { is: sameCharge } },
    orderBy: { createdAt: "desc" },
  });
  left = await forgiveWholeDebts(tx, debts, left, {
    audit,
    payoutId: payout.id,
    reason: `${claim.afterTransferReason}: the refund the debt recovered failed`,
    now,
  });
  left = await lowerNewestDebt(
    tx,
    debts.map((d) => d.id),
    left,
    { audit, payoutId: payout.id, reason: `${claim.afterTransferReason}: part of the refund the debt recovered failed` },
  );

  await tx.chargeRefund.update({ where: { id: claim.link.chargeRefundId }, data: { appliedAt: now } });
  if (left <= 0) return null;
  const last = await tx.payoutTransfer.aggregate({ where: { payoutId: payout.id, kind: "repayment" }, _max: { leg: true } });
  const leg = (last._max.leg ?? 0) + 1;
  const source = claim.stripeChargeId
    ? await tx.payoutTransfer.findFirst({
        where: { payoutId: payout.id, kind: "payout", status: "succeeded", sourceChargeId: claim.stripeChargeId },
      })
    : null;
  const converted = source !== null && source.amount !== source.payoutAmount;
  if (converted && mulDivFloor(left, source.amount, source.payoutAmount) === 0) return null;
  const repayment = await tx.payoutTransfer.create({
    data: {
      payoutId: payout.id,
      kind: "repayment",
      amountVersion: payout.amountVersion,
      leg,
      payoutAmount: left,
      amount: converted ? mulDivFloor(left, source.amount, source.payoutAmount) : left,
      currency: converted ? source.currency : payout.currency,
      exchangeRate: converted ? source.exchangeRate : null,
      chargeRefundId: claim.link.chargeRefundId,
      idempotencyKey: `repayment:${claim.link.chargeRefundId}`,
    },
  });
  await recordAudit(tx, {
    ...audit,
    action: "payout.repayment_requested",
    entityType: "payout",
    entityId: payout.id,
    reason: claim.afterTransferReason,
    after: { repaymentId: repayment.id, amount: left, currency: payout.currency },
  });
  await enqueueEvent(tx, {
    name: "payout/repayment.requested",
    data: { repaymentId: repayment.id, payoutId: payout.id },
    eventId: `repayment:${repayment.id}`,
  });
  return repayment.id;
}
