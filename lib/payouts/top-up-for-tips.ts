import "server-only";

import type { Payout, Tip } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import type { Tx } from "@/lib/db";
import { formatMoney } from "@/lib/money/format-money";
import { netPayoutAmount } from "@/lib/money/money";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";

import { changePayout } from "./change-payout";
import type { TLockedBooking } from "./lock-booking";
import { createTopUpLegs, planTopUp } from "./payout-transfers";
import type { TClaimAudit } from "./refund-claim";
import { reversalEvent } from "./reversal-event";
import { nextStatus } from "./state-machine";

/**
 * Tips received before the payout's transfer was made that could not join it in time (they came
 * while the transfer was in flight or waited for its retry, or their delivery was applied only
 * after it was made) are paid on top of it: they join the payout (its amount and amount version
 * go up; its status still follows what reversals took), and the difference is planned as the
 * payout's next transfer(s) under the new version's keys, sent by lib/payouts/top-up-payout.ts.
 * Exactly once: the tips join and their transfers are planned in one transaction, under the
 * booking's lock, and a tip joined is never topped up again. When no transfer can carry them (a
 * currency the platform cannot transfer) nothing changes and a person is alerted. Call with the
 * booking and the payout locked, for a payout that was transferred.
 */
export async function topUpForTips(
  tx: Tx,
  payout: Payout,
  booking: TLockedBooking,
  tips: readonly Tip[],
  audit: TClaimAudit,
): Promise<{ payout: Payout; topUpIds: string[] }> {
  const waiting = tips.filter((t) => t.status === "accepted" && t.payoutId === null);
  if (waiting.length === 0) return { payout, topUpIds: [] };
  if (booking.cancelledAt) {
    // A cancelled booking's tips are never paid on top (its cancellation rejects the ones waiting,
    // addTip the ones arriving after it); should one still wait, a person decides.
    await raiseAlert(tx, {
      kind: "tips_waiting_on_cancelled_booking",
      severity: "critical",
      title: "Tips waiting to be paid on a cancelled booking",
      message: `Payout ${payout.id} of booking ${booking.externalId} was transferred and the booking was cancelled; ${waiting.length === 1 ? "a tip" : `${waiting.length} tips`} (${waiting.map((t) => t.externalId).join(", ")}) still wait to be paid on top. Nothing was sent: decide by hand.`,
      payoutId: payout.id,
      providerId: payout.providerId,
      dedupeKey: `tips_waiting_on_cancelled_booking:${payout.id}`,
    });
    return { payout, topUpIds: [] };
  }
  const tipAmount = payout.tipAmount + waiting.reduce((sum, t) => sum + t.amount, 0);
  // What the payout kept for the provider's debts stays kept: only the tips are paid on top.
  const amount = netPayoutAmount(
    { providerShare: payout.providerShare, tipAmount, refundedAmount: payout.refundedAmount },
    payout.debtRecoveredAmount,
  );
  const topUp = amount - payout.amount;
  const joined = tips.filter((t) => t.status === "accepted" && (t.payoutId === payout.id || t.payoutId === null));
  const plan =
    topUp > 0 ? await planTopUp(tx, { ...payout, tipAmount, amount }, booking, joined, topUp) : { kind: "plan" as const, legs: [] };
  const reason = `${waiting.length === 1 ? "a tip" : `${waiting.length} tips`} received before the transfer was made (${waiting.map((t) => t.externalId).join(", ")})`;
  if (plan.kind !== "plan") {
    await raiseAlert(tx, {
      kind: "payout_top_up_unplanned",
      severity: "critical",
      title: "Tips received before the transfer cannot be paid",
      message: `Payout ${payout.id} of booking ${booking.externalId} was transferred; ${reason} should be paid on top (${formatMoney(topUp, payout.currency)}), but no transfer can carry them: ${plan.reason} Pay them by hand.`,
      payoutId: payout.id,
      providerId: payout.providerId,
      dedupeKey: `payout_top_up_unplanned:${waiting[0]!.id}`,
    });
    return { payout, topUpIds: [] };
  }

  await tx.tip.updateMany({ where: { id: { in: waiting.map((t) => t.id) } }, data: { payoutId: payout.id } });
  // The payout's status follows what reversals took of its (larger) amount.
  const event = reversalEvent({ amount }, payout.reversedAmount, payout.repaidAmount);
  const updated = await changePayout(tx, payout, {
    ...(nextStatus(payout.status, event) !== payout.status ? { event } : {}),
    data: { tipAmount },
    audit: { ...audit, action: "payout.top_up_requested", reason, details: { topUpAmount: topUp, tipIds: waiting.map((t) => t.id) } },
  });
  const legs = await createTopUpLegs(tx, updated, plan.legs);
  for (const leg of legs) {
    await enqueueEvent(tx, {
      name: "payout/top-up.requested",
      data: { transferId: leg.id, payoutId: payout.id },
      eventId: `top-up:${leg.id}`,
    });
  }
  return { payout: updated, topUpIds: legs.map((l) => l.id) };
}
