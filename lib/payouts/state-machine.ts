// The payout state machine: one table of every legal transition. Every status change in
// the code goes through `nextStatus`; anything not in the table raises
// IllegalTransitionError. Pure: no I/O.
import type { PayoutStatus } from "@/generated/prisma/enums";
import { AppError } from "@/lib/errors";

export type TPayoutEvent =
  /** A dispute opened, an admin hold, or the provider's Stripe account is not ready. */
  | "hold"
  /** The hold's cause is gone (dispute resolved, admin release, account ready). */
  | "release"
  /** An admin makes a scheduled or held payout due now. */
  | "force_release"
  /** The transfer job claims a due, eligible payout. */
  | "claim"
  /** The claimed transfer was not sent to Stripe after all (a dispute opened, not yet due). */
  | "unclaim_to_scheduled"
  | "unclaim_to_hold"
  /** Stripe accepted the transfer. */
  | "transfer_succeeded"
  /** A retryable error; the job will try again (attempts < 3). */
  | "transfer_retry"
  /** The third failure, or a permanent error. */
  | "transfer_failed"
  /** An admin retries a failed payout. */
  | "retry"
  /** An admin cancels, the booking is cancelled, or the amount reached zero. */
  | "cancel"
  /** Part of a transferred payout was reversed. */
  | "reverse_partially"
  /** All of a transferred payout was reversed. */
  | "reverse_fully"
  /** What reversals took was given back (a repayment after the refund behind them failed). */
  | "unreverse"
  /** A payout closed as fully refunded has something to pay again (a refund behind it failed). */
  | "reopen"
  /** The provider's debts took the whole of a payout claimed for its transfer: nothing is left to transfer. */
  | "apply_to_debt";

const TRANSITIONS: Record<TPayoutEvent, Partial<Record<PayoutStatus, PayoutStatus>>> = {
  hold: { scheduled: "on_hold" },
  release: { on_hold: "scheduled" },
  force_release: { scheduled: "scheduled", on_hold: "scheduled" },
  claim: { scheduled: "processing" },
  unclaim_to_scheduled: { processing: "scheduled" },
  unclaim_to_hold: { processing: "on_hold" },
  transfer_succeeded: { processing: "transferred" },
  transfer_retry: { processing: "processing" },
  transfer_failed: { processing: "failed" },
  retry: { failed: "scheduled" },
  cancel: { scheduled: "cancelled", on_hold: "cancelled", failed: "cancelled" },
  reverse_partially: { transferred: "partially_reversed", partially_reversed: "partially_reversed", reversed: "partially_reversed" },
  reverse_fully: { transferred: "reversed", partially_reversed: "reversed", reversed: "reversed" },
  unreverse: { transferred: "transferred", partially_reversed: "transferred", reversed: "transferred" },
  reopen: { cancelled: "scheduled" },
  apply_to_debt: { scheduled: "applied_to_debt" },
};

const EVENT_LABELS: Record<TPayoutEvent, string> = {
  hold: "hold",
  release: "release",
  force_release: "force release",
  claim: "start the transfer of",
  unclaim_to_scheduled: "put back",
  unclaim_to_hold: "hold",
  transfer_succeeded: "mark transferred",
  transfer_retry: "retry the transfer of",
  transfer_failed: "mark failed",
  retry: "retry",
  cancel: "cancel",
  reverse_partially: "partially reverse",
  reverse_fully: "reverse",
  unreverse: "repay",
  reopen: "reopen",
  apply_to_debt: "apply to debt",
};

export class IllegalTransitionError extends AppError {
  override name = "IllegalTransitionError";
  constructor(
    readonly from: PayoutStatus,
    readonly event: TPayoutEvent,
  ) {
    super("illegal_transition", `Cannot ${EVENT_LABELS[event]} a payout that is ${from.replace("_", " ")}.`, 409, {
      from,
      event,
      allowedFrom: allowedFrom(event),
    });
  }
}

/** The status after `event`, or an IllegalTransitionError. */
export function nextStatus(from: PayoutStatus, event: TPayoutEvent): PayoutStatus {
  const to = TRANSITIONS[event][from];
  if (!to) throw new IllegalTransitionError(from, event);
  return to;
}

export function canTransition(from: PayoutStatus, event: TPayoutEvent): boolean {
  return TRANSITIONS[event][from] !== undefined;
}

export function allowedFrom(event: TPayoutEvent): PayoutStatus[] {
  return Object.keys(TRANSITIONS[event]) as PayoutStatus[];
}

/** Statuses in which the payout's amount may still change (tips, refunds): money has not moved. */
export const ADJUSTABLE_STATUSES: readonly PayoutStatus[] = ["scheduled", "on_hold", "failed"];

/** Statuses of a payout whose transfer was made (what reversals took since may differ). */
export const TRANSFERRED_STATUSES: readonly PayoutStatus[] = ["transferred", "partially_reversed", "reversed"];

/** Statuses after which the payout is not transferred again (only a top-up pays tips received before its transfer). */
export const FINAL_STATUSES: readonly PayoutStatus[] = ["transferred", "partially_reversed", "reversed", "cancelled", "applied_to_debt"];
