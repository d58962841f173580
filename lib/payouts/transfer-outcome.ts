import "server-only";

import type { AsyncResource } from "node:async_hooks";

import { Prisma, type Payout, type TransferAttempt } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import { resolveContext, TX_OPTIONS, type TResolvedContext, type TServiceContext } from "@/lib/context";
import type { Db, Tx } from "@/lib/db";
import { sqlExecute, transaction } from "@/lib/direct-sql";
import { gatheredRows } from "@/lib/gathered-rows";
import { formatMoney } from "@/lib/money/format-money";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";
import { lockStripeAccount } from "@/lib/payouts/update-provider-account";
import { BALANCE_INSUFFICIENT_RETRY_AFTER_MS, DESTINATION_NOT_READY_CODE } from "@/lib/stripe/classify-error";
import { GO_ALONE } from "@/lib/together";

import { distinctPayoutIds, inProviderOrder, workEachMember } from "./batch-members";
import { changePayout, gatheredPayoutChanges } from "./change-payout";
import {
  readOutcomeFacts,
  readOutcomeFactsOfMany,
  withTransferWritten,
  type TCompletionFacts,
  type TOutcomeFacts,
  type TOutcomeFactsInput,
} from "./completion-facts";
import { describeIneligibility } from "./eligibility";
import { describeStripeFailure, failedAttemptFields } from "./failed-attempt";
import { gatheredLegWrites } from "./gathered-leg-writes";
import { holdForAccountRefusal, isAccountNotReadyRefusal, recordRefusedAccount, type TRefusedAccount } from "./hold-for-account-refusal";
import { lockPayoutAndBooking, lockPayoutsAndBookings, type TLockedBooking } from "./lock-booking";
import { transferOutcomeUnknownAlert } from "./payout-alert-texts";
import { chargeIdsOfPayout, holdForUnmatchedTransfers } from "./payout-transfers";
import { settleTipsThatWaited, syncPayoutWithBooking } from "./sync-payout-with-booking";
import { completeIfPaid, markFailed, paidSoFar } from "./transfer-complete";
import { describeResult, holdForMoneyOutsideClaim } from "./transfer-late-outcome";
import { recordLegTransferAmong } from "./transfer-leg";
import {
  MAX_TRANSFER_ATTEMPTS,
  REFUSAL_ERROR_TYPES,
  TURNED_AWAY_ALERT_AFTER,
  TURNED_AWAY_RETRY_MS,
  type TClaim,
  type TTransferOutcome,
  type TTransferResult,
} from "./transfer-types";

/**
 * Step 3, a short transaction: stores what happened to the attempt and its transfers and moves the
 * payout on. Tips that arrived while the attempt was in flight then join the payout, or are paid
 * with a top-up after its transfer (settleTipsThatWaited). A refusal because the provider's
 * account cannot receive transfers also records what Stripe said of the account (`refusedAccount`,
 * asked after the refusal; without it, the refusal itself), in the same transaction.
 */
export async function recordTransferOutcome(
  context: TServiceContext,
  claim: TClaim,
  outcome: TTransferOutcome,
  refusedAccount?: TRefusedAccount,
): Promise<TTransferResult> {
  const ctx = resolveContext(context);
  const accountRefused = outcome.result.kind === "failed" && isAccountNotReadyRefusal(outcome.result.failure);
  return transaction(
    ctx.db,
    async (tx) => {
      // Everything said of an account takes its lock before any booking's (lib/providers/update-provider-account.ts).
      if (accountRefused) await lockStripeAccount(tx, refusedAccount?.stripeAccountId ?? claim.destination);
      const { booking, payout } = await lockPayoutAndBooking(tx, claim.payoutId);
      // What recording the outcome looks at, in one read once both locks are held (completion-facts.ts).
      const facts = await readOutcomeFacts(tx, outcomeFactsInput(claim, outcome, booking.id));
      return recordAndSettleTips(tx, ctx, claim, outcome, booking, payout, refusedAccount, facts);
    },
    TX_OPTIONS,
  );
}

/** What readOutcomeFacts reads for an attempt's outcome: the legs it made transfers for, and those transfers. */
function outcomeFactsInput(claim: TClaim, outcome: TTransferOutcome, bookingId: string): TOutcomeFactsInput {
  return {
    payoutId: claim.payoutId,
    bookingId,
    attemptId: claim.attemptId,
    legIds: outcome.made.map((m) => m.legId),
    stripeTransferIds: outcome.made.map((m) => m.transfer.id),
  };
}

/** The outcome recorded with the booking and the payout locked and its facts read; then the tips that waited for it settled. */
async function recordAndSettleTips(
  tx: Tx,
  ctx: TResolvedContext,
  claim: TClaim,
  outcome: TTransferOutcome,
  booking: TLockedBooking,
  payout: Payout,
  refusedAccount: TRefusedAccount | undefined,
  facts: TOutcomeFacts,
): Promise<TTransferResult> {
  const result = await recordOutcomeLocked(tx, ctx, claim, outcome, booking, payout, refusedAccount, facts);
  // Nothing here adds a tip (only addTip does, under the booking's lock): none waited, none waits.
  if (facts.waitingTips > 0) await settleTipsThatWaited(tx, booking, ctx);
  return result;
}

/** One attempt's outcome to record with others (recordTransferOutcomes). */
export type TOutcomeToRecord = { context: TServiceContext; claim: TClaim; outcome: TTransferOutcome };

/**
 * recordTransferOutcome of several attempts of different payouts in one transaction: their
 * bookings and payouts locked in two statements that wait for no other transaction
 * (lockPayoutsAndBookings: a payout whose rows are held elsewhere, or that does not exist, is
 * GO_ALONE), every outcome's facts read in one (readOutcomeFactsOfMany), then each outcome recorded
 * as recordTransferOutcome records it, in its caller's async context (`scopes`: its events and
 * alerts are its caller's to send after commit), in the order of their providers (batch-members.ts).
 * Not for an outcome Stripe refused for the account (that one first locks the account), nor for two
 * outcomes of one payout (the second's facts would be read before the first's writes): callers send
 * those alone. All or nothing: one that throws rolls them all back.
 */
export async function recordTransferOutcomes(
  db: Db,
  members: readonly TOutcomeToRecord[],
  scopes: readonly AsyncResource[],
): Promise<(TTransferResult | typeof GO_ALONE)[]> {
  const payoutIds = distinctPayoutIds(
    members.map((m) => m.claim.payoutId),
    "recordTransferOutcomes",
  );
  for (const m of members) {
    if (m.outcome.result.kind === "failed" && isAccountNotReadyRefusal(m.outcome.result.failure)) {
      throw new Error(`recordTransferOutcomes: the outcome of payout ${m.claim.payoutId} is an account refusal.`);
    }
  }
  return transaction(
    db,
    async (tx) => {
      const locked = await lockPayoutsAndBookings(tx, payoutIds);
      const order = inProviderOrder(payoutIds.map((id) => locked.get(id)?.payout));
      const factsOf = await readOutcomeFactsOfMany(
        tx,
        order.map((i) => outcomeFactsInput(members[i]!.claim, members[i]!.outcome, locked.get(payoutIds[i]!)!.booking.id)),
      );
      return workEachMember(
        tx,
        members.length,
        order,
        scopes,
        (i) => {
          const { context, claim, outcome } = members[i]!;
          const { booking, payout } = locked.get(claim.payoutId)!;
          const facts = factsOf.get(claim.payoutId);
          if (!facts) throw new Error(`Reading the outcome facts of payout ${claim.payoutId} returned no row.`);
          return recordAndSettleTips(tx, resolveContext(context), claim, outcome, booking, payout, undefined, facts);
        },
        // Written last to first: the legs before the payouts' changes, whose platform events read them.
        [succeededAttempts, gatheredPayoutChanges, gatheredLegWrites],
      );
    },
    TX_OPTIONS,
  );
}

async function recordOutcomeLocked(
  tx: Tx,
  ctx: TResolvedContext,
  claim: TClaim,
  outcome: TTransferOutcome,
  booking: TLockedBooking,
  locked: Payout,
  refusedAccount: TRefusedAccount | undefined,
  read: TOutcomeFacts,
): Promise<TTransferResult> {
  let payout = locked;
  let facts: TCompletionFacts = read;
  // The attempt and the payout's latest one (usually the same row); nothing below adds an attempt.
  const { latest } = read;
  const attempt = read.attempt;
  if (!attempt) throw new Error(`Transfer attempt ${claim.attemptId} does not exist.`);
  const now = ctx.clock.now();
  const audit = { actor: ctx.actor, runId: ctx.runId, requestId: ctx.requestId };

  const gather = isPlainSuccess(claim, outcome, booking, locked, read);
  const newlyRecorded: string[] = [];
  for (const { legId, transfer, recovered } of outcome.made) {
    // A leg no longer pending (its request went out after the claim was lost) holds the payout for review.
    const recorded = await recordLegTransferAmong(
      tx,
      ctx,
      payout,
      legId,
      transfer,
      recovered ? "found at Stripe after an earlier attempt" : null,
      facts.transfers,
      { gather },
    );
    payout = recorded.payout;
    facts = withTransferWritten(facts, recorded.written);
    if (recorded.kind === "recorded") newlyRecorded.push(transfer.id);
  }
  const result = outcome.result;

  // Money recorded for a payout nobody is transferring (settled, put back or held meanwhile):
  // the payout does not show it, so a person is told and the payout held while it can be.
  if (newlyRecorded.length > 0 && payout.status !== "processing") {
    payout = await holdForMoneyOutsideClaim(tx, ctx, payout, newlyRecorded, claim.attemptNumber);
  }

  if (latest && latest.id !== claim.attemptId) {
    // A late outcome of an attempt that no longer holds the payout (its lease ran out and attempt
    // `latest` claimed it): what Stripe made is recorded above and the attempt below, but the payout
    // is the newer claim's to move; a refusal Stripe stored under the key still counts for the key.
    const detail = `attempt ${claim.attemptNumber} ended after attempt ${latest.attemptNumber} took the payout on: ${describeResult(result)}`;
    await finishAttempt(tx, attempt, now, {
      status: result.kind === "succeeded" ? "succeeded" : "failed",
      stripeTransferId: outcome.made[0]?.transfer.id ?? null,
      retryable: null,
      counted: false,
      errorType: result.kind === "succeeded" ? null : "claim_lost",
      errorMessage: result.kind === "succeeded" ? null : detail,
    });
    if (result.kind === "failed" && result.legId && !result.failure.outcomeUnknown && REFUSAL_ERROR_TYPES.includes(result.failure.type)) {
      await tx.payoutTransfer.update({ where: { id: result.legId }, data: { refusals: { increment: 1 } } });
    }
    return { kind: "skipped", reason: "claim_lost", status: payout.status, detail };
  }

  if (result.kind === "succeeded") {
    const firstMade = outcome.made[0]?.transfer.id ?? null;
    await finishSucceededAttempt(tx, attempt, now, firstMade);
    const completed = await completeIfPaid(
      tx,
      ctx,
      payout,
      claim.attemptNumber,
      outcome.made.some((m) => m.recovered) ? "found at Stripe after an earlier attempt" : null,
      facts,
      { gather },
    );
    // The booking was cancelled while this transfer was on its way to Stripe: the money moved,
    // so the payout follows the facts after a transfer (an admin is alerted to recover it).
    if (completed.kind === "transferred" && booking.cancelledAt) {
      await syncPayoutWithBooking(tx, booking, ctx, { reason: "booking cancelled while its transfer was in flight" });
    }
    return completed;
  }

  if (result.kind === "stopped") {
    await finishAttempt(tx, attempt, now, {
      status: "failed",
      retryable: null,
      counted: false,
      errorType: "stopped",
      errorMessage: describeIneligibility(result.reasons),
    });
    if (payout.status !== "processing") return { kind: "skipped", reason: "already_settled", status: payout.status };
    if (outcome.made.length > 0 || (await paidSoFar(tx, payout.id)) > 0) {
      // Part of the money already moved: keep the claim for the sweep and tell a person.
      await raiseAlert(tx, {
        kind: "transfer_stopped_partly_paid",
        severity: "critical",
        title: "Transfer stopped after part of the payout was paid",
        message: `Payout ${payout.id}: ${describeIneligibility(result.reasons)}, but part of it was already transferred. Check the transfers at Stripe.`,
        payoutId: payout.id,
        providerId: payout.providerId,
        dedupeKey: `transfer_stopped_partly_paid:${payout.id}`,
      });
      return { kind: "skipped", reason: "stopped", status: payout.status, detail: describeIneligibility(result.reasons) };
    }
    payout = await changePayout(tx, payout, {
      event: "unclaim_to_scheduled",
      data: { processingStartedAt: null, attempts: Math.max(0, payout.attempts - 1) },
      audit: { ...audit, action: "payout.transfer_rescheduled", reason: `not sent: ${describeIneligibility(result.reasons)}` },
    });
    // The facts decide what follows (cancelled with the booking, held for the dispute).
    const synced = await syncPayoutWithBooking(tx, booking, ctx, { reason: describeIneligibility(result.reasons) });
    return {
      kind: "skipped",
      reason: "stopped",
      status: synced.payout?.status ?? payout.status,
      detail: describeIneligibility(result.reasons),
    };
  }

  if (result.kind === "deferred_for_dispute") {
    await finishAttempt(tx, attempt, now, {
      status: "failed",
      retryable: null,
      counted: false,
      errorType: "deferred",
      errorMessage: "A dispute opened before the transfer was sent.",
    });
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
      return {
        kind: "skipped",
        reason: "rescheduled",
        status: "scheduled",
        detail: "the dispute was resolved before the transfer was sent",
      };
    }
    if (payout.status === "processing") {
      await changePayout(tx, payout, {
        event: "unclaim_to_hold",
        data: {
          holdReason: "dispute_open",
          holdNote: "dispute opened before the transfer was sent",
          processingStartedAt: null,
          attempts: Math.max(0, payout.attempts - 1),
        },
        audit: { ...audit, action: "payout.held", reason: "dispute opened before the transfer was sent" },
      });
    }
    return { kind: "held_for_dispute" };
  }

  if (result.kind === "unexpected_transfers") {
    const detail = `Stripe holds ${result.transfers.length} transfer(s) of this payout that its plan does not explain (${result.transfers.map((t) => t.id).join(", ")})`;
    await finishAttempt(tx, attempt, now, {
      status: "failed",
      retryable: null,
      counted: false,
      errorType: "unexpected_transfer",
      errorMessage: detail,
    });
    const held = await holdForUnmatchedTransfers(tx, ctx, payout, result.transfers);
    return { kind: "skipped", reason: "unexpected_transfer", status: held.status, detail };
  }

  if (result.kind === "claim_lost") {
    // The payout is no longer this attempt's (another claim, or settled): nothing to move here.
    await finishAttempt(tx, attempt, now, {
      status: "failed",
      retryable: null,
      counted: false,
      errorType: "claim_lost",
      errorMessage: result.detail,
    });
    return { kind: "skipped", reason: "claim_lost", status: payout.status, detail: result.detail };
  }

  let { failure } = result;
  const accountRefusal = isAccountNotReadyRefusal(failure);
  if (accountRefusal) {
    // Stripe told us the account cannot receive transfers: recorded as any news of the account is.
    const refused = refusedAccount ?? { stripeAccountId: claim.destination, refusedAt: now, lookup: null };
    if (await recordRefusedAccount(tx, ctx, booking.providerId, refused, failure)) {
      // Yet the record says it can (it became ready since the refusal, or Stripe's answers
      // disagree): an ordinary failed attempt, counted, tried again with a new key, so a refusal
      // that keeps coming ends failed and alerted instead of going round for ever.
      failure = {
        ...failure,
        retry: "now",
        counts: true,
        message: `${failure.message} (Stripe says the account can receive transfers now)`,
      };
    }
  }
  const error = describeStripeFailure(failure);
  await finishAttempt(tx, attempt, now, failedAttemptFields(failure, failure.requestId ?? null));
  if (result.legId && !failure.outcomeUnknown && REFUSAL_ERROR_TYPES.includes(failure.type)) {
    // Stripe stores this refusal under the key: the next try of this transfer uses a new one.
    await tx.payoutTransfer.update({ where: { id: result.legId }, data: { refusals: { increment: 1 } } });
  }
  if (payout.status !== "processing") {
    // Someone settled it meanwhile (e.g. the sweep found the transfer): nothing more to do.
    return { kind: "failed", attemptNumber: claim.attemptNumber, error };
  }

  if (failure.reason === "balance_insufficient")
    return waitForFunds(tx, ctx, payout, result.legId, error, failure.retryAfterMs ?? BALANCE_INSUFFICIENT_RETRY_AFTER_MS);
  if (accountRefusal && !failure.counts) {
    const held = await holdForAccountRefusal(tx, ctx, payout, {
      stripeAccountId: refusedAccount?.stripeAccountId ?? claim.destination,
      error,
    });
    return { kind: "held_account_not_ready", detail: held.note };
  }

  if (!failure.counts) {
    // Turned away unprocessed (rate limited, lock_timeout, never sent): the attempt is given back.
    await changePayout(tx, payout, {
      event: "transfer_retry",
      data: { lastError: error, attempts: Math.max(0, payout.attempts - 1) },
      audit: { ...audit, action: "payout.transfer_attempt_turned_away", reason: `${error} (not counted)` },
    });
    await alertIfTurnedAwayTooOften(tx, payout, claim.attemptNumber, error);
    return {
      kind: "retry",
      attemptNumber: claim.attemptNumber,
      delayMs: failure.retryAfterMs ?? TURNED_AWAY_RETRY_MS,
      error,
      counted: false,
    };
  }

  if (failure.retry !== "never" && failure.outcomeUnknown && payout.attempts >= MAX_TRANSFER_ATTEMPTS) {
    // Stripe may have made the transfer: `failed` would let an admin cancel or change it.
    // It stays processing; the reconciliation sweep settles it against Stripe.
    await changePayout(tx, payout, {
      data: { lastError: error },
      audit: { ...audit, action: "payout.transfer_outcome_unknown", reason: error },
    });
    await raiseAlert(tx, transferOutcomeUnknownAlert(payout, error, attempt.id));
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
  return { kind: "retry", attemptNumber: claim.attemptNumber, delayMs: failure.retryAfterMs ?? null, error, counted: true };
}

/**
 * Whether an outcome is a plain success, whose writes a record batch gathers (its legs' transfers and
 * the payout's change, each written with the other members' before the batch commits:
 * gathered-leg-writes.ts, change-payout.ts): the attempt is the payout's latest and succeeded, the
 * payout is processing with nothing kept for debts, every transfer made is for a pending leg of the
 * amount planned that holds none yet and no other leg holds, and nothing follows that reads the
 * payout or its legs back (a booking cancelled meanwhile, tips that waited).
 */
function isPlainSuccess(claim: TClaim, outcome: TTransferOutcome, booking: TLockedBooking, payout: Payout, facts: TOutcomeFacts): boolean {
  if (outcome.result.kind !== "succeeded" || facts.latest?.id !== claim.attemptId) return false;
  if (payout.status !== "processing" || payout.debtRecoveredAmount > 0 || booking.cancelledAt || facts.waitingTips > 0) return false;
  return outcome.made.every(({ legId, transfer }) => {
    const leg = facts.transfers.find((t) => t.id === legId);
    return (
      leg?.status === "pending" &&
      leg.stripeTransferId === null &&
      transfer.amount === leg.amount &&
      transfer.currency.toLowerCase() === leg.currency.toLowerCase() &&
      !facts.transfers.some((t) => t.stripeTransferId === transfer.id)
    );
  });
}

/**
 * Stripe refused a transfer for lack of funds: the payout waits for them, on hold with the date
 * Stripe expects them (the funding charge's balance transaction available_on; without one, after
 * the classification's pause for a lack of balance: an hour), the attempt given back. The sweep releases it when that date comes; an alert is raised
 * only if it still waits after FUNDS_WAIT_ALERT_DAYS (lib/payouts/sweep-payouts.ts).
 */
async function waitForFunds(
  tx: Tx,
  ctx: TResolvedContext,
  payout: Payout,
  legId: string | null,
  error: string,
  recheckMs: number,
): Promise<TTransferResult> {
  const now = ctx.clock.now();
  const leg = legId ? await tx.payoutTransfer.findUnique({ where: { id: legId } }) : null;
  const chargeIds = leg?.sourceChargeId ? [leg.sourceChargeId] : await chargeIdsOfPayout(tx, payout.id);
  const charges = await tx.stripeCharge.findMany({ where: { id: { in: chargeIds } }, select: { availableOn: true } });
  const dates = charges.map((c) => c.availableOn?.getTime() ?? 0).filter((t) => t > now.getTime());
  const until = new Date(dates.length > 0 ? Math.max(...dates) : now.getTime() + recheckMs);
  const note = `Stripe refused the transfer for lack of funds; funds expected ${until.toISOString()}`;
  await changePayout(tx, payout, {
    event: "unclaim_to_hold",
    data: {
      holdReason: "awaiting_funds",
      holdNote: note,
      fundsExpectedAt: until,
      fundsWaitingSince: payout.fundsWaitingSince ?? now,
      processingStartedAt: null,
      lastError: error,
      attempts: Math.max(0, payout.attempts - 1),
    },
    audit: {
      actor: ctx.actor,
      action: "payout.awaiting_funds",
      reason: note,
      runId: ctx.runId,
      requestId: ctx.requestId,
      details: { fundsExpectedAt: until.toISOString() },
    },
  });
  return { kind: "waiting_for_funds", until: until.toISOString() };
}

/**
 * Raises one alert per run of tries Stripe turned away unprocessed, once it reaches
 * TURNED_AWAY_ALERT_AFTER: any other outcome (a counted try, a transfer made, a wait for funds or
 * for a dispute, a try that never finished) ends the run.
 */
async function alertIfTurnedAwayTooOften(tx: Tx, payout: Payout, attemptNumber: number, error: string): Promise<void> {
  const other = await tx.transferAttempt.findFirst({
    where: {
      payoutId: payout.id,
      attemptNumber: { lt: attemptNumber },
      OR: [
        { counted: true },
        { status: { not: "failed" } },
        { errorType: { in: ["stopped", "deferred", "claim_lost"] } },
        { errorCode: { in: ["balance_insufficient", DESTINATION_NOT_READY_CODE] } },
      ],
    },
    orderBy: { attemptNumber: "desc" },
    select: { attemptNumber: true },
  });
  const since = other?.attemptNumber ?? 0;
  const inARow = attemptNumber - since;
  if (inARow < TURNED_AWAY_ALERT_AFTER) return;
  await raiseAlert(tx, {
    kind: "transfer_turned_away",
    severity: "warning",
    title: "Stripe keeps turning a transfer away",
    message:
      `Stripe turned away the last ${inARow} tries to transfer payout ${payout.id} (${formatMoney(payout.amount, payout.currency)}) without acting on them; the last: ${error}. ` +
      "Such tries do not count toward the attempt limit, so the payout is tried again for as long as this lasts: check Stripe's status and the rate of Stripe writes.",
    payoutId: payout.id,
    providerId: payout.providerId,
    dedupeKey: `transfer_turned_away:${payout.id}:${since + 1}`,
  });
}

type TSucceededAttempt = { id: string; stripeTransferId: string | null; finishedAt: Date };

/**
 * A record batch's attempts finished as succeeded, written together before it commits. Nothing a
 * member does after a success reads attempts (its facts were read before: readOutcomeFactsOfMany);
 * other outcomes are written at once, as they may be read back (recordTurnedAway reads the
 * payout's attempts).
 */
const succeededAttempts = gatheredRows<TSucceededAttempt>(async (tx, rows) => {
  const updated = await sqlExecute(
    tx,
    Prisma.sql`
    UPDATE "TransferAttempt" a SET status = 'succeeded', "stripeTransferId" = x."stripeTransferId", retryable = NULL, "finishedAt" = x."finishedAt"
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(id uuid, "stripeTransferId" text, "finishedAt" timestamptz)
    WHERE a.id = x.id AND a.status = 'started'`,
  );
  if (updated !== rows.length) throw new Error(`Finishing ${rows.length} succeeded attempts changed ${updated}.`);
});

/** finishAttempt as succeeded with the first transfer made, gathered in a record batch (succeededAttempts). */
async function finishSucceededAttempt(tx: Tx, attempt: TransferAttempt, now: Date, stripeTransferId: string | null): Promise<void> {
  const gathered = succeededAttempts.of(tx);
  if (attempt.status !== "started" || !gathered) {
    await finishAttempt(tx, attempt, now, { status: "succeeded", stripeTransferId, retryable: null });
    return;
  }
  gathered.push({ id: attempt.id, stripeTransferId, finishedAt: now });
}

async function finishAttempt(
  tx: Tx,
  attempt: TransferAttempt,
  now: Date,
  data: Partial<
    Pick<
      TransferAttempt,
      "status" | "retryable" | "counted" | "errorType" | "errorCode" | "errorMessage" | "stripeTransferId" | "stripeRequestId"
    >
  >,
) {
  if (attempt.status !== "started") return;
  // The fields given, and only those (as Prisma's update would): an undefined one keeps its value.
  const set = (column: keyof typeof data, value: Prisma.Sql) =>
    data[column] !== undefined ? Prisma.sql`, ${Prisma.raw(`"${column}"`)} = ${value}` : Prisma.empty;
  const updated = await sqlExecute(
    tx,
    Prisma.sql`
    UPDATE "TransferAttempt" SET "finishedAt" = ${now}::timestamptz
      ${set("status", Prisma.sql`${data.status ?? null}::"TransferAttemptStatus"`)}
      ${set("retryable", Prisma.sql`${data.retryable ?? null}::boolean`)}
      ${set("counted", Prisma.sql`${data.counted ?? null}::boolean`)}
      ${set("errorType", Prisma.sql`${data.errorType ?? null}`)}
      ${set("errorCode", Prisma.sql`${data.errorCode ?? null}`)}
      ${set("errorMessage", Prisma.sql`${data.errorMessage ?? null}`)}
      ${set("stripeTransferId", Prisma.sql`${data.stripeTransferId ?? null}`)}
      ${set("stripeRequestId", Prisma.sql`${data.stripeRequestId ?? null}`)}
    WHERE id = ${attempt.id}::uuid`,
  );
  if (updated !== 1) throw new Error(`Attempt ${attempt.id} of payout ${attempt.payoutId} was not found to finish.`);
}
