import "server-only";

import type { Dispute, Payout } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import { recordAudit } from "@/lib/audit/record-audit";
import type { TResolvedContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { AppError } from "@/lib/errors";
import { formatMoney } from "@/lib/money/format-money";
import { payoutAmount } from "@/lib/money/money";
import { recordPayoutEvent } from "@/lib/platform-webhooks/record-event";

import { applyCurrencyPolicy } from "./apply-currency-policy";
import { lockPayoutWithFacts, type TBookingFacts } from "./booking-facts";
import { changePayout, payoutSnapshot } from "./change-payout";
import { settleClaimsAfterTransfer } from "./claims-after-transfer";
import { holdForReview } from "./hold-for-review";
import type { TLockedBooking } from "./lock-booking";
import { tipsMayStillJoin } from "./payout-facts";
import { refundClaimsOf } from "./refund-claim";
import { releaseHold } from "./release-hold";
import { requestTransferIfDue } from "./request-transfer-if-due";
import { ADJUSTABLE_STATUSES } from "./state-machine";
import { payoutDueAt } from "./timing";
import { topUpForTips } from "./top-up-for-tips";
import { paidSoFar } from "./transfer-complete";

// The payout derived from the booking's facts. Its parts: the lock order (lock-booking.ts), the
// causes of a hold (hold-cause.ts, release-hold.ts), the facts eligibility and the tip window
// are decided on (payout-facts.ts), the claims refunds make (refund-claim.ts) and their settling
// after the transfer (claims-after-transfer.ts), tips paid with a top-up (top-up-for-tips.ts),
// the currency policy (apply-currency-policy.ts), and the transfer request
// (request-transfer-if-due.ts).

export const BUSY_ERROR_CODE = "payout_busy";

/** The cancel reason of a payout that refunds took all of (reopened when a refund behind it fails, or a tip tipped in time arrives). */
export const FULLY_REFUNDED = "fully refunded";
/** The cancel reason of a payout whose booking was cancelled. */
export const BOOKING_CANCELLED = "booking cancelled";

/** The payout is being transferred right now; the change must wait until it settles. Retry later. */
export class PayoutBusyError extends AppError {
  override name = "PayoutBusyError";
  constructor(payoutId: string) {
    super(BUSY_ERROR_CODE, "The payout is being transferred; this change will be applied once the transfer settles. Retry later.", 409, {
      payoutId,
      retryable: true,
    });
  }
}

export type TSyncResult = { payout: Payout | null; transferRequested: boolean; reversalIds: string[]; repaymentIds: string[] };

type TCause = {
  /** Why the sync runs, for audit entries that have no more specific reason. */
  reason: string;
  /**
   * The booking row was inserted by this transaction (recordCompletedBooking): nothing can refer
   * to it yet (no tip, dispute, refund or payout), so none is looked for.
   */
  bookingInsertedHere?: boolean;
  /** The payout locked and the facts read by the caller, with the booking locked, nothing written since (a refresh batch). */
  read?: TBookingFacts & { payout: Payout | null };
};

/**
 * Brings a booking's payout in line with the stored facts: the completed booking, its
 * accepted tips, its disputes, Stripe's refunds on its charges and a cancellation.
 * Creating the payout, joining tips, applying refunds, holding for open disputes,
 * releasing when the last one closes (unless another cause of the hold remains),
 * cancelling (booking cancelled; nothing left to pay once no tip can join) and scheduling
 * again one closed as fully refunded when a refund behind it failed all happen
 * here, through the state machine, each audited. Because it derives the payout from the
 * facts, the order in which facts arrived does not matter. After a transfer, refunds
 * become transfer reversals instead, and tips received before it was made are paid with a
 * top-up transfer. While a transfer is in flight, new tips wait for it to settle; refunds and
 * a cancellation are refused as busy (retried later). Call it with the booking locked (lockBooking),
 * inside the transaction that recorded the new fact.
 */
export async function syncPayoutWithBooking(tx: Tx, booking: TLockedBooking, ctx: TResolvedContext, cause: TCause): Promise<TSyncResult> {
  const now = ctx.clock.now();
  const audit = { actor: ctx.actor, runId: ctx.runId, requestId: ctx.requestId };
  const fresh = cause.bookingInsertedHere === true;
  // The payout locked and the facts read in one statement (booking-facts.ts).
  const locked = fresh ? null : (cause.read ?? (await lockPayoutWithFacts(tx, booking.id)));
  const tips = locked?.tips ?? [];
  const disputes = locked?.disputes ?? [];
  const openDisputes = disputes.filter((d) => d.status === "open").length;
  const unappliedRefunds = disputes.filter((d) => d.status === "resolved" && d.refundedAmount > 0 && !d.refundAppliedAt);
  // Changes in what Stripe refunds and chargebacks take on the booking's charges, neither applied
  // before the transfer nor settled after it (reversed, cancelled, repaid).
  const unappliedChargeRefunds = locked?.unappliedChargeRefunds ?? [];
  const refundClaims = refundClaimsOf(unappliedRefunds, unappliedChargeRefunds);
  const tipAmount = tips.reduce((sum, t) => sum + t.amount, 0);
  const unappliedRefundTotal = refundClaims.reduce((sum, c) => sum + c.amount, 0);
  let reversalIds: string[] = [];

  let payout = locked?.payout ?? null;
  const createdHere = !payout;

  if (!payout) {
    if (!booking.completedAt || booking.cancelledAt) return { payout: null, transferRequested: false, reversalIds, repaymentIds: [] };
    const parts = { providerShare: booking.providerShare, tipAmount, refundedAmount: Math.max(0, unappliedRefundTotal) };
    payout = await tx.payout.create({
      data: {
        bookingId: booking.id,
        providerId: booking.providerId,
        currency: booking.currency,
        ...parts,
        amount: payoutAmount(parts),
        eligibleAt: payoutDueAt(booking.completedAt, ctx.timing),
        status: "scheduled",
      },
    });
    await recordAudit(tx, {
      ...audit,
      action: "payout.scheduled",
      entityType: "payout",
      entityId: payout.id,
      reason: cause.reason,
      before: null,
      after: payoutSnapshot(payout),
    });
    await recordPayoutEvent(tx, null, payout);
    payout = await applyCurrencyPolicy(tx, ctx, payout, booking);
  } else if (ADJUSTABLE_STATUSES.includes(payout.status)) {
    // A failed refund gives back what its step took (never below nothing refunded).
    const data = { tipAmount, refundedAmount: Math.max(0, payout.refundedAmount + unappliedRefundTotal) };
    if (data.tipAmount !== payout.tipAmount || data.refundedAmount !== payout.refundedAmount) {
      payout = await changePayout(tx, payout, {
        data,
        audit: { ...audit, action: "payout.amount_adjusted", reason: cause.reason },
      });
    }
  } else if (payout.status === "cancelled") {
    // A cancelled payout still follows its booking's tips and refunds: its amount says what it would
    // have paid, whatever closed it and in whichever order the facts arrived (a refund that failed
    // since gives back what it took). One closed because refunds took everything is scheduled again
    // once there is something to pay (a refund behind it failed, a tip tipped in the window arrived
    // late), unless its booking was cancelled: then it stays cancelled, for the booking now (seed
    // 20065: it said "fully refunded" once nothing was refunded).
    const refundedAmount = Math.max(0, payout.refundedAmount + unappliedRefundTotal);
    const fullyRefunded = payout.cancelReason === FULLY_REFUNDED;
    const forTheBooking = fullyRefunded && !!booking.cancelledAt;
    const reopen =
      fullyRefunded && !booking.cancelledAt && payoutAmount({ providerShare: payout.providerShare, tipAmount, refundedAmount }) > 0;
    if (forTheBooking || refundedAmount !== payout.refundedAmount || tipAmount !== payout.tipAmount) {
      payout = await changePayout(tx, payout, {
        ...(reopen ? { event: "reopen" as const } : {}),
        data: {
          refundedAmount,
          tipAmount,
          ...(reopen ? { cancelReason: null } : forTheBooking ? { cancelReason: BOOKING_CANCELLED } : {}),
        },
        audit: forTheBooking
          ? {
              ...audit,
              action: "payout.cancel_reason_changed",
              reason: booking.cancellationReason ?? BOOKING_CANCELLED,
              details: { previousCancelReason: FULLY_REFUNDED, cancelReason: BOOKING_CANCELLED },
            }
          : { ...audit, action: reopen ? "payout.reopened" : "payout.amount_adjusted", reason: cause.reason },
      });
    }
  } else if (payout.status === "processing") {
    // Tips accepted meanwhile wait for the transfer in flight to settle (settleTipsThatWaited):
    // they join the payout if it is tried again, or are paid with a top-up after its transfer.
    // A cancellation is recorded on the booking at once: the attempt's next try re-checks it and
    // stops (then the payout is cancelled), or its transfer completes and an admin is alerted.
    if (refundClaims.length > 0) throw new PayoutBusyError(payout.id);
  } else if (payout.status === "applied_to_debt" && booking.cancelledAt) {
    // Its whole amount paid the provider's debts, for a booking that did not stand: a person decides
    // whether those debts are owed again (nothing changes by itself), as after a transfer.
    await raiseAlert(tx, {
      kind: "booking_cancelled_after_transfer",
      severity: "warning",
      title: "Booking cancelled after its payout was applied to the provider's debt",
      message: `Booking ${booking.externalId} was cancelled after its payout paid ${formatMoney(payout.debtRecoveredAmount, payout.currency)} of the provider's debts. Adjust those debts by hand if needed.`,
      payoutId: payout.id,
      providerId: payout.providerId,
      dedupeKey: `booking_cancelled_after_transfer:${payout.id}`,
    });
  }
  if (payout.status === "applied_to_debt" && refundClaims.length > 0) {
    // Its whole amount paid the provider's debts: a refund since would make those debts whole again
    // in part. Not done by itself: a person decides (the claims stay unapplied, the alert says so).
    await raiseAlert(tx, {
      kind: "refund_after_debt_recovery",
      severity: "critical",
      title: "A refund on a payout that was applied to the provider's debt",
      message:
        `Payout ${payout.id} of booking ${booking.externalId} paid ${formatMoney(payout.debtRecoveredAmount, payout.currency)} of the provider's debts, ` +
        `and refunds or disputes since take ${formatMoney(unappliedRefundTotal, payout.currency)} of it: adjust the provider's debts by hand.`,
      payoutId: payout.id,
      providerId: payout.providerId,
      dedupeKey: `refund_after_debt_recovery:${payout.id}:${unappliedRefundTotal}`,
    });
  }

  // Tips and refunds now counted in the payout's amount.
  if (ADJUSTABLE_STATUSES.includes(payout.status) || payout.status === "cancelled") {
    // The tips were read with the booking locked (a tip is only added under that lock): none unattached, nothing to write.
    if (tips.some((t) => t.payoutId === null)) {
      await tx.tip.updateMany({ where: { bookingId: booking.id, status: "accepted", payoutId: null }, data: { payoutId: payout.id } });
    }
    if (unappliedRefunds.length > 0) {
      await tx.dispute.updateMany({ where: { id: { in: unappliedRefunds.map((d) => d.id) } }, data: { refundAppliedAt: now } });
    }
    if (unappliedChargeRefunds.length > 0) {
      await tx.chargeRefund.updateMany({ where: { id: { in: unappliedChargeRefunds.map((r) => r.id) } }, data: { appliedAt: now } });
    }
  }

  // Status follows the facts. A payout part of which was transferred (one of its several
  // transfers went through before the others failed, or before the next one had to wait for
  // funds or was put back) is never cancelled, whatever its status: it is held for review and a person decides.
  // Looked up only when it decides something (a cancelled booking, nothing left to pay); a payout
  // created here has no transfer.
  const partlyPaid =
    !createdHere &&
    (!!booking.cancelledAt || payout.amount === 0) &&
    ADJUSTABLE_STATUSES.includes(payout.status) &&
    (await paidSoFar(tx, payout.id)) > 0;
  if (partlyPaid) {
    // Held for review, not left as it was: scheduled (or on hold for a cause that goes away by
    // itself, such as funds the sweep releases) it would be claimed, found not payable and stay
    // scheduled for ever. Only a person releases it.
    const why = booking.cancelledAt ? "the booking was cancelled" : "refunds took all of it";
    await holdForReview(tx, ctx, {
      bookingId: booking.id,
      reason: `Part of the payout was transferred and ${why}: recover what was transferred by hand.`,
      alert: {
        kind: "partly_paid_payout_not_cancelled",
        title: "A partly transferred payout should be cancelled",
        message: `Payout ${payout.id} of booking ${booking.externalId} was ${payout.status.replace("_", " ")} after part of it was transferred, and ${why}. It was not cancelled: recover what was transferred by hand.`,
        dedupeKey: `partly_paid_payout_not_cancelled:${payout.id}`,
      },
    });
    payout = await tx.payout.findUniqueOrThrow({ where: { id: payout.id } });
  } else if (ADJUSTABLE_STATUSES.includes(payout.status)) {
    if (booking.cancelledAt) {
      payout = await changePayout(tx, payout, {
        event: "cancel",
        data: { cancelReason: BOOKING_CANCELLED },
        audit: { ...audit, action: "payout.cancelled", reason: booking.cancellationReason ?? BOOKING_CANCELLED },
      });
    } else if (payout.amount === 0 && !tipsMayStillJoin(payout, booking, now, ctx.timing)) {
      // Nothing to pay and nothing can be added any more. Until then a payout at zero stays
      // scheduled or held (nothing is transferred at zero), so a tip that arrives after a
      // refund took everything is paid as it would have been had it arrived first.
      payout = await changePayout(tx, payout, {
        event: "cancel",
        data: { cancelReason: FULLY_REFUNDED },
        audit: { ...audit, action: "payout.cancelled", reason: FULLY_REFUNDED },
      });
    } else if (openDisputes > 0 && payout.status === "scheduled") {
      payout = await changePayout(tx, payout, {
        event: "hold",
        data: { holdReason: "dispute_open", holdNote: `${openDisputes} open dispute${openDisputes > 1 ? "s" : ""}` },
        audit: { ...audit, action: "payout.held", reason: "dispute opened" },
      });
    } else if (openDisputes === 0 && payout.status === "on_hold" && payout.holdReason === "dispute_open") {
      payout = await releaseHold(tx, payout, booking, openDisputes, { audit, reason: "all disputes resolved" });
    }
  }

  // After the money moved: tips received before it are paid on top, refunds are recovered with
  // reversals, failed refunds given back.
  let repaymentIds: string[] = [];
  if (payout.status === "transferred" || payout.status === "partially_reversed" || payout.status === "reversed") {
    ({ payout } = await topUpForTips(tx, payout, booking, tips, audit));
    ({ reversalIds, repaymentIds } = await settleClaimsAfterTransfer(tx, payout, refundClaims, audit));
    if (booking.cancelledAt) {
      await raiseAlert(tx, {
        kind: "booking_cancelled_after_transfer",
        severity: "warning",
        title: "Booking cancelled after its payout was transferred",
        message: `Booking ${booking.externalId} was cancelled after ${formatMoney(payout.amount, payout.currency)} had been transferred. Recover it manually if needed.`,
        payoutId: payout.id,
        providerId: payout.providerId,
        dedupeKey: `booking_cancelled_after_transfer:${payout.id}`,
      });
    }
  }

  await flagRefundReportedTwice(tx, booking, payout, disputes);

  const transferRequested = await requestTransferIfDue(tx, payout, booking, openDisputes, now);
  return { payout, transferRequested, reversalIds, repaymentIds };
}

/**
 * Tips accepted while the payout's transfer was in flight (or waited for its retry) wait for it to
 * settle. Once it has, they join the payout: a payout put back (scheduled, on hold, failed) is
 * then transferred with them; one transferred pays them with a top-up after its transfer
 * (topUpForTips). Call with the booking and the payout locked, once the transfer's outcome is
 * recorded; nothing happens while the payout is still processing.
 */
export async function settleTipsThatWaited(tx: Tx, booking: TLockedBooking, ctx: TResolvedContext): Promise<void> {
  const waiting = await tx.tip.count({ where: { bookingId: booking.id, status: "accepted", payoutId: null } });
  if (waiting === 0) return;
  const payout = await tx.payout.findUnique({ where: { bookingId: booking.id }, select: { status: true } });
  if (!payout || payout.status === "processing") return;
  await syncPayoutWithBooking(tx, booking, ctx, { reason: "tips received while the transfer was in flight" });
}

/**
 * The booking platform's dispute refunds and Stripe's refunds on the booking's charges are
 * both subtracted: they are separate reports, and nothing links a platform dispute to the
 * Stripe refund that may have paid it. When a booking has both, a person must check that
 * the same money was not reported twice; raise that once per booking.
 */
async function flagRefundReportedTwice(tx: Tx, booking: TLockedBooking, payout: Payout, disputes: Dispute[]): Promise<void> {
  const platformRefunds = disputes.filter((d) => d.externalId !== null && d.status === "resolved" && d.refundedAmount > 0);
  if (platformRefunds.length === 0) return;
  const stripeRefunds = await tx.chargeRefund.aggregate({ where: { bookingId: booking.id }, _sum: { amount: true } });
  const stripeTotal = stripeRefunds._sum.amount ?? 0;
  if (stripeTotal === 0) return;
  const platformTotal = platformRefunds.reduce((sum, d) => sum + d.refundedAmount, 0);
  await raiseAlert(tx, {
    kind: "refund_reported_twice",
    severity: "warning",
    title: "Refund reported by both the booking platform and Stripe",
    message:
      `Booking ${booking.externalId}: the platform's disputes refunded ${formatMoney(platformTotal, booking.currency)} on the provider's side and ` +
      `Stripe's refunds on its charges ${formatMoney(stripeTotal, booking.currency)}; both were charged to the provider. ` +
      `If a dispute's refund was paid with one of those Stripe refunds, the provider was charged twice: correct it manually.`,
    payoutId: payout.id,
    providerId: payout.providerId,
    dedupeKey: `refund_reported_twice:${booking.id}`,
  });
}
