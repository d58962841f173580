// Writes one payout's history the way the app would have: every change goes through the
// payout state machine (lib/payouts/state-machine.ts), recomputes the amount from its parts
// (bumping amountVersion when it moves), bumps the row version and appends an audit entry
// with before/after snapshots shaped like lib/payouts/change-payout.ts writes them. Tips
// that arrive while the story runs join the payout at the moment they were received.
import type { Prisma } from "@/generated/prisma/client";
import type { HoldReason } from "@/generated/prisma/enums";
import type { TAuditAction } from "@/lib/audit/audit-actions";
import { toAuditRow, type TActor, type TAuditEntry } from "@/lib/audit/record-audit";
import { payoutAmount } from "@/lib/money/money";
import { payoutSnapshot } from "@/lib/payouts/payout-snapshot";
import { nextStatus, type TPayoutEvent } from "@/lib/payouts/state-machine";
import { MAX_TRANSFER_ATTEMPTS } from "@/lib/payouts/transfer-types";
import { reversalIdempotencyKey, transferIdempotencyKey as stripeTransferKey } from "@/lib/stripe/transfers";

import type { TDemoDataset, TPayoutRow } from "./demo-dataset-types";
import type { TIdFactory, TRandom } from "./prng";

/** The function ids the engine's audit entries carry (inngest/deps.ts: `inngest:<fn>`). */
export const ACTORS = {
  bookingWebhook: { type: "webhook", id: "booking-platform", label: "Booking platform" },
  stripeWebhook: { type: "webhook", id: "stripe", label: "Stripe" },
  transfer: { type: "system", id: "inngest:transfer-payout", label: "Payout engine" },
  reversal: { type: "system", id: "inngest:reverse-transfer", label: "Payout engine" },
} as const satisfies Record<string, TActor>;

export type TStoryContext = { now: Date; random: TRandom; ids: TIdFactory; out: TDemoDataset };

export type TPendingTip = {
  id: string;
  externalId: string;
  bookingId: string;
  amount: number;
  currency: string;
  stripeChargeId: string;
  tippedAt: Date;
  receivedAt: Date;
};

/** A Stripe error as lib/stripe/classify-error.ts records it. */
export type TStripeError = {
  /** The SDK's error class name. */
  type: string;
  code: string | null;
  message: string;
  retryable: boolean;
  /** How long the failed call took, in ms. */
  durationMs: readonly [number, number];
  hasRequestId: boolean;
};

export const STRIPE_ERRORS = {
  connection: {
    type: "StripeConnectionError",
    code: null,
    message: "An error occurred with our connection to Stripe. Request was retried 2 times.",
    retryable: true,
    durationMs: [20_000, 42_000],
    hasRequestId: false,
  },
  api: {
    type: "StripeAPIError",
    code: null,
    message: "An unknown error occurred",
    retryable: true,
    durationMs: [900, 4_000],
    hasRequestId: true,
  },
  rateLimit: {
    type: "StripeRateLimitError",
    code: "rate_limit",
    message: "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.",
    retryable: true,
    durationMs: [150, 600],
    hasRequestId: true,
  },
} as const satisfies Record<string, TStripeError>;

export function invalidDestinationError(accountId: string): TStripeError {
  return {
    type: "StripeInvalidRequestError",
    code: "resource_missing",
    message: `No such destination: '${accountId}'`,
    retryable: false,
    durationMs: [200, 700],
    hasRequestId: true,
  };
}

/** How the payout engine words an error in lastError, audit reasons and alerts. */
export function describeStripeError(error: Pick<TStripeError, "type" | "code" | "message">): string {
  return `${error.type}${error.code ? ` (${error.code})` : ""}: ${error.message}`;
}

export type TAttemptOutcome = { kind: "success" } | { kind: "pending" } | { kind: "error"; error: TStripeError };

/** The transfer key the engine uses (lib/stripe/transfers.ts) for this payout and amount version. */
export function transferIdempotencyKey(payout: Pick<TPayoutRow, "id" | "amountVersion">): string {
  return stripeTransferKey(payout.id, payout.amountVersion);
}

export { reversalIdempotencyKey };

export function addMs(at: Date, ms: number): Date {
  return new Date(at.getTime() + ms);
}

export { payoutSnapshot };

export type TPayoutChange = {
  /** The state-machine event; omit for changes that keep the status. */
  event?: TPayoutEvent;
  data?: Partial<
    Pick<
      TPayoutRow,
      | "tipAmount"
      | "refundedAmount"
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
  details?: Prisma.InputJsonObject;
};

export class PayoutStory {
  private readonly pendingTips: TPendingTip[];
  /** TransferAttempt.attemptNumber keeps counting across runs (payout.attempts restarts on retry). */
  private attemptSeq = 0;

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
   * One transfer run: one attempt per outcome, with the engine's backoff between failures.
   * An error as the last outcome fails the payout. Returns when the run ended.
   */
  runTransfer(start: Date, outcomes: readonly TAttemptOutcome[]): Date {
    const { ids, random } = this.ctx;
    const runId = ids.ulid(start);
    let at = start;
    for (const [index, outcome] of outcomes.entries()) {
      const attempts = this.payout.attempts + 1;
      if (this.payout.status === "processing") {
        this.change(at, ACTORS.transfer, "payout.transfer_attempt_started", {
          data: { attempts, processingStartedAt: at },
          reason: `attempt ${attempts}`,
          runId,
        });
      } else {
        this.change(at, ACTORS.transfer, "payout.transfer_started", {
          event: "claim",
          data: { attempts, processingStartedAt: at },
          reason: `attempt ${attempts}`,
          runId,
        });
      }
      this.attemptSeq += 1;
      const attempt: Prisma.TransferAttemptCreateManyInput = {
        id: ids.uuid(),
        payoutId: this.payout.id,
        attemptNumber: this.attemptSeq,
        amount: this.payout.amount,
        currency: this.payout.currency,
        amountVersion: this.payout.amountVersion,
        idempotencyKey: transferIdempotencyKey(this.payout),
        status: "started",
        runId,
        startedAt: this.payout.updatedAt,
      };
      this.ctx.out.transferAttempts.push(attempt);
      if (outcome.kind === "pending") return at;

      if (outcome.kind === "success") {
        const finishedAt = addMs(at, random.int(350, 1_800));
        const transferId = ids.stripe("tr");
        attempt.status = "succeeded";
        attempt.stripeTransferId = transferId;
        attempt.stripeRequestId = ids.stripe("req", 14);
        attempt.finishedAt = finishedAt;
        this.change(finishedAt, ACTORS.transfer, "payout.transferred", {
          event: "transfer_succeeded",
          data: { stripeTransferId: transferId, transferredAt: finishedAt, lastError: null, processingStartedAt: null },
          runId,
          details: {
            stripeTransferId: transferId,
            transferAmount: this.payout.amount,
            transferCurrency: this.payout.currency.toLowerCase(),
          },
        });
        return finishedAt;
      }

      const { error } = outcome;
      const finishedAt = addMs(at, random.int(error.durationMs[0], error.durationMs[1]));
      const lastError = describeStripeError(error);
      attempt.status = "failed";
      attempt.retryable = error.retryable;
      attempt.errorType = error.type;
      attempt.errorCode = error.code;
      attempt.errorMessage = error.message;
      attempt.stripeRequestId = error.hasRequestId ? ids.stripe("req", 14) : null;
      attempt.finishedAt = finishedAt;
      if (index === outcomes.length - 1) {
        if (error.retryable && attempts < MAX_TRANSFER_ATTEMPTS)
          throw new Error(`seed: a run may only give up after ${MAX_TRANSFER_ATTEMPTS} retryable errors`);
        this.change(finishedAt, ACTORS.transfer, "payout.failed", {
          event: "transfer_failed",
          data: { lastError, processingStartedAt: null },
          reason: lastError,
          runId,
        });
        return finishedAt;
      }
      this.change(finishedAt, ACTORS.transfer, "payout.transfer_attempt_failed", {
        event: "transfer_retry",
        data: { lastError },
        reason: lastError,
        runId,
      });
      // Inngest's backoff between attempts: tens of seconds, then minutes.
      at = addMs(finishedAt, (index === 0 ? random.int(15, 45) : random.int(60, 240)) * 1_000);
    }
    return at;
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

  /** lib/payouts/change-payout.ts `changePayout`, in memory. */
  private apply(requestedAt: Date, actor: TActor, action: TAuditAction, change: TPayoutChange): void {
    const p = this.payout;
    if (requestedAt.getTime() < p.updatedAt.getTime()) {
      throw new Error(`seed: ${action} on payout ${p.id} goes back in time`);
    }
    // Strictly after the previous change, so the timeline has one order.
    const at = requestedAt.getTime() > p.updatedAt.getTime() ? requestedAt : addMs(requestedAt, 1);
    const before = payoutSnapshot(p);
    const data = change.data ?? {};
    const status = change.event ? nextStatus(p.status, change.event) : p.status;
    Object.assign(p, data);
    const amount = payoutAmount(p);
    if (amount !== p.amount) p.amountVersion += 1;
    p.amount = amount;
    p.status = status;
    // A payout that leaves on_hold forgets why it was held.
    if (status !== "on_hold" && data.holdReason === undefined) {
      p.holdReason = null;
      p.holdNote = null;
    }
    p.version += 1;
    p.updatedAt = at;
    this.ctx.out.audit.push(
      toAuditRow({
        actor,
        action,
        entityType: "payout",
        entityId: p.id,
        reason: change.reason ?? null,
        before,
        after: { ...payoutSnapshot(p), ...(change.details ?? {}) },
        runId: change.runId ?? null,
        at,
      }),
    );
  }
}
