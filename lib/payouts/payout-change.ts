// What one change makes of a payout's row: the state machine decides the status, the amount is
// recomputed from its parts (its version bumped when it moves), a payout that leaves on_hold
// forgets why it was held, and the row version is bumped. Pure: changePayout writes it, the demo
// seed (lib/seed/payout-story.ts) plays histories with it. What is kept for the provider's debts
// (debtRecoveredAmount) is given back to the payout when it returns to a status in which its amount
// may change (scheduled, on hold, failed) or is cancelled: a transfer that was not made recovers nothing.
import type { Payout } from "@/generated/prisma/client";
import { netPayoutAmount } from "@/lib/money/money";

import { ADJUSTABLE_STATUSES, nextStatus, type TPayoutEvent } from "./state-machine";

/** The fields a change may set besides the status, the amount and the versions (it derives those). */
export type TPayoutChangeData = Partial<
  Pick<
    Payout,
    | "providerShare"
    | "tipAmount"
    | "refundedAmount"
    | "debtRecoveredAmount"
    | "reversedAmount"
    | "repaidAmount"
    | "holdReason"
    | "holdNote"
    | "cancelReason"
    | "eligibleAt"
    | "attempts"
    | "lastError"
    | "processingStartedAt"
    | "stripeTransferId"
    | "transferredAt"
    | "transferCurrency"
    | "fundsExpectedAt"
    | "fundsWaitingSince"
  >
>;

export type TChangeablePayout = Pick<
  Payout,
  "status" | "providerShare" | "tipAmount" | "refundedAmount" | "debtRecoveredAmount" | "amount" | "amountVersion" | "version"
>;

/** The fields to write for `event` (none: the status stays) and `data`; IllegalTransitionError when the event is not allowed. */
export function changedPayoutFields<TData extends TPayoutChangeData>(
  payout: TChangeablePayout,
  event: TPayoutEvent | undefined,
  data: TData,
) {
  const status = event ? nextStatus(payout.status, event) : payout.status;
  const parts = {
    providerShare: data.providerShare ?? payout.providerShare,
    tipAmount: data.tipAmount ?? payout.tipAmount,
    refundedAmount: data.refundedAmount ?? payout.refundedAmount,
  };
  // A reservation lives from the claim to the transfer: a payout back where its amount may change
  // (or cancelled) was not transferred, so it recovers nothing (changePayout releases the rows).
  // Except a claim merely put back (unclaim_to_scheduled: its outcome unknown, or not due yet): it
  // keeps its amount, so its amount version and its planned transfers, and the retry sends them under
  // the same keys: a transfer of the first attempt that Stripe makes late is then not made twice.
  // Its next change as a scheduled payout (a tip, a refund, a hold, a cancel) releases it.
  const keeps = event === "unclaim_to_scheduled" || !(ADJUSTABLE_STATUSES.includes(status) || status === "cancelled");
  const debtRecoveredAmount = data.debtRecoveredAmount ?? (keeps ? payout.debtRecoveredAmount : 0);
  const amount = netPayoutAmount(parts, debtRecoveredAmount);
  return {
    ...data,
    ...parts,
    debtRecoveredAmount,
    amount,
    status,
    amountVersion: amount !== payout.amount ? payout.amountVersion + 1 : payout.amountVersion,
    ...(status !== "on_hold" && data.holdReason === undefined ? { holdReason: null, holdNote: null } : {}),
    version: payout.version + 1,
  };
}
