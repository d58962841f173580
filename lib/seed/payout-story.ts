// Writes one payout's history the way the app would have: every change is the engine's own
// (lib/payouts/payout-change.ts: the state machine, the amount from its parts and its version,
// the row version) with an audit entry whose before/after snapshots are lib/payouts/change-payout.ts's.
// A transfer run claims the payout, plans its transfer as the engine does when the charge is not
// at Stripe (one leg from the platform's balance, keyed by `legKey`), records each attempt, and
// gives up after MAX_TRANSFER_ATTEMPTS counted failures. Tips that arrive while the story runs
// join the payout at the moment they were received.
import type { Prisma } from "@/generated/prisma/client";
import type { HoldReason } from "@/generated/prisma/enums";
import type { TAuditAction } from "@/lib/audit/audit-actions";
import type { TPayoutAuditDetails } from "@/lib/audit/audit-snapshots";
import { payoutChangeEntry, toAuditRow, type TActor, type TAuditEntry } from "@/lib/audit/record-audit";
import { describeStripeFailure, failedAttemptFields } from "@/lib/payouts/failed-attempt";
import { payoutFailedAlert, transferOutcomeUnknownAlert } from "@/lib/payouts/payout-alert-texts";
import { changedPayoutFields } from "@/lib/payouts/payout-change";
import { payoutSnapshot } from "@/lib/payouts/payout-snapshot";
import { legKey } from "@/lib/payouts/payout-transfers";
import type { TPayoutEvent } from "@/lib/payouts/state-machine";
import { STUCK_PROCESSING_MS } from "@/lib/payouts/sweep-payouts";
import { MAX_TRANSFER_ATTEMPTS } from "@/lib/payouts/transfer-types";

import { addMs, type TPendingTip } from "./demo-context";
import type { TDemoDataset, TPayoutRow } from "./demo-dataset-types";
import type { TStripeError } from "./demo-stripe-errors";
import type { TIdFactory, TRandom } from "./prng";

/** The function ids the engine's audit entries carry (inngest/deps.ts: `inngest:<fn>`). */
export const ACTORS = {
  bookingWebhook: { type: "webhook", id: "booking-platform", label: "Booking platform" },
  stripeWebhook: { type: "webhook", id: "stripe", label: "Stripe" },
  transfer: { type: "system", id: "inngest:transfer-payout", label: "Payout engine" },
  reversal: { type: "system", id: "inngest:reverse-transfer", label: "Payout engine" },
  sweep: { type: "system", id: "inngest:reconcile-payouts", label: "Payout engine" },
} as const satisfies Record<string, TActor>;

export type TStoryContext = { now: Date; random: TRandom; ids: TIdFactory; out: TDemoDataset };

export type TAttemptOutcome = { kind: "success" } | { kind: "pending" } | { kind: "error"; error: TStripeError };

export { payoutSnapshot };

/** A planned transfer of the payout, as the PayoutTransfer row it is written as. */
type TLeg = Prisma.PayoutTransferCreateManyInput & { id: string; leg: number; refusals: number };

export type TPayoutChange = {
  /** The state-machine event; omit for changes that keep the status. */
  event?: TPayoutEvent;
  data?: Partial<
    Pick<
      TPayoutRow,
      | "tipAmount"
      | "refundedAmount"
      | "debtRecoveredAmount"
      | "reversedAmount"
      | "holdNote"
      | "cancelReason"
      | "attempts"
      | "lastError"
      | "processingStartedAt"
      | "stripeTransferId"
      | "transferredAt"
    > & { holdReason: HoldReason | null }
  >;
  reason?: string | null;
  runId?: string | null;
  /** Extra facts for the audit entry's "after". */
  details?: TPayoutAuditDetails;
};

export class PayoutStory {
  private readonly pendingTips: TPendingTip[];
  /** TransferAttempt.attemptNumber keeps counting across runs (payout.attempts restarts on retry). */
  private attemptSeq = 0;
  /** The payout's planned transfers (PayoutTransfer), one per amount version it was claimed at. */
  private readonly legs: TLeg[] = [];
  private lastFailedAlert: Prisma.AlertCreateManyInput | null = null;

  constructor(
    private readonly ctx: TStoryContext,
    readonly payout: TPayoutRow,
    tips: readonly TPendingTip[],
    private readonly tipActor: TActor,
  ) {
    this.pendingTips = [...tips].sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
  }

  /** Applies a change at `at` (tips received before it join first) and audits it. */
  change(at: Date, actor: TActor, action: TAuditAction, change: TPayoutChange): void {
    this.flushTips(at);
    this.apply(at, actor, action, change);
  }

  /** Lets the tips received up to `at` join the payout (before reading its amounts). */
  advanceTo(at: Date): void {
    this.flushTips(at);
  }

  /** An audit entry that does not change the payout row (a dispute, a booking, a note on the payout). */
  record(entry: TAuditEntry & { at: Date }): void {
    this.flushTips(entry.at);
    this.ctx.out.audit.push(toAuditRow(entry));
  }

  /**
   * One transfer run: one attempt per outcome, with the engine's backoff between failures, and
   * the engine's verdict on each failure (lib/payouts/transfer-payout.ts): a try Stripe turned
   * away is not counted; a permanent refusal, or MAX_TRANSFER_ATTEMPTS counted failures, fail the
   * payout (with its alert), unless the last may have reached Stripe: then it stays processing
   * with a warning until the reconciliation sweep finds no transfer an hour later and fails it.
   * The outcomes must end where the engine would (after a success, a pending try, or a failure).
   * Returns when the run (or the sweep that settled it) ended.
   */
  runTransfer(start: Date, outcomes: readonly TAttemptOutcome[]): Date {
    const { ids, random } = this.ctx;
    const runId = ids.ulid(start);
    let at = start;
    for (const [index, outcome] of outcomes.entries()) {
      const attempts = this.payout.attempts + 1;
      const claimed = this.payout.status === "processing";
      this.change(at, ACTORS.transfer, claimed ? "payout.transfer_attempt_started" : "payout.transfer_started", {
        ...(claimed ? {} : { event: "claim" as const }),
        data: { attempts, processingStartedAt: at },
        reason: `attempt ${attempts}`,
        runId,
      });
      const leg = this.planLeg(at);
      this.attemptSeq += 1;
      const attempt: Prisma.TransferAttemptCreateManyInput = {
        id: ids.uuid(),
        payoutId: this.payout.id,
        attemptNumber: this.attemptSeq,
        amount: this.payout.amount,
        currency: this.payout.currency,
        amountVersion: this.payout.amountVersion,
        idempotencyKey: legKey(leg),
        status: "started",
        counted: true,
        runId,
        startedAt: this.payout.updatedAt,
      };
      this.ctx.out.transferAttempts.push(attempt);
      const last = index === outcomes.length - 1;
      if (outcome.kind === "pending") {
        if (!last) throw new Error("seed: a pending try ends its run");
        return at;
      }

      if (outcome.kind === "success") {
        if (!last) throw new Error("seed: a transfer made ends its run");
        const finishedAt = addMs(at, random.int(350, 1_800));
        const transferId = ids.stripe("tr");
        Object.assign(leg, { status: "succeeded", stripeTransferId: transferId, transferredAt: finishedAt, updatedAt: finishedAt });
        Object.assign(attempt, {
          status: "succeeded",
          stripeTransferId: transferId,
          stripeRequestId: ids.stripe("req", 14),
          finishedAt,
        });
        // As completeIfPaid words a payout paid with one transfer.
        this.change(finishedAt, ACTORS.transfer, "payout.transferred", {
          event: "transfer_succeeded",
          data: { stripeTransferId: transferId, transferredAt: finishedAt, lastError: null, processingStartedAt: null },
          reason: `Stripe made transfer ${transferId}`,
          runId,
          details: {
            stripeTransferId: transferId,
            transferAmount: leg.amount,
            transferCurrency: leg.currency.toLowerCase(),
            transfers: [{ stripeTransferId: transferId, amount: leg.amount, currency: leg.currency, sourceChargeId: null }],
          },
        });
        return finishedAt;
      }

      const { failure } = outcome.error;
      const finishedAt = addMs(at, random.int(outcome.error.durationMs[0], outcome.error.durationMs[1]));
      const error = describeStripeFailure(failure);
      Object.assign(attempt, {
        ...failedAttemptFields(failure, outcome.error.hasRequestId ? ids.stripe("req", 14) : null),
        finishedAt,
      });
      const gaveUp = failure.counts && (failure.retry === "never" || attempts >= MAX_TRANSFER_ATTEMPTS);
      if (gaveUp !== last) throw new Error(`seed: the engine ${gaveUp ? "gives up" : "tries again"} after attempt ${attempts}`);
      if (!failure.counts) {
        this.change(finishedAt, ACTORS.transfer, "payout.transfer_attempt_turned_away", {
          event: "transfer_retry",
          data: { lastError: error, attempts: Math.max(0, this.payout.attempts - 1) },
          reason: `${error} (not counted)`,
          runId,
        });
      } else if (gaveUp && failure.outcomeUnknown) {
        return this.outcomeUnknown(finishedAt, error, runId, attempt);
      } else if (gaveUp) {
        this.fail(finishedAt, ACTORS.transfer, error, runId);
        return finishedAt;
      } else {
        this.change(finishedAt, ACTORS.transfer, "payout.transfer_attempt_failed", {
          event: "transfer_retry",
          data: { lastError: error },
          reason: error,
          runId,
        });
      }
      // Inngest's backoff between attempts: tens of seconds, then minutes.
      at = addMs(finishedAt, (index === 0 ? random.int(15, 45) : random.int(60, 240)) * 1_000);
    }
    return at;
  }

  /** The payout's transfer made (the story's only one), for the reversals that take from it. */
  madeTransfer(): TLeg & { stripeTransferId: string } {
    const made = this.legs.find((l) => l.status === "succeeded");
    if (!made?.stripeTransferId) throw new Error(`seed: payout ${this.payout.id} has no transfer made`);
    return { ...made, stripeTransferId: made.stripeTransferId };
  }

  /** The payout_failed alert of the story's last failure (markFailed raises one per failure). */
  get failedAlert(): Prisma.AlertCreateManyInput {
    if (!this.lastFailedAlert) throw new Error(`seed: payout ${this.payout.id} never failed`);
    return this.lastFailedAlert;
  }

  /**
   * The plan the claim makes once per amount version (lib/payouts/payout-transfers.ts): the demo's
   * charges are not at Stripe, so one leg from the platform's balance in the payout's currency.
   */
  private planLeg(at: Date): TLeg {
    const { amountVersion } = this.payout;
    const existing = this.legs.find((l) => l.amountVersion === amountVersion);
    if (existing) return existing;
    const leg = {
      id: this.ctx.ids.uuid(),
      payoutId: this.payout.id,
      kind: "payout",
      amountVersion,
      leg: 1,
      payoutAmount: this.payout.amount,
      amount: this.payout.amount,
      currency: this.payout.currency,
      status: "pending",
      refusals: 0,
      createdAt: at,
      updatedAt: at,
    } satisfies Omit<TLeg, "idempotencyKey">;
    const planned: TLeg = { ...leg, idempotencyKey: legKey(leg) };
    for (const stale of this.legs) if (stale.status === "pending") Object.assign(stale, { status: "superseded", updatedAt: at });
    this.legs.push(planned);
    this.ctx.out.transfers.push(planned);
    return planned;
  }

  /** markFailed: failed, audited, one critical alert keyed by the last attempt. */
  private fail(at: Date, actor: TActor, error: string, runId: string | null): void {
    this.change(at, actor, "payout.failed", {
      event: "transfer_failed",
      data: { lastError: error, processingStartedAt: null },
      reason: error,
      runId,
    });
    const { payout } = this;
    const alert: Prisma.AlertCreateManyInput = {
      id: this.ctx.ids.uuid(),
      ...payoutFailedAlert(payout, error, this.attemptSeq),
      createdAt: addMs(at, this.ctx.random.int(2, 40)),
    };
    this.ctx.out.alerts.push(alert);
    this.lastFailedAlert = alert;
  }

  /**
   * The last counted try may have reached Stripe: the payout stays processing, with a warning;
   * the reconciliation sweep (every 15 minutes) settles it once it has been processing for
   * STUCK_PROCESSING_MS: no transfer at Stripe, so the attempt is closed and the payout failed.
   */
  private outcomeUnknown(at: Date, error: string, runId: string, attempt: Prisma.TransferAttemptCreateManyInput): Date {
    const { ids, random, out } = this.ctx;
    const { payout } = this;
    this.change(at, ACTORS.transfer, "payout.transfer_outcome_unknown", { data: { lastError: error }, reason: error, runId });
    out.alerts.push({
      id: ids.uuid(),
      ...transferOutcomeUnknownAlert(payout, error, String(attempt.id)),
      createdAt: addMs(at, random.int(2, 40)),
    });
    const startedAt = payout.processingStartedAt ?? at;
    const sweptAt = addMs(startedAt, STUCK_PROCESSING_MS + random.int(1, 15 * 60) * 1_000);
    if (sweptAt.getTime() >= this.ctx.now.getTime()) throw new Error(`seed: payout ${payout.id} would still wait for the sweep`);
    this.fail(sweptAt, ACTORS.sweep, "stuck in processing; no transfer found at Stripe", ids.ulid(sweptAt));
    return sweptAt;
  }

  /** Applies the tips still to come; refuses tips that would arrive when they cannot join. */
  finish(): void {
    this.flushTips(this.ctx.now);
    if (this.pendingTips.length > 0) throw new Error(`seed: tip ${this.pendingTips[0]?.externalId} is in the future`);
    if (this.payout.updatedAt.getTime() > this.ctx.now.getTime()) {
      throw new Error(`seed: payout ${this.payout.id} has a change after now`);
    }
  }

  private flushTips(until: Date): void {
    const { random, out } = this.ctx;
    while (this.pendingTips[0] && this.pendingTips[0].receivedAt.getTime() <= until.getTime()) {
      const tip = this.pendingTips.shift();
      if (!tip) break;
      if (this.payout.status !== "scheduled" && this.payout.status !== "on_hold") {
        throw new Error(`seed: tip ${tip.externalId} arrives when payout ${this.payout.id} is ${this.payout.status}`);
      }
      out.tips.push({
        id: tip.id,
        externalId: tip.externalId,
        bookingId: tip.bookingId,
        payoutId: this.payout.id,
        amount: tip.amount,
        currency: tip.currency,
        status: "accepted",
        stripeChargeId: tip.stripeChargeId,
        tippedAt: tip.tippedAt,
        createdAt: tip.receivedAt,
      });
      out.audit.push(
        toAuditRow({
          actor: this.tipActor,
          action: "tip.accepted",
          entityType: "tip",
          entityId: tip.id,
          after: {
            bookingId: tip.bookingId,
            payoutId: this.payout.id,
            amount: tip.amount,
            currency: tip.currency,
            tippedAt: tip.tippedAt.toISOString(),
          },
          at: tip.receivedAt,
        }),
      );
      this.apply(addMs(tip.receivedAt, random.int(2, 40)), this.tipActor, "payout.amount_adjusted", {
        data: { tipAmount: this.payout.tipAmount + tip.amount },
        reason: `tip ${tip.externalId} added`,
      });
    }
  }

  /** lib/payouts/change-payout.ts `changePayout`, in memory: the same fields (payout-change.ts), the same audit entry. */
  private apply(requestedAt: Date, actor: TActor, action: TAuditAction, change: TPayoutChange): void {
    const p = this.payout;
    if (requestedAt.getTime() < p.updatedAt.getTime()) {
      throw new Error(`seed: ${action} on payout ${p.id} goes back in time`);
    }
    // Strictly after the previous change, so the timeline has one order.
    const at = requestedAt.getTime() > p.updatedAt.getTime() ? requestedAt : addMs(requestedAt, 1);
    const before = payoutSnapshot(p);
    Object.assign(p, changedPayoutFields(p, change.event, change.data ?? {}));
    p.updatedAt = at;
    this.ctx.out.audit.push(
      toAuditRow(
        payoutChangeEntry({
          actor,
          action,
          entityId: p.id,
          reason: change.reason ?? null,
          before,
          after: { ...payoutSnapshot(p), ...(change.details ?? {}) },
          runId: change.runId ?? null,
          at,
        }),
      ),
    );
  }
}
