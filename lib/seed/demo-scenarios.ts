// One booking's rows and, for a completed one, its payout's history as the engine would have
// written it (each scenario of demo-bookings.ts); the stories go through payout-story.ts.
import type { DisputeOutcome, DisputeScope } from "@/generated/prisma/enums";
import { payoutChangeEntry, toAuditRow } from "@/lib/audit/record-audit";
import { formatMoney } from "@/lib/money/format-money";
import { describeIneligibility } from "@/lib/payouts/eligibility";
import { FULLY_REFUNDED } from "@/lib/payouts/sync-payout-with-booking";
import { payoutDueAt } from "@/lib/payouts/timing";
import { MAX_TRANSFER_ATTEMPTS } from "@/lib/payouts/transfer-types";

import { addMs, clamp, DAY, HOUR, MINUTE, SECOND, type TBookingPlan, type TBookingRow, type TDemoContext } from "./demo-context";
import type { TPayoutRow } from "./demo-dataset-types";
import { openDispute, resolveDispute, reverse } from "./demo-disputes";
import { CANCELLATION_REASONS, LATE_CANCELLATION_REASONS } from "./demo-names";
import { invalidDestinationError, STRIPE_ERRORS, type TStripeError } from "./demo-stripe-errors";
import { ACTORS, PayoutStory, payoutSnapshot, type TAttemptOutcome } from "./payout-story";

const ADMIN_HOLD_REASONS = [
  "Customer emailed support saying the session was cut short; waiting for the platform's review",
  "Provider changed bank details twice this week; confirming the change with them by phone",
  "Tip is unusually large for this booking; checking the card for testing patterns",
  "Provider asked us to pause payouts while they move to a new business entity",
] as const;

const ADMIN_RELEASE_REASONS = [
  "Confirmed with the provider by phone; nothing wrong",
  "Platform review closed with no refund; releasing",
  "Card checks came back clean",
] as const;

export function writeBooking(ctx: TDemoContext, b: TBookingPlan): void {
  const { random, ids } = ctx;
  const row: TBookingRow = {
    id: b.id,
    externalId: b.externalId,
    providerId: b.provider.id,
    currency: b.currency,
    providerShare: b.share,
    stripeChargeId: ids.stripe("ch"),
    completedAt: b.completed ? b.at : null,
    cancelledAt: b.completed ? null : b.at,
    cancellationReason: b.completed ? null : random.pick(CANCELLATION_REASONS),
    createdAt: addMs(b.at, random.int(800, 8_000)),
    updatedAt: b.at,
  };
  row.updatedAt = row.createdAt;
  ctx.out.bookings.push(row);
  ctx.chargeOfBooking.set(row.id, row.stripeChargeId);

  if (!b.completed || !b.payoutId) {
    ctx.out.audit.push(
      toAuditRow({
        actor: ACTORS.bookingWebhook,
        action: "booking.cancelled",
        entityType: "booking",
        entityId: b.id,
        reason: row.cancellationReason,
        after: { cancelledAt: b.at.toISOString() },
        at: row.createdAt,
      }),
    );
    return;
  }

  // booking.completed and payout.scheduled: one transaction (lib/bookings/record-completed-booking.ts).
  const createdAt = addMs(row.createdAt, random.int(5, 60));
  const payout: TPayoutRow = {
    id: b.payoutId,
    bookingId: b.id,
    providerId: b.provider.id,
    currency: b.currency,
    providerShare: b.share,
    tipAmount: 0,
    refundedAmount: 0,
    debtRecoveredAmount: 0,
    amount: b.share,
    amountVersion: 1,
    reversedAmount: 0,
    status: "scheduled",
    holdReason: null,
    holdNote: null,
    cancelReason: null,
    eligibleAt: payoutDueAt(b.at),
    attempts: 0,
    lastError: null,
    processingStartedAt: null,
    stripeTransferId: null,
    transferredAt: null,
    version: 0,
    createdAt,
    updatedAt: createdAt,
  };
  const story = new PayoutStory(
    { now: ctx.now, random, ids, out: ctx.out },
    payout,
    ctx.tipsByBooking.get(b.id) ?? [],
    ACTORS.bookingWebhook,
  );
  story.record({
    actor: ACTORS.bookingWebhook,
    action: "booking.completed",
    entityType: "booking",
    entityId: b.id,
    after: { externalId: b.externalId, completedAt: b.at.toISOString(), providerShare: b.share, currency: b.currency },
    at: row.createdAt,
  });
  story.record(
    payoutChangeEntry({
      actor: ACTORS.bookingWebhook,
      action: "payout.scheduled",
      entityId: payout.id,
      reason: "booking completed",
      before: null,
      after: payoutSnapshot(payout),
      at: createdAt,
    }),
  );
  playScenario(ctx, b, row, story);
  story.finish();
  ctx.out.payouts.push(payout);
}

function playScenario(ctx: TDemoContext, b: TBookingPlan, booking: TBookingRow, story: PayoutStory): void {
  const { random } = ctx;
  const payout = story.payout;
  const completed = b.at.getTime();
  const eligible = payout.eligibleAt.getTime();
  const age = ctx.nowMs - completed;
  const soonAfterDue = () => new Date(eligible + random.int(15, 150) * SECOND);
  const transferAfter = (t: number) => new Date(Math.max(t, eligible) + random.int(15, 150) * SECOND);
  const success: TAttemptOutcome[] = [{ kind: "success" }];
  const threeTimes = (error: TStripeError) => Array<TAttemptOutcome>(MAX_TRANSFER_ATTEMPTS).fill({ kind: "error", error });

  switch (b.scenario) {
    case "default": {
      const notReady = b.provider.notReady;
      if (notReady && eligible >= notReady.since.getTime()) {
        // The transfer run finds the account not ready and holds the payout instead.
        const heldAt = soonAfterDue();
        if (heldAt.getTime() < ctx.nowMs) {
          const why = describeIneligibility(["provider_account_not_ready"]);
          story.change(heldAt, ACTORS.transfer, "payout.held", {
            event: "hold",
            data: { holdReason: "provider_account_not_ready", holdNote: why },
            reason: why,
            runId: ctx.ids.ulid(heldAt),
          });
        }
        return;
      }
      transferIfStarted(ctx, story, soonAfterDue(), success);
      return;
    }
    case "transfer_retry": {
      const error = random.weighted<TStripeError>([
        [STRIPE_ERRORS.connection, 2],
        [STRIPE_ERRORS.api, 2],
        [STRIPE_ERRORS.rateLimit, 1],
      ]);
      story.runTransfer(soonAfterDue(), [{ kind: "error", error }, { kind: "success" }]);
      return;
    }
    case "processing":
      story.runTransfer(new Date(eligible + random.int(10, 40) * SECOND), [{ kind: "pending" }]);
      return;
    case "processing_retrying":
      story.runTransfer(new Date(eligible + random.int(10, 20) * SECOND), [
        { kind: "error", error: STRIPE_ERRORS.connection },
        { kind: "pending" },
      ]);
      return;
    case "processing_stuck":
      // Claimed two hours ago; the run died before recording Stripe's answer, and the sweep has not
      // settled it (it could not ask Stripe): the "stuck" payout the dashboard shows.
      story.runTransfer(new Date(eligible + random.int(60, 120) * SECOND), [{ kind: "pending" }]);
      return;
    case "failed":
    case "failed_outage": {
      const error = b.scenario === "failed_outage" ? STRIPE_ERRORS.connection : STRIPE_ERRORS.api;
      // Every try may have reached Stripe: the sweep fails the payout once it finds no transfer.
      story.runTransfer(soonAfterDue(), threeTimes(error));
      return;
    }
    case "failed_permanent": {
      const error = invalidDestinationError(b.provider.stripeAccountId ?? "acct_unknown");
      story.runTransfer(soonAfterDue(), [{ kind: "error", error }]);
      return;
    }
    case "failed_retried": {
      const failedAt = story.runTransfer(soonAfterDue(), threeTimes(STRIPE_ERRORS.api));
      const alert = story.failedAlert;
      const acknowledgedAt = addMs(failedAt, random.int(20, 180) * MINUTE);
      alert.acknowledgedById = ctx.adminRef.id;
      alert.acknowledgedAt = acknowledgedAt;
      story.record({
        actor: ctx.admin,
        action: "alert.acknowledged",
        entityType: "alert",
        entityId: alert.id ?? "",
        reason: "Stripe reported elevated API errors at the time; retrying once their status page is green",
        before: { acknowledgedAt: null },
        after: { acknowledgedAt: acknowledgedAt.toISOString() },
        at: acknowledgedAt,
      });
      const retriedAt = addMs(acknowledgedAt, random.int(10, 120) * MINUTE);
      story.change(retriedAt, ctx.operator, "payout.retried", {
        event: "retry",
        data: { attempts: 0, processingStartedAt: null },
        reason: "Stripe incident resolved (status.stripe.com); retrying the transfer",
      });
      story.runTransfer(addMs(retriedAt, random.int(3, 20) * SECOND), success);
      return;
    }
    case "admin_hold": {
      const heldAt = new Date(completed + random.float(1 * HOUR, Math.min(46 * HOUR, age - 0.3 * HOUR)));
      adminHold(ctx, story, heldAt, random.pick(ADMIN_HOLD_REASONS));
      return;
    }
    case "admin_hold_released": {
      const heldAt = new Date(completed + random.float(2 * HOUR, 30 * HOUR));
      adminHold(ctx, story, heldAt, random.pick(ADMIN_HOLD_REASONS));
      const releasedAt = addMs(heldAt, random.float(2 * HOUR, 40 * HOUR));
      story.change(releasedAt, ctx.operator, "payout.released", { event: "release", reason: random.pick(ADMIN_RELEASE_REASONS) });
      story.runTransfer(transferAfter(releasedAt.getTime()), success);
      return;
    }
    case "admin_cancel": {
      const heldAt = new Date(completed + random.float(3 * HOUR, 20 * HOUR));
      adminHold(ctx, story, heldAt, "Looks like a duplicate of an earlier booking for the same customer; checking with the platform");
      const cancelledAt = new Date(Math.max(heldAt.getTime() + random.float(3 * HOUR, 24 * HOUR), completed + 25 * HOUR));
      const reason = "Duplicate booking confirmed by the booking platform; the customer was refunded there";
      story.change(cancelledAt, ctx.admin, "payout.cancelled", { event: "cancel", data: { cancelReason: reason }, reason });
      return;
    }
    case "late_cancel": {
      // booking.cancelled and payout.cancelled: one transaction (lib/bookings/cancel-booking.ts).
      const cancelledAt = new Date(completed + random.float(1 * HOUR, Math.min(40 * HOUR, age - 0.3 * HOUR)));
      const reason = random.pick(LATE_CANCELLATION_REASONS);
      const receivedAt = addMs(cancelledAt, random.int(800, 4_000));
      booking.cancelledAt = cancelledAt;
      booking.cancellationReason = reason;
      booking.updatedAt = receivedAt;
      story.record({
        actor: ACTORS.bookingWebhook,
        action: "booking.cancelled",
        entityType: "booking",
        entityId: b.id,
        reason,
        after: { cancelledAt: cancelledAt.toISOString() },
        at: receivedAt,
      });
      story.change(addMs(receivedAt, random.int(2, 40)), ACTORS.bookingWebhook, "payout.cancelled", {
        event: "cancel",
        data: { cancelReason: "booking cancelled" },
        reason,
      });
      return;
    }
    case "dispute_open": {
      const openedAt = new Date(completed + random.float(1 * HOUR, Math.min(46 * HOUR, age - 0.25 * HOUR)));
      openDispute(ctx, b, story, openedAt, "platform");
      return;
    }
    case "dispute_provider_won":
    case "dispute_partial":
    case "dispute_customer_won":
    case "dispute_tip_refund": {
      const openedAt = new Date(completed + random.float(3 * HOUR, 40 * HOUR));
      const dispute = openDispute(ctx, b, story, openedAt, "platform");
      let resolvedAt = addMs(openedAt, random.float(12 * HOUR, 96 * HOUR));
      if (b.scenario === "dispute_customer_won") resolvedAt = new Date(Math.max(resolvedAt.getTime(), completed + 26 * HOUR));
      story.advanceTo(resolvedAt);
      const unit = b.currency === "JPY" ? 100 : 50;
      let outcome: DisputeOutcome = "provider_won";
      let refund = 0;
      let scope: DisputeScope = "booking";
      if (b.scenario === "dispute_partial") {
        outcome = "partial";
        refund = Math.max(unit, Math.round((payout.providerShare * random.float(0.25, 0.6)) / unit) * unit);
      } else if (b.scenario === "dispute_tip_refund") {
        outcome = "customer_won";
        refund = payout.tipAmount;
        scope = "tip";
      } else if (b.scenario === "dispute_customer_won") {
        outcome = "customer_won";
        refund = payout.providerShare + payout.tipAmount;
        scope = payout.tipAmount > 0 ? "both" : "booking";
      }
      const recordedAt = resolveDispute(ctx, story, dispute, resolvedAt, outcome, refund, scope);
      // The same transaction brings the payout in line (lib/payouts/sync-payout-with-booking.ts).
      const cause =
        refund > 0 ? `dispute resolved (${outcome}), refund ${formatMoney(refund, b.currency)}` : `dispute resolved (${outcome})`;
      let at = addMs(recordedAt, random.int(2, 30));
      if (refund > 0) {
        story.change(at, dispute.actor, "payout.amount_adjusted", {
          data: { refundedAmount: payout.refundedAmount + refund },
          reason: cause,
        });
        dispute.row.refundAppliedAt = payout.updatedAt;
        at = addMs(at, random.int(2, 20));
      }
      if (payout.amount === 0) {
        story.change(at, dispute.actor, "payout.cancelled", {
          event: "cancel",
          data: { cancelReason: FULLY_REFUNDED },
          reason: FULLY_REFUNDED,
        });
        return;
      }
      story.change(at, dispute.actor, "payout.released", { event: "release", reason: "all disputes resolved" });
      story.runTransfer(transferAfter(at.getTime()), success);
      return;
    }
    case "debt_recovered":
      recoverDebt(ctx, story, soonAfterDue());
      return;
    case "post_dispute_open":
    case "post_provider_won":
    case "post_reversed":
    case "post_partially_reversed":
    case "post_reversal_failed": {
      const transferredAt = story.runTransfer(soonAfterDue(), success);
      const openedAt = addMs(transferredAt, random.float(2 * DAY, 8 * DAY));
      const dispute = openDispute(ctx, b, story, openedAt, random.chance(0.5) ? "stripe" : "platform");
      if (b.scenario === "post_dispute_open") return;
      const resolvedAt = addMs(openedAt, random.float(1 * DAY, 5 * DAY));
      if (b.scenario === "post_provider_won") {
        resolveDispute(ctx, story, dispute, resolvedAt, "provider_won", 0, "booking");
        return;
      }
      const partial = b.scenario === "post_partially_reversed";
      const unit = b.currency === "JPY" ? 100 : 50;
      const amount = partial
        ? clamp(Math.round((payout.amount * random.float(0.2, 0.6)) / unit) * unit, unit, payout.amount - unit)
        : payout.amount;
      const scope: DisputeScope = payout.tipAmount > 0 && !partial ? "both" : "booking";
      const recordedAt = resolveDispute(ctx, story, dispute, resolvedAt, partial ? "partial" : "customer_won", amount, scope);
      reverse(ctx, story, dispute, addMs(recordedAt, random.int(2, 30)), amount, b.scenario === "post_reversal_failed");
      return;
    }
  }
}

function adminHold(ctx: TDemoContext, story: PayoutStory, at: Date, reason: string): void {
  story.change(at, ctx.operator, "payout.held", {
    event: "hold",
    data: { holdReason: "admin_hold", holdNote: reason },
    reason,
  });
}

/** Starts the transfer unless it would start in the last moments (then it is still due). */
/**
 * The claim nets the provider's open debt in the payout's currency (lib/payouts/recover-debts.ts):
 * reserved, then applied with the transfer of what is left, or, when the debt takes all of it,
 * closed as applied to debt without a transfer; the debt shows what is left.
 */
function recoverDebt(ctx: TDemoContext, story: PayoutStory, claimAt: Date): void {
  const payout = story.payout;
  story.advanceTo(claimAt);
  const debt = ctx.out.debts.find((d) => d.providerId === payout.providerId && d.currency === payout.currency && d.status === "open");
  if (!debt?.id || new Date(debt.createdAt ?? 0) >= claimAt || claimAt.getTime() + MINUTE > ctx.nowMs) {
    throw new Error("seed: the debt to recover must be open before the payout is claimed");
  }
  const take = Math.min(debt.amount - (debt.recoveredAmount ?? 0), payout.amount);
  const details = { debtRecoveries: [{ debtId: debt.id, amount: take }], debtRecovered: take };
  const why = `${formatMoney(take, payout.currency)} of the provider's open debts (1 debt)`;
  let doneAt = claimAt;
  if (take === payout.amount) {
    story.change(claimAt, ACTORS.transfer, "payout.applied_to_debt", {
      event: "apply_to_debt",
      data: { debtRecoveredAmount: take },
      reason: `${why} took all of it: nothing is transferred`,
      details,
    });
  } else {
    story.change(claimAt, ACTORS.transfer, "payout.debt_recovery_reserved", {
      data: { debtRecoveredAmount: take },
      reason: `${why} kept from the transfer`,
      details,
    });
    doneAt = story.runTransfer(claimAt, [{ kind: "success" }]);
  }
  const recovered = (debt.recoveredAmount ?? 0) + take;
  const left = debt.amount - recovered;
  Object.assign(debt, { recoveredAmount: recovered, ...(left === 0 ? { status: "settled", settledAt: doneAt } : {}) });
  ctx.out.debtRecoveries.push({
    id: ctx.ids.uuid(),
    debtId: debt.id,
    payoutId: payout.id,
    amount: take,
    currency: payout.currency,
    status: "applied",
    createdAt: claimAt,
    updatedAt: doneAt,
    appliedAt: doneAt,
  });
  story.record({
    actor: ACTORS.transfer,
    action: "provider.debt_recovered",
    entityType: "payout",
    entityId: debt.payoutId,
    reason: `recovered from payout ${payout.id}`,
    after: { debtId: debt.id, recoveredFromPayoutId: payout.id, amount: take, currency: payout.currency, left, settled: left === 0 },
    at: doneAt,
  });
}

function transferIfStarted(ctx: TDemoContext, story: PayoutStory, start: Date, outcomes: readonly TAttemptOutcome[]): void {
  if (start.getTime() + MINUTE > ctx.nowMs) return;
  story.runTransfer(start, outcomes);
}
