import "server-only";

import type Stripe from "stripe";

import type { Payout, TransferAttempt } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import type { Tx } from "@/lib/db";
import { formatMoney } from "@/lib/money/format-money";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";
import { classifyStripeError, type TStripeFailure } from "@/lib/stripe/classify-error";
import { updateProviderAccount } from "@/lib/providers/update-provider-account";
import { createTransfer, findTransferForPayout, retrieveAccountReadiness, transferIdempotencyKey } from "@/lib/stripe/transfers";

import { changePayout } from "./change-payout";
import { resolveContext, TX_OPTIONS, type TResolvedContext, type TServiceContext } from "./context";
import { describeIneligibility, evaluateEligibility } from "./eligibility";
import { eligibilityFacts, lockPayoutAndBooking } from "./sync-payout-with-booking";

/** Attempts per transfer before the payout fails and an admin is alerted. */
export const MAX_TRANSFER_ATTEMPTS = 3;
/** How long a run's claim on a `processing` payout keeps other runs away. */
export const PROCESSING_LEASE_MS = 10 * 60 * 1000;
/**
 * Errors for requests Stripe answered with a refusal (4xx): no transfer was made, and Stripe
 * may store the refusal under the idempotency key and replay it for 24 h. The next try at the
 * same amount needs a new key, or it could never succeed (e.g. after the provider's account
 * gains the transfers capability, or the platform balance is topped up).
 */
const REFUSAL_ERROR_TYPES = ["StripeInvalidRequestError", "StripePermissionError", "StripeCardError"];
/** Delay before retrying when the platform's Stripe balance is too low. */
export const INSUFFICIENT_BALANCE_RETRY_MS = 60 * 60 * 1000;

export type TClaim = {
  payoutId: string;
  attemptId: string;
  attemptNumber: number;
  amount: number;
  currency: string;
  amountVersion: number;
  destination: string;
  transferGroup: string;
  idempotencyKey: string;
  /** Earlier attempts exist: ask Stripe whether one of them went through before sending. */
  lookupFirst: boolean;
  /** Attempts are used up (a crashed run): only look the transfer up, never send. */
  lookupOnly: boolean;
};

export type TClaimResult =
  | { kind: "claimed"; claim: TClaim }
  | { kind: "skipped"; reason: "already_settled" | "not_eligible" | "held" | "in_flight"; status: Payout["status"]; detail?: string };

export type TTransferOutcome =
  | { kind: "succeeded"; transfer: Pick<Stripe.Transfer, "id" | "amount" | "currency">; recovered: boolean }
  | { kind: "deferred_for_dispute" }
  | { kind: "failed"; failure: TStripeFailure };

export type TTransferResult =
  | { kind: "skipped"; reason: string; status: Payout["status"]; detail?: string }
  | { kind: "transferred"; stripeTransferId: string; attemptNumber: number }
  | { kind: "held_for_dispute" }
  | { kind: "retry"; attemptNumber: number; delayMs: number | null; error: string }
  | { kind: "failed"; attemptNumber: number; error: string };

export function transferGroupFor(booking: { externalId: string }): string {
  return `booking_${booking.externalId}`;
}

/**
 * Step 1, a short transaction: claims a due, eligible payout (`scheduled` → `processing`,
 * guarded by its version) or continues this run's own claim, and records the attempt.
 * A payout another run is transferring is left alone.
 */
export async function claimTransfer(context: TServiceContext, input: { payoutId: string }): Promise<TClaimResult> {
  const ctx = resolveContext(context);
  return ctx.db.$transaction(async (tx) => {
    const { booking, payout } = await lockPayoutAndBooking(tx, input.payoutId);
    const now = ctx.clock.now();
    const audit = { actor: ctx.actor, runId: ctx.runId, requestId: ctx.requestId };
    let claimed: Payout;

    if (payout.status === "processing") {
      const last = await tx.transferAttempt.findFirst({ where: { payoutId: payout.id }, orderBy: { attemptNumber: "desc" } });
      const mine = last?.runId != null && last.runId === ctx.runId;
      const leaseExpired = !payout.processingStartedAt || now.getTime() - payout.processingStartedAt.getTime() > PROCESSING_LEASE_MS;
      if (!mine && !leaseExpired) return { kind: "skipped", reason: "in_flight", status: payout.status };
      claimed = await changePayout(tx, payout, {
        data: { attempts: payout.attempts + 1, processingStartedAt: now },
        audit: { ...audit, action: "payout.transfer_attempt_started", reason: `attempt ${payout.attempts + 1}` },
      });
    } else if (payout.status === "scheduled") {
      const openDisputes = await tx.dispute.count({ where: { bookingId: booking.id, status: "open" } });
      const eligibility = evaluateEligibility(eligibilityFacts(payout, booking, openDisputes), now);
      if (!eligibility.eligible) {
        const reasons = eligibility.reasons;
        if (reasons.includes("dispute_open") || reasons.includes("provider_account_not_ready")) {
          const holdReason = reasons.includes("dispute_open") ? "dispute_open" : "provider_account_not_ready";
          await changePayout(tx, payout, {
            event: "hold",
            data: { holdReason, holdNote: describeIneligibility(reasons) },
            audit: { ...audit, action: "payout.held", reason: describeIneligibility(reasons) },
          });
          return { kind: "skipped", reason: "held", status: "on_hold", detail: describeIneligibility(reasons) };
        }
        return { kind: "skipped", reason: "not_eligible", status: payout.status, detail: describeIneligibility(reasons) };
      }
      claimed = await changePayout(tx, payout, {
        event: "claim",
        data: { attempts: payout.attempts + 1, processingStartedAt: now },
        audit: { ...audit, action: "payout.transfer_started", reason: `attempt ${payout.attempts + 1}` },
      });
    } else {
      const reason = ["transferred", "partially_reversed", "reversed", "cancelled"].includes(payout.status) ? "already_settled" : "not_eligible";
      return { kind: "skipped", reason, status: payout.status };
    }

    const previous = await tx.transferAttempt.aggregate({ where: { payoutId: payout.id }, _max: { attemptNumber: true } });
    const attemptNumber = (previous._max.attemptNumber ?? 0) + 1;
    // A refusal may be stored under its key: only then does the next try need a new one.
    const refusals = await tx.transferAttempt.count({
      where: { payoutId: claimed.id, amountVersion: claimed.amountVersion, status: "failed", errorType: { in: REFUSAL_ERROR_TYPES } },
    });
    const idempotencyKey = transferIdempotencyKey(claimed.id, claimed.amountVersion, refusals);
    const attempt = await tx.transferAttempt.create({
      data: {
        payoutId: claimed.id,
        attemptNumber,
        amount: claimed.amount,
        currency: claimed.currency,
        amountVersion: claimed.amountVersion,
        idempotencyKey,
        status: "started",
        runId: ctx.runId,
      },
    });
    return {
      kind: "claimed",
      claim: {
        payoutId: claimed.id,
        attemptId: attempt.id,
        attemptNumber,
        amount: claimed.amount,
        currency: claimed.currency,
        amountVersion: claimed.amountVersion,
        // eligibility guaranteed an account id when the payout was claimed
        destination: booking.provider.stripeAccountId ?? "",
        transferGroup: transferGroupFor(booking),
        idempotencyKey,
        lookupFirst: attemptNumber > 1,
        lookupOnly: claimed.attempts > MAX_TRANSFER_ATTEMPTS,
      },
    };
  }, TX_OPTIONS);
}

/**
 * Step 2, outside any transaction: asks Stripe. If earlier attempts may have reached Stripe,
 * it first looks for their transfer (so a transfer whose answer was lost is found, not
 * repeated); right before sending it checks that no dispute opened meanwhile. The
 * idempotency key is the payout and its amount version, the same on every retry.
 */
export async function executeTransfer(context: TServiceContext, stripe: Stripe, claim: TClaim): Promise<TTransferOutcome> {
  const ctx = resolveContext(context);
  try {
    if (claim.lookupFirst || claim.lookupOnly) {
      const found = await earlierTransfer(stripe, claim);
      if (found) return found;
      if (claim.lookupOnly) {
        return {
          kind: "failed",
          failure: { retry: "never", outcomeUnknown: false, type: "attempts_exhausted", reason: "unknown", message: "No transfer found at Stripe after the last attempt." },
        };
      }
    }
    const booking = await ctx.db.payout.findUniqueOrThrow({ where: { id: claim.payoutId }, select: { bookingId: true } });
    const openDisputes = await ctx.db.dispute.count({ where: { bookingId: booking.bookingId, status: "open" } });
    if (openDisputes > 0) return { kind: "deferred_for_dispute" };

    const transfer = await createTransfer(stripe, {
      amount: claim.amount,
      currency: claim.currency,
      destination: claim.destination,
      transferGroup: claim.transferGroup,
      metadata: { payoutId: claim.payoutId, amountVersion: String(claim.amountVersion) },
      idempotencyKey: claim.idempotencyKey,
    });
    return { kind: "succeeded", transfer, recovered: false };
  } catch (error) {
    const failure = classifyStripeError(error);
    return failure.outcomeUnknown ? lookUpAfterUnknownOutcome(stripe, claim, failure) : { kind: "failed", failure };
  }
}

/** The transfer Stripe already made for this payout (an earlier request whose answer was lost), as the outcome. */
async function earlierTransfer(stripe: Stripe, claim: TClaim): Promise<TTransferOutcome | null> {
  const found = await findTransferForPayout(stripe, { transferGroup: claim.transferGroup, payoutId: claim.payoutId });
  return found ? { kind: "succeeded", transfer: found, recovered: true } : null;
}

/**
 * The request may have reached Stripe (no answer, or a 5xx): if Stripe made the transfer, it
 * is the outcome; if the look-up fails too, the outcome stays unknown.
 */
async function lookUpAfterUnknownOutcome(stripe: Stripe, claim: TClaim, failure: TStripeFailure): Promise<TTransferOutcome> {
  try {
    const found = await earlierTransfer(stripe, claim);
    if (found) return found;
  } catch {
    // Stripe unreachable: keep the first failure, whose outcome is unknown.
  }
  return { kind: "failed", failure };
}

/** Step 3, a short transaction: stores what happened to the attempt and moves the payout on. */
export async function recordTransferOutcome(
  context: TServiceContext,
  claim: TClaim,
  outcome: TTransferOutcome,
): Promise<TTransferResult> {
  const ctx = resolveContext(context);
  return ctx.db.$transaction(async (tx) => {
    const { booking, payout } = await lockPayoutAndBooking(tx, claim.payoutId);
    const attempt = await tx.transferAttempt.findUniqueOrThrow({ where: { id: claim.attemptId } });
    const now = ctx.clock.now();
    const audit = { actor: ctx.actor, runId: ctx.runId, requestId: ctx.requestId };

    if (outcome.kind === "succeeded") {
      return recordSuccess(tx, ctx, payout, attempt, outcome.transfer, outcome.recovered ? "found at Stripe after an earlier attempt" : null);
    }

    if (outcome.kind === "deferred_for_dispute") {
      await finishAttempt(tx, attempt, now, { status: "failed", retryable: null, errorType: "deferred", errorMessage: "A dispute opened before the transfer was sent." });
      const openDisputes = await tx.dispute.count({ where: { bookingId: booking.id, status: "open" } });
      if (payout.status === "processing" && openDisputes === 0) {
        // The dispute was resolved before this record: its follow-up found the payout busy.
        await changePayout(tx, payout, {
          event: "unclaim_to_scheduled",
          data: { processingStartedAt: null, attempts: Math.max(0, payout.attempts - 1) },
          audit: { ...audit, action: "payout.transfer_rescheduled", reason: "the dispute that stopped the transfer is already resolved" },
        });
        await enqueueEvent(tx, {
          name: "payout/transfer.requested",
          data: { payoutId: payout.id, reason: "dispute_resolved" },
          eventId: `dispute-window:${payout.id}:${attempt.id}`,
        });
        return { kind: "skipped", reason: "rescheduled", status: "scheduled", detail: "the dispute was resolved before the transfer was sent" };
      }
      if (payout.status === "processing") {
        await changePayout(tx, payout, {
          event: "unclaim_to_hold",
          data: { holdReason: "dispute_open", holdNote: "dispute opened before the transfer was sent", processingStartedAt: null, attempts: Math.max(0, payout.attempts - 1) },
          audit: { ...audit, action: "payout.held", reason: "dispute opened before the transfer was sent" },
        });
      }
      return { kind: "held_for_dispute" };
    }

    const { failure } = outcome;
    await finishAttempt(tx, attempt, now, {
      status: "failed",
      retryable: failure.retry !== "never",
      errorType: failure.type,
      errorCode: failure.code ?? null,
      errorMessage: failure.message,
      stripeRequestId: failure.requestId ?? null,
    });
    const error = `${failure.type}${failure.code ? ` (${failure.code})` : ""}: ${failure.message}`;
    if (payout.status !== "processing") {
      // Someone settled it meanwhile (e.g. the sweep found the transfer): nothing more to do.
      return { kind: "failed", attemptNumber: claim.attemptNumber, error };
    }
    if (failure.retry !== "never" && failure.outcomeUnknown && payout.attempts >= MAX_TRANSFER_ATTEMPTS) {
      // Stripe may have made the transfer: `failed` would let an admin cancel or change it.
      // It stays processing; the reconciliation sweep settles it against Stripe.
      await changePayout(tx, payout, {
        data: { lastError: error },
        audit: { ...audit, action: "payout.transfer_outcome_unknown", reason: error },
      });
      await raiseAlert(tx, {
        kind: "transfer_outcome_unknown",
        severity: "warning",
        title: "Transfer outcome unknown",
        message: `The last transfer attempt for payout ${payout.id} (${payout.amount} ${payout.currency}) got no clear answer from Stripe: ${error}. It stays processing until the reconciliation sweep finds the transfer at Stripe (transferred) or confirms there is none (failed).`,
        payoutId: payout.id,
        providerId: payout.providerId,
        dedupeKey: `transfer_outcome_unknown:${attempt.id}`,
      });
      return { kind: "failed", attemptNumber: claim.attemptNumber, error };
    }
    if (failure.retry === "never" || payout.attempts >= MAX_TRANSFER_ATTEMPTS) {
      await markFailed(tx, ctx, payout, error, claim.attemptNumber);
      return { kind: "failed", attemptNumber: claim.attemptNumber, error };
    }
    await changePayout(tx, payout, {
      event: "transfer_retry",
      data: { lastError: error },
      audit: { ...audit, action: "payout.transfer_attempt_failed", reason: error },
    });
    const delayMs = failure.retry === "later" ? (failure.retryAfterMs ?? INSUFFICIENT_BALANCE_RETRY_MS) : (failure.retryAfterMs ?? null);
    return { kind: "retry", attemptNumber: claim.attemptNumber, delayMs, error };
  }, TX_OPTIONS);
}

async function finishAttempt(
  tx: Tx,
  attempt: TransferAttempt,
  now: Date,
  data: Partial<Pick<TransferAttempt, "status" | "retryable" | "errorType" | "errorCode" | "errorMessage" | "stripeTransferId" | "stripeRequestId">>,
) {
  if (attempt.status !== "started") return;
  await tx.transferAttempt.update({ where: { id: attempt.id }, data: { ...data, finishedAt: now } });
}

/** Records a transfer Stripe has made; a second record of the same transfer is a no-op. */
export async function recordSuccess(
  tx: Tx,
  ctx: TResolvedContext,
  payout: Payout,
  attempt: TransferAttempt | null,
  transfer: Pick<Stripe.Transfer, "id" | "amount" | "currency">,
  note: string | null,
): Promise<TTransferResult> {
  const now = ctx.clock.now();
  if (attempt) await finishAttempt(tx, attempt, now, { status: "succeeded", stripeTransferId: transfer.id, retryable: null });
  const attemptNumber = attempt?.attemptNumber ?? 0;
  if (payout.stripeTransferId === transfer.id) return { kind: "transferred", stripeTransferId: transfer.id, attemptNumber };
  if (payout.stripeTransferId || payout.status !== "processing") {
    // Never expected: a second, different transfer for one payout. Stop and shout.
    await raiseAlert(tx, {
      kind: "unexpected_transfer",
      severity: "critical",
      title: "Unexpected Stripe transfer for a payout",
      message: `Stripe transfer ${transfer.id} was made for payout ${payout.id}, which is ${payout.status}${payout.stripeTransferId ? ` with transfer ${payout.stripeTransferId}` : ""}. Check it in Stripe.`,
      payoutId: payout.id,
      providerId: payout.providerId,
      dedupeKey: `unexpected_transfer:${transfer.id}`,
    });
    return { kind: "skipped", reason: "unexpected_transfer", status: payout.status, detail: transfer.id };
  }
  if (transfer.amount !== payout.amount || transfer.currency.toLowerCase() !== payout.currency.toLowerCase()) {
    // A transfer made for an earlier amount (its answer lost, the payout changed since) was
    // found: the money is at Stripe, so the payout is transferred; a human settles the difference.
    await raiseAlert(tx, {
      kind: "transfer_amount_mismatch",
      severity: "critical",
      title: "Transferred amount differs from the payout",
      message: `Stripe transfer ${transfer.id} for payout ${payout.id} moved ${formatMoney(transfer.amount, transfer.currency)}, but the payout is now ${formatMoney(payout.amount, payout.currency)}. Recover or pay the difference by hand.`,
      payoutId: payout.id,
      providerId: payout.providerId,
      dedupeKey: `transfer_amount_mismatch:${transfer.id}`,
    });
  }
  await changePayout(tx, payout, {
    event: "transfer_succeeded",
    data: { stripeTransferId: transfer.id, transferredAt: now, lastError: null, processingStartedAt: null },
    audit: {
      actor: ctx.actor,
      action: "payout.transferred",
      reason: note,
      runId: ctx.runId,
      requestId: ctx.requestId,
      details: { stripeTransferId: transfer.id, transferAmount: transfer.amount, transferCurrency: transfer.currency },
    },
  });
  return { kind: "transferred", stripeTransferId: transfer.id, attemptNumber };
}

/** Marks a processing payout failed, audits it and raises one admin alert. */
export async function markFailed(tx: Tx, ctx: TResolvedContext, payout: Payout, error: string, attemptNumber: number) {
  const failed = await changePayout(tx, payout, {
    event: "transfer_failed",
    data: { lastError: error, processingStartedAt: null },
    audit: { actor: ctx.actor, action: "payout.failed", reason: error, runId: ctx.runId, requestId: ctx.requestId },
  });
  await raiseAlert(tx, {
    kind: "payout_failed",
    severity: "critical",
    title: "Payout transfer failed",
    message: `Payout ${payout.id} (${payout.amount} ${payout.currency}) failed after ${payout.attempts} attempt${payout.attempts === 1 ? "" : "s"}: ${error}`,
    payoutId: payout.id,
    providerId: payout.providerId,
    dedupeKey: `payout_failed:${payout.id}:${attemptNumber}`,
  });
  return failed;
}

/**
 * Our record may say a provider's account is not ready only because Stripe never told us
 * it became ready (account.updated is sent on changes only): ask Stripe before holding.
 */
async function refreshAccountIfNotReady(context: TServiceContext, stripe: Stripe, payoutId: string): Promise<{ unconfirmed: string } | null> {
  const ctx = resolveContext(context);
  const payout = await ctx.db.payout.findUnique({ where: { id: payoutId }, select: { status: true, provider: true } });
  const account = payout?.provider.stripeAccountId;
  // Only a claim from `scheduled` checks the account (and would hold the payout).
  if (!account || payout.provider.payoutsEnabled || payout.status !== "scheduled") return null;
  try {
    const readiness = await retrieveAccountReadiness(stripe, account);
    await updateProviderAccount(ctx, { stripeAccountId: account, ...readiness });
    return null;
  } catch (error) {
    const failure = classifyStripeError(error);
    // Unknown to Stripe (a refusal): the claim holds or fails the payout as it should.
    if (failure.retry === "never") return null;
    // Stripe unreachable: holding on our possibly stale record could park a payable payout
    // for good (no account.updated comes when nothing changed). Leave it for the next try.
    return { unconfirmed: `could not ask Stripe whether account ${account} can receive payouts: ${failure.message}` };
  }
}

/** Claim, ask Stripe, record: one whole attempt. Safe to run again at any point. */
export async function transferPayout(context: TServiceContext, stripe: Stripe, input: { payoutId: string }): Promise<TTransferResult> {
  const account = await refreshAccountIfNotReady(context, stripe, input.payoutId);
  if (account) return { kind: "skipped", reason: "account_unconfirmed", status: "scheduled", detail: `${account.unconfirmed}; the reconciliation sweep tries again` };
  const claimed = await claimTransfer(context, input);
  if (claimed.kind === "skipped") return claimed;
  const outcome = await executeTransfer(context, stripe, claimed.claim);
  return recordTransferOutcome(context, claimed.claim, outcome);
}
