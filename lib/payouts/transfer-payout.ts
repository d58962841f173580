import "server-only";

import type Stripe from "stripe";

import type { Payout, PayoutTransfer, TransferAttempt } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import { recordAudit } from "@/lib/audit/record-audit";
import { learnCharges } from "@/lib/charges/charge-funding";
import { refreshPlatformCurrencies } from "@/lib/charges/platform-currencies";
import { resolveContext, TX_OPTIONS, type TResolvedContext, type TServiceContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { formatMoney } from "@/lib/money/format-money";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";
import { lockStripeAccount, refreshProviderAccount } from "@/lib/payouts/update-provider-account";
import { latestChargeOf } from "@/lib/stripe/charges";
import {
  BALANCE_INSUFFICIENT_RETRY_AFTER_MS,
  classifyStripeError,
  DESTINATION_NOT_READY_CODE,
  type TStripeFailure,
} from "@/lib/stripe/classify-error";
import { createTransfer, findTransfersForPayout } from "@/lib/stripe/transfers";
import { sendStripeWrite } from "@/lib/stripe/write-gate";

import { changePayout } from "./change-payout";
import { describeIneligibility, evaluateEligibility, type TIneligibleReason } from "./eligibility";
import {
  holdForAccountRefusal,
  isAccountNotReadyRefusal,
  lookUpRefusedAccount,
  recordRefusedAccount,
  type TRefusedAccount,
} from "./hold-for-account-refusal";
import { lockPayoutAndBooking, type TLockedBooking } from "./lock-booking";
import { eligibilityFacts } from "./payout-facts";
import {
  chargeIdsOfPayout,
  ensureTransferPlan,
  holdForUnmatchedTransfers,
  knownTransferIds,
  legKey,
  transferGroupFor,
  type TPlanOutcome,
  type TStripeTransferFound,
} from "./payout-transfers";
import { replaceStaleLegs } from "./replace-stale-legs";
import { FINAL_STATUSES } from "./state-machine";
import { settleTipsThatWaited, syncPayoutWithBooking } from "./sync-payout-with-booking";

/** Attempts per transfer before the payout fails and an admin is alerted (tries Stripe turned away unprocessed do not count). */
export const MAX_TRANSFER_ATTEMPTS = 3;
/** How long a run's claim on a `processing` payout keeps other runs away. */
export const PROCESSING_LEASE_MS = 10 * 60 * 1000;
/**
 * Errors for requests Stripe answered with a refusal (4xx): no transfer was made, and Stripe
 * may store the refusal under the idempotency key and replay it for 24 h. The next try of that
 * transfer needs a new key, or it could never succeed (e.g. after the provider's account gains
 * the transfers capability, or the platform balance is topped up).
 */
export const REFUSAL_ERROR_TYPES: readonly string[] = ["StripeInvalidRequestError", "StripePermissionError", "StripeCardError"];
/** Pause before trying again a transfer Stripe kept turning away unprocessed (rate limits), when Stripe gave no Retry-After. */
export const TURNED_AWAY_RETRY_MS = 30 * 1000;
/**
 * Tries in a row that Stripe turned away unprocessed after which an admin is alerted (about three
 * runs with all their retries). They do not count toward the attempt limit, so without this a
 * transfer Stripe never accepts would be retried for ever with no one told.
 */
export const TURNED_AWAY_ALERT_AFTER = 30;

export type TClaimedLeg = {
  legId: string;
  leg: number;
  /** The amount version it was planned for: a look-up at Stripe matches it (and the amount). */
  amountVersion: number;
  sourceChargeId: string | null;
  amount: number;
  currency: string;
  idempotencyKey: string;
};

export type TClaim = {
  payoutId: string;
  attemptId: string;
  attemptNumber: number;
  amount: number;
  currency: string;
  amountVersion: number;
  destination: string;
  transferGroup: string;
  /** The payout's transfers still to be made, in order (each with its own key). */
  legs: TClaimedLeg[];
  /** Transfers of this payout already recorded (or acknowledged as unexpected): never "found" again for another leg. */
  recordedTransferIds: string[];
  /** Earlier attempts exist: ask Stripe whether one of them went through before sending. */
  lookupFirst: boolean;
  /** Attempts are used up (a crashed run): only look the transfers up, never send. */
  lookupOnly: boolean;
  /**
   * Continuing a claim whose payout is no longer eligible (the booking was cancelled, a dispute
   * opened, while an attempt waited for its retry): look up what earlier attempts made, send nothing.
   */
  stopBecause: TIneligibleReason[] | null;
};

export type TClaimResult =
  | { kind: "claimed"; claim: TClaim }
  /** `stale_legs`: transfers planned for an earlier amount must be looked up at Stripe first (replaceStaleLegs). */
  | {
      kind: "skipped";
      reason: "already_settled" | "not_eligible" | "held" | "in_flight" | "stale_legs";
      status: Payout["status"];
      detail?: string;
    };

type TMadeTransfer = Pick<Stripe.Transfer, "id" | "amount" | "currency"> & { destination_payment?: Stripe.Transfer["destination_payment"] };

export type TTransferOutcome = {
  /** Transfers Stripe made (now, or found from an earlier attempt), by leg. */
  made: { legId: string; transfer: TMadeTransfer; recovered: boolean }[];
  result:
    | { kind: "succeeded" }
    | { kind: "deferred_for_dispute" }
    | { kind: "stopped"; reasons: TIneligibleReason[] }
    /** A look-up found transfers of the payout that none of its planned transfers explains: nothing more was sent. */
    | { kind: "unexpected_transfers"; transfers: TStripeTransferFound[] }
    | { kind: "failed"; legId: string | null; failure: TStripeFailure };
};

export type TTransferResult =
  | { kind: "skipped"; reason: string; status: Payout["status"]; detail?: string }
  | { kind: "transferred"; stripeTransferId: string; attemptNumber: number }
  | { kind: "held_for_dispute" }
  | { kind: "waiting_for_funds"; until: string }
  /** Stripe refused the transfer because the provider's account cannot receive it: held for `provider_account_not_ready`, not counted. */
  | { kind: "held_account_not_ready"; detail: string }
  /** `counted: false`: Stripe turned the attempt away unprocessed; it does not count toward the limit. */
  | { kind: "retry"; attemptNumber: number; delayMs: number | null; error: string; counted: boolean }
  | { kind: "failed"; attemptNumber: number; error: string };

export { transferGroupFor };

/**
 * Before a claim, outside any transaction: learns from Stripe what the plan needs. A booking or
 * tip known only by its PaymentIntent gets its charge (the intent's latest_charge) recorded; the
 * charges that pay for the payout are described (settlement currency, amount, availability); the
 * platform's currencies are refreshed when an hour old. `unavailable` when Stripe could not be
 * asked: the claim waits (nothing was spent). A charge Stripe says does not exist is left out of
 * the plan (its part is paid from the balance) and alerted; one Stripe refuses to show (a key
 * without read access to charges) keeps the claim waiting, and is alerted.
 */
export async function prepareFunding(
  context: TServiceContext,
  stripe: Stripe,
  input: { payoutId: string },
): Promise<{ unavailable: string } | null> {
  const ctx = resolveContext(context);
  const now = ctx.clock.now();
  const payout = await ctx.db.payout.findUnique({
    where: { id: input.payoutId },
    select: {
      id: true,
      status: true,
      providerId: true,
      booking: { select: { id: true, externalId: true, stripeChargeId: true, stripePaymentIntentId: true } },
      tips: { where: { status: "accepted" }, select: { id: true, stripeChargeId: true, stripePaymentIntentId: true } },
    },
  });
  if (!payout || (payout.status !== "scheduled" && payout.status !== "processing")) return null;
  const problems: string[] = [];

  const intents = [
    ...(payout.booking.stripeChargeId === null && payout.booking.stripePaymentIntentId ? [payout.booking.stripePaymentIntentId] : []),
    ...payout.tips.filter((t) => t.stripeChargeId === null && t.stripePaymentIntentId).map((t) => t.stripePaymentIntentId!),
  ];
  for (const intent of new Set(intents)) {
    try {
      const chargeId = await latestChargeOf(stripe, intent);
      if (chargeId) await recordChargeOfIntent(ctx, { bookingId: payout.booking.id, paymentIntentId: intent, chargeId });
    } catch (error) {
      const failure = classifyStripeError(error);
      if (failure.retry !== "never") problems.push(`PaymentIntent ${intent}: ${failure.message}`);
      // A PaymentIntent Stripe does not know: its part is paid from the balance, as for no charge at all.
    }
  }

  const chargeIds = await chargeIdsOfPayout(ctx.db, payout.id);
  const lookups = await learnCharges(ctx.db, stripe, chargeIds, now);
  for (const [chargeId, lookup] of lookups) {
    if (lookup.kind === "unavailable" || lookup.kind === "refused") problems.push(`charge ${chargeId}: ${lookup.message}`);
    if (lookup.kind === "refused") {
      // Asking again gets the same refusal: the payout waits (nothing is planned on a charge we
      // could not read), and a person must fix what Stripe refuses, or it waits for good.
      await ctx.db.$transaction((tx) =>
        raiseAlert(tx, {
          kind: "charge_lookup_refused",
          severity: "critical",
          title: "Stripe refuses to show a charge that pays a payout",
          message: `Stripe refused to show charge ${chargeId} of booking ${payout.booking.externalId} (${lookup.message}). Payout ${payout.id} waits until it can be read: check the Stripe API key's permissions.`,
          payoutId: payout.id,
          providerId: payout.providerId,
          dedupeKey: `charge_lookup_refused:${chargeId}`,
        }),
      );
    }
    if (lookup.kind === "unknown_to_stripe") {
      await ctx.db.$transaction((tx) =>
        raiseAlert(tx, {
          kind: "charge_unknown_to_stripe",
          severity: "warning",
          title: "A booking names a charge Stripe does not know",
          message: `Booking ${payout.booking.externalId} names charge ${chargeId}, which Stripe does not know (${lookup.message}). Its part of payout ${payout.id} is transferred from the platform's balance instead; check the id the booking platform sent.`,
          payoutId: payout.id,
          providerId: payout.providerId,
          dedupeKey: `charge_unknown_to_stripe:${chargeId}`,
        }),
      );
    }
  }
  await refreshPlatformCurrencies(ctx.db, stripe, now);
  return problems.length > 0 ? { unavailable: problems.join("; ") } : null;
}

/** A booking or tip paid with `paymentIntentId` and no charge recorded learns the charge (audited). */
async function recordChargeOfIntent(ctx: TResolvedContext, input: { bookingId: string; paymentIntentId: string; chargeId: string }) {
  await ctx.db.$transaction(async (tx) => {
    const { count: bookings } = await tx.booking.updateMany({
      where: { id: input.bookingId, stripePaymentIntentId: input.paymentIntentId, stripeChargeId: null },
      data: { stripeChargeId: input.chargeId },
    });
    const { count: tips } = await tx.tip.updateMany({
      where: { bookingId: input.bookingId, stripePaymentIntentId: input.paymentIntentId, stripeChargeId: null },
      data: { stripeChargeId: input.chargeId },
    });
    if (bookings + tips === 0) return;
    await recordAudit(tx, {
      actor: ctx.actor,
      action: "booking.charge_learned",
      entityType: "booking",
      entityId: input.bookingId,
      reason: `PaymentIntent ${input.paymentIntentId} was paid with charge ${input.chargeId}`,
      after: {
        stripePaymentIntentId: input.paymentIntentId,
        stripeChargeId: input.chargeId,
        bookingUpdated: bookings > 0,
        tipsUpdated: tips,
      },
      runId: ctx.runId,
      requestId: ctx.requestId,
    });
  }, TX_OPTIONS);
}

/**
 * Step 1, a short transaction: claims a due, eligible payout (`scheduled` → `processing`,
 * guarded by its version) or continues this run's own claim, plans its transfers if this amount
 * version has no plan yet (lib/payouts/payout-transfers.ts), and records the attempt. A payout
 * another run is transferring is left alone; one whose plan cannot be made (a currency the
 * platform cannot transfer) is held with the reason.
 */
export async function claimTransfer(context: TServiceContext, input: { payoutId: string }): Promise<TClaimResult> {
  const ctx = resolveContext(context);
  return ctx.db.$transaction(async (tx) => {
    const { booking, payout } = await lockPayoutAndBooking(tx, input.payoutId);
    const now = ctx.clock.now();
    const audit = { actor: ctx.actor, runId: ctx.runId, requestId: ctx.requestId };
    const openDisputes = await tx.dispute.count({ where: { bookingId: booking.id, status: "open" } });
    let claimed: Payout;
    let stopBecause: TIneligibleReason[] | null = null;

    if (payout.status === "processing") {
      const last = await tx.transferAttempt.findFirst({ where: { payoutId: payout.id }, orderBy: { attemptNumber: "desc" } });
      const mine = last?.runId != null && last.runId === ctx.runId;
      const leaseExpired = !payout.processingStartedAt || now.getTime() - payout.processingStartedAt.getTime() > PROCESSING_LEASE_MS;
      if (!mine && !leaseExpired) return { kind: "skipped", reason: "in_flight", status: payout.status };
      // The facts may have changed while the attempt waited (a cancellation, a dispute parked as "busy").
      const eligibility = evaluateEligibility({ ...eligibilityFacts(payout, booking, openDisputes), status: "scheduled" }, now, {
        ignoreDueTime: true,
      });
      if (!eligibility.eligible) stopBecause = eligibility.reasons;
      claimed = await changePayout(tx, payout, {
        data: { attempts: payout.attempts + 1, processingStartedAt: now },
        audit: { ...audit, action: "payout.transfer_attempt_started", reason: `attempt ${payout.attempts + 1}` },
      });
    } else if (payout.status === "scheduled") {
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
        if (reasons.includes("booking_cancelled")) {
          // Scheduled although its booking was cancelled (the sweep used to release a partly paid
          // one waiting for funds): the facts decide (cancelled, or held for review when part of it
          // was paid), so it never stays scheduled with nothing left to move it.
          const synced = await syncPayoutWithBooking(tx, booking, ctx, { reason: describeIneligibility(reasons) });
          return {
            kind: "skipped",
            reason: "not_eligible",
            status: synced.payout?.status ?? payout.status,
            detail: describeIneligibility(reasons),
          };
        }
        return { kind: "skipped", reason: "not_eligible", status: payout.status, detail: describeIneligibility(reasons) };
      }
      const plan = await ensureTransferPlan(tx, payout, booking);
      if (plan.kind === "stale_legs") {
        return {
          kind: "skipped",
          reason: "stale_legs",
          status: payout.status,
          detail: "transfers planned for an earlier amount are looked up at Stripe first",
        };
      }
      if (plan.kind !== "planned") return holdForPlan(tx, ctx, payout, plan);
      claimed = await changePayout(tx, payout, {
        event: "claim",
        data: { attempts: payout.attempts + 1, processingStartedAt: now },
        audit: { ...audit, action: "payout.transfer_started", reason: `attempt ${payout.attempts + 1}` },
      });
    } else {
      const reason = FINAL_STATUSES.includes(payout.status) ? "already_settled" : "not_eligible";
      return { kind: "skipped", reason, status: payout.status };
    }

    const plan = await ensureTransferPlan(tx, claimed, booking);
    if (plan.kind !== "planned" && !stopBecause) {
      // The amount cannot change while processing, so the plan made at the claim is still there.
      throw new Error(`Payout ${claimed.id} is processing without a transfer plan (${plan.kind}).`);
    }
    const pending = plan.kind === "planned" ? plan.pending : [];

    const previous = await tx.transferAttempt.aggregate({ where: { payoutId: payout.id }, _max: { attemptNumber: true } });
    const attemptNumber = (previous._max.attemptNumber ?? 0) + 1;
    const legs = pending.map((leg) => ({
      legId: leg.id,
      leg: leg.leg,
      amountVersion: leg.amountVersion,
      sourceChargeId: leg.sourceChargeId,
      amount: leg.amount,
      currency: leg.currency,
      idempotencyKey: legKey(leg),
    }));
    const first = legs[0];
    const attempt = await tx.transferAttempt.create({
      data: {
        payoutId: claimed.id,
        attemptNumber,
        amount: first?.amount ?? claimed.amount,
        currency: first?.currency ?? claimed.currency,
        amountVersion: claimed.amountVersion,
        idempotencyKey:
          first?.idempotencyKey ?? legKey({ payoutId: claimed.id, amountVersion: claimed.amountVersion, leg: 1, refusals: 0 }),
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
        legs,
        recordedTransferIds: await knownTransferIds(tx, claimed.id),
        lookupFirst: attemptNumber > 1,
        lookupOnly: claimed.attempts > MAX_TRANSFER_ATTEMPTS,
        stopBecause,
      },
    };
  }, TX_OPTIONS);
}

/** A payout whose transfers cannot be planned is held with the reason, and an admin is told. */
async function holdForPlan(
  tx: Tx,
  ctx: TResolvedContext,
  payout: Payout,
  plan: Extract<TPlanOutcome, { kind: "currency_unsupported" | "overpaid" }>,
): Promise<TClaimResult> {
  const audit = { actor: ctx.actor, runId: ctx.runId, requestId: ctx.requestId };
  const holdReason = plan.kind === "currency_unsupported" ? "currency_unsupported" : "review_required";
  await changePayout(tx, payout, {
    event: "hold",
    data: { holdReason, holdNote: plan.reason },
    audit: { ...audit, action: "payout.held", reason: plan.reason },
  });
  await raiseAlert(tx, {
    kind: holdReason === "currency_unsupported" ? "payout_currency_unsupported" : "payout_transfer_review",
    severity: "critical",
    title: holdReason === "currency_unsupported" ? "Payout in a currency the platform cannot transfer" : "Payout transfers need a review",
    message: `Payout ${payout.id} (${formatMoney(payout.amount, payout.currency)}) is held: ${plan.reason}`,
    payoutId: payout.id,
    providerId: payout.providerId,
    dedupeKey: `${holdReason}:${payout.id}:v${payout.amountVersion}`,
  });
  return { kind: "skipped", reason: "held", status: "on_hold", detail: plan.reason };
}

/**
 * Step 2, outside any transaction: asks Stripe. If earlier attempts may have reached Stripe, it
 * first looks for their transfers (so a transfer whose answer was lost is found, not repeated);
 * right before each send it checks that no dispute opened meanwhile. Each transfer names its
 * funding charge (`source_transaction`) and goes through the shared write gate (rate, and pauses
 * for 429s); its idempotency key is the payout, its amount version and the leg, the same on every
 * retry. Stops at the first failure: the next attempt continues with what is left. A request that
 * may have reached Stripe is never taken as not sent: only a look-up at Stripe says so (a look-up
 * that fails leaves the outcome unknown), and a transfer of the payout that the look-up cannot
 * match to any of its legs stops the attempt before anything more is sent.
 */
export async function executeTransfer(context: TServiceContext, stripe: Stripe, claim: TClaim): Promise<TTransferOutcome> {
  const ctx = resolveContext(context);
  const made: TTransferOutcome["made"] = [];
  const exclude = new Set(claim.recordedTransferIds);
  /** Looks `legs` up at Stripe: those found are made; returns the others, and the payout's transfers that none of its legs explains. */
  const lookUp = async (legs: readonly TClaimedLeg[]) => {
    const atStripe = await findTransfersForPayout(stripe, { transferGroup: claim.transferGroup, payoutId: claim.payoutId, legs, exclude });
    const missing: TClaimedLeg[] = [];
    for (const leg of legs) {
      const found = atStripe.found.get(leg);
      if (!found) {
        missing.push(leg);
        continue;
      }
      made.push({ legId: leg.legId, transfer: found, recovered: true });
      exclude.add(found.id);
    }
    return { missing, unmatched: atStripe.unmatched };
  };
  const unexpected = (transfers: Stripe.Transfer[]): TTransferOutcome => ({ made, result: { kind: "unexpected_transfers", transfers } });
  // Whether an earlier request went through is unknown: never send, never conclude "failed".
  const lookupFailed = (legId: string, error: unknown): TTransferOutcome => {
    const failure = classifyStripeError(error);
    return {
      made,
      result: {
        kind: "failed",
        legId,
        failure: { ...failure, outcomeUnknown: true, retry: failure.retry === "never" ? "now" : failure.retry },
      },
    };
  };
  let toSend = claim.legs;

  if ((claim.lookupFirst || claim.lookupOnly || claim.stopBecause) && claim.legs.length > 0) {
    let looked: Awaited<ReturnType<typeof lookUp>>;
    try {
      looked = await lookUp(claim.legs);
    } catch (error) {
      return lookupFailed(claim.legs[0]!.legId, error);
    }
    if (looked.unmatched.length > 0) return unexpected(looked.unmatched);
    toSend = looked.missing;
    if (toSend.length === 0) return { made, result: { kind: "succeeded" } };
    if (claim.stopBecause) return { made, result: { kind: "stopped", reasons: claim.stopBecause } };
    if (claim.lookupOnly) {
      return {
        made,
        result: {
          kind: "failed",
          legId: toSend[0]!.legId,
          failure: {
            retry: "never",
            counts: true,
            outcomeUnknown: false,
            type: "attempts_exhausted",
            reason: "unknown",
            message: "No transfer found at Stripe after the last attempt.",
          },
        },
      };
    }
  }

  if (toSend.length === 0) return { made, result: { kind: "succeeded" } };
  const booking = await ctx.db.payout.findUniqueOrThrow({ where: { id: claim.payoutId }, select: { bookingId: true } });
  const disputeOpen = async () => (await ctx.db.dispute.count({ where: { bookingId: booking.bookingId, status: "open" } })) > 0;

  for (const leg of toSend) {
    // Requests for this leg that went out: a 429 answers the last of them only, and the SDK's own
    // retry may have followed a first request that Stripe carried out (its answer lost).
    let sends = 0;
    try {
      // Checked in the write's slot, right before it goes out: a dispute may open while the write
      // waits for its slot (or after a 429), or while an earlier transfer waits for its answer.
      const transfer = await sendStripeWrite(ctx.stripeWrites, async () => {
        if (await disputeOpen()) return null;
        sends += 1;
        return createTransfer(stripe, {
          amount: leg.amount,
          currency: leg.currency,
          destination: claim.destination,
          transferGroup: claim.transferGroup,
          sourceTransaction: leg.sourceChargeId,
          metadata: { payoutId: claim.payoutId, amountVersion: String(claim.amountVersion), leg: String(leg.leg) },
          idempotencyKey: leg.idempotencyKey,
        });
      });
      if (!transfer) {
        if (sends === 0) return { made, result: { kind: "deferred_for_dispute" } };
        // The dispute opened while a turned-away send of this leg waited to go again: that leg may
        // be made all the same. Stripe says whether it is; the legs after it wait for the dispute.
        let looked: Awaited<ReturnType<typeof lookUp>>;
        try {
          looked = await lookUp([leg]);
        } catch (error) {
          return lookupFailed(leg.legId, error);
        }
        if (looked.unmatched.length > 0) return unexpected(looked.unmatched);
        if (looked.missing.length > 0) return { made, result: { kind: "deferred_for_dispute" } };
        continue;
      }
      made.push({ legId: leg.legId, transfer, recovered: false });
      exclude.add(transfer.id);
    } catch (error) {
      const failure = classifyStripeError(error);
      if (failure.outcomeUnknown) {
        // The request may have reached Stripe (no answer, or a 5xx): if Stripe made it, that is the outcome.
        try {
          const looked = await lookUp([leg]);
          if (looked.unmatched.length > 0) return unexpected(looked.unmatched);
          if (looked.missing.length === 0) continue;
        } catch {
          // Stripe unreachable: keep the first failure, whose outcome is unknown. Even if Stripe said
          // not to send it again, it may have made the transfer: never conclude "failed" from it.
          return {
            made,
            result: { kind: "failed", legId: leg.legId, failure: { ...failure, retry: failure.retry === "never" ? "now" : failure.retry } },
          };
        }
      }
      return { made, result: { kind: "failed", legId: leg.legId, failure } };
    }
  }
  return { made, result: { kind: "succeeded" } };
}

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
  return ctx.db.$transaction(async (tx) => {
    // Everything said of an account takes its lock before any booking's (lib/providers/update-provider-account.ts).
    if (accountRefused) await lockStripeAccount(tx, refusedAccount?.stripeAccountId ?? claim.destination);
    const { booking, payout } = await lockPayoutAndBooking(tx, claim.payoutId);
    const result = await recordOutcomeLocked(tx, ctx, claim, outcome, booking, payout, refusedAccount);
    await settleTipsThatWaited(tx, booking, ctx);
    return result;
  }, TX_OPTIONS);
}

async function recordOutcomeLocked(
  tx: Tx,
  ctx: TResolvedContext,
  claim: TClaim,
  outcome: TTransferOutcome,
  booking: TLockedBooking,
  locked: Payout,
  refusedAccount: TRefusedAccount | undefined,
): Promise<TTransferResult> {
  let payout = locked;
  const attempt = await tx.transferAttempt.findUniqueOrThrow({ where: { id: claim.attemptId } });
  const now = ctx.clock.now();
  const audit = { actor: ctx.actor, runId: ctx.runId, requestId: ctx.requestId };

  for (const { legId, transfer, recovered } of outcome.made) {
    await recordLegTransfer(tx, ctx, payout, legId, transfer, recovered ? "found at Stripe after an earlier attempt" : null);
  }
  const result = outcome.result;

  if (result.kind === "succeeded") {
    const firstMade = outcome.made[0]?.transfer.id ?? null;
    await finishAttempt(tx, attempt, now, { status: "succeeded", stripeTransferId: firstMade, retryable: null });
    const completed = await completeIfPaid(
      tx,
      ctx,
      payout,
      claim.attemptNumber,
      outcome.made.some((m) => m.recovered) ? "found at Stripe after an earlier attempt" : null,
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
  const error = `${failure.type}${failure.code ? ` (${failure.code})` : ""}: ${failure.message}`;
  await finishAttempt(tx, attempt, now, {
    status: "failed",
    retryable: failure.retry !== "never",
    counted: failure.counts,
    errorType: failure.type,
    errorCode: failure.code ?? null,
    errorMessage: failure.message,
    stripeRequestId: failure.requestId ?? null,
  });
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
    await raiseAlert(tx, {
      kind: "transfer_outcome_unknown",
      severity: "warning",
      title: "Transfer outcome unknown",
      message: `The last transfer attempt for payout ${payout.id} (${formatMoney(payout.amount, payout.currency)}) got no clear answer from Stripe: ${error}. It stays processing until the reconciliation sweep finds the transfer at Stripe (transferred) or confirms there is none (failed).`,
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
  return { kind: "retry", attemptNumber: claim.attemptNumber, delayMs: failure.retryAfterMs ?? null, error, counted: true };
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
        { errorType: { in: ["stopped", "deferred"] } },
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
  await tx.transferAttempt.update({ where: { id: attempt.id }, data: { ...data, finishedAt: now } });
}

async function paidSoFar(tx: Tx, payoutId: string): Promise<number> {
  const paid = await tx.payoutTransfer.aggregate({
    where: { payoutId, kind: "payout", status: "succeeded" },
    _sum: { payoutAmount: true },
  });
  return paid._sum.payoutAmount ?? 0;
}

/**
 * Records a transfer Stripe made for one of the payout's planned transfers. A second record of
 * the same transfer is a no-op; a different transfer for a leg that already has one, or one for
 * another amount than planned (found from an earlier amount version), raises a critical alert.
 */
export async function recordLegTransfer(
  tx: Tx,
  ctx: TResolvedContext,
  payout: Payout,
  legId: string,
  transfer: TMadeTransfer,
  note: string | null,
): Promise<void> {
  const leg = await tx.payoutTransfer.findUniqueOrThrow({ where: { id: legId } });
  if (leg.stripeTransferId === transfer.id) return;
  const elsewhere = await tx.payoutTransfer.findUnique({ where: { stripeTransferId: transfer.id } });
  if (leg.stripeTransferId || elsewhere) {
    // Never expected: a second, different transfer for one planned transfer. Stop and shout.
    await raiseAlert(tx, {
      kind: "unexpected_transfer",
      severity: "critical",
      title: "Unexpected Stripe transfer for a payout",
      message: `Stripe transfer ${transfer.id} was made for payout ${payout.id}, which is ${payout.status}${leg.stripeTransferId ? ` with transfer ${leg.stripeTransferId}` : ""}. Check it in Stripe.`,
      payoutId: payout.id,
      providerId: payout.providerId,
      dedupeKey: `unexpected_transfer:${transfer.id}`,
    });
    return;
  }
  if (transfer.amount !== leg.amount || transfer.currency.toLowerCase() !== leg.currency.toLowerCase()) {
    // A transfer made for an earlier amount (its answer lost, the payout changed since) was
    // found: the money is at Stripe, so it counts as this transfer; a human settles the difference.
    await raiseAlert(tx, {
      kind: "transfer_amount_mismatch",
      severity: "critical",
      title: "Transferred amount differs from the payout",
      message: `Stripe transfer ${transfer.id} for payout ${payout.id} moved ${formatMoney(transfer.amount, transfer.currency)}, but ${formatMoney(leg.amount, leg.currency)} was planned (the payout is now ${formatMoney(payout.amount, payout.currency)}). Recover or pay the difference by hand.`,
      payoutId: payout.id,
      providerId: payout.providerId,
      dedupeKey: `transfer_amount_mismatch:${transfer.id}`,
    });
  }
  const destinationPayment =
    typeof transfer.destination_payment === "string" ? transfer.destination_payment : (transfer.destination_payment?.id ?? null);
  await tx.payoutTransfer.update({
    where: { id: leg.id },
    data: { status: "succeeded", stripeTransferId: transfer.id, destinationPaymentId: destinationPayment, transferredAt: ctx.clock.now() },
  });
  // A payout paid with one transfer has it in its "transferred" entry; with several, each is on the timeline.
  const planned = await tx.payoutTransfer.count({
    where: { payoutId: payout.id, kind: "payout", status: { in: ["pending", "succeeded"] } },
  });
  if (planned < 2) return;
  await recordAudit(tx, {
    actor: ctx.actor,
    action: "payout.transfer_made",
    entityType: "payout",
    entityId: payout.id,
    reason: note,
    after: {
      stripeTransferId: transfer.id,
      leg: leg.leg,
      amount: transfer.amount,
      currency: transfer.currency.toUpperCase(),
      payoutAmount: leg.payoutAmount,
      sourceChargeId: leg.sourceChargeId,
      exchangeRate: leg.exchangeRate,
    },
    runId: ctx.runId,
    requestId: ctx.requestId,
  });
}

/**
 * The payout is transferred once every transfer of its plan is made: recorded with the first
 * transfer's id, audited. Until then it stays processing (the next attempt sends what is left).
 */
export async function completeIfPaid(
  tx: Tx,
  ctx: TResolvedContext,
  payout: Payout,
  attemptNumber: number,
  note: string | null,
): Promise<TTransferResult> {
  const legs = await tx.payoutTransfer.findMany({
    where: { payoutId: payout.id, kind: "payout", status: { in: ["pending", "succeeded"] } },
    orderBy: { leg: "asc" },
  });
  const pending = legs.filter((l) => l.status === "pending");
  const made = legs.filter(
    (l): l is PayoutTransfer & { stripeTransferId: string } => l.status === "succeeded" && l.stripeTransferId !== null,
  );
  const first = made[0];
  if (!first) return { kind: "skipped", reason: "nothing_transferred", status: payout.status };
  if (payout.status !== "processing") {
    return payout.stripeTransferId
      ? { kind: "transferred", stripeTransferId: payout.stripeTransferId, attemptNumber }
      : { kind: "skipped", reason: "already_settled", status: payout.status };
  }
  if (pending.length > 0) {
    return {
      kind: "retry",
      attemptNumber,
      delayMs: null,
      error: `${pending.length} transfer(s) of the payout still to make`,
      counted: false,
    };
  }
  await changePayout(tx, payout, {
    event: "transfer_succeeded",
    data: {
      stripeTransferId: first.stripeTransferId,
      transferredAt: ctx.clock.now(),
      lastError: null,
      processingStartedAt: null,
      fundsExpectedAt: null,
      fundsWaitingSince: null,
    },
    audit: {
      actor: ctx.actor,
      action: "payout.transferred",
      reason: note ?? `Stripe made transfer ${first.stripeTransferId}${made.length > 1 ? ` and ${made.length - 1} more` : ""}`,
      runId: ctx.runId,
      requestId: ctx.requestId,
      details: {
        stripeTransferId: first.stripeTransferId,
        transferAmount: first.amount,
        transferCurrency: first.currency.toLowerCase(),
        transfers: made.map((l) => ({
          stripeTransferId: l.stripeTransferId,
          amount: l.amount,
          currency: l.currency,
          sourceChargeId: l.sourceChargeId,
        })),
      },
    },
  });
  return { kind: "transferred", stripeTransferId: first.stripeTransferId, attemptNumber };
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
    message: `Payout ${payout.id} (${formatMoney(payout.amount, payout.currency)}) failed after ${payout.attempts} attempt${payout.attempts === 1 ? "" : "s"}: ${error}`,
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
async function refreshAccountIfNotReady(
  context: TServiceContext,
  stripe: Stripe,
  payoutId: string,
): Promise<{ unconfirmed: string } | null> {
  const ctx = resolveContext(context);
  const payout = await ctx.db.payout.findUnique({ where: { id: payoutId }, select: { status: true, provider: true } });
  const account = payout?.provider.stripeAccountId;
  // Only a claim from `scheduled` checks the account (and would hold the payout).
  if (!account || payout.provider.payoutsEnabled || payout.status !== "scheduled") return null;
  try {
    await refreshProviderAccount(ctx, stripe, account);
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

/** Learn what the plan needs, claim, ask Stripe, record: one whole attempt. Safe to run again at any point. */
export async function transferPayout(context: TServiceContext, stripe: Stripe, input: { payoutId: string }): Promise<TTransferResult> {
  const account = await refreshAccountIfNotReady(context, stripe, input.payoutId);
  if (account)
    return {
      kind: "skipped",
      reason: "account_unconfirmed",
      status: "scheduled",
      detail: `${account.unconfirmed}; the reconciliation sweep tries again`,
    };
  const funding = await prepareFunding(context, stripe, input);
  if (funding) {
    return {
      kind: "retry",
      attemptNumber: 0,
      delayMs: TURNED_AWAY_RETRY_MS,
      error: `could not learn from Stripe how the payout is funded: ${funding.unavailable}`,
      counted: false,
    };
  }
  // Transfers planned for an earlier amount are looked up before the claim plans anew.
  const stale = await replaceStaleLegs(context, stripe, input);
  if (stale) return { kind: "retry", attemptNumber: 0, delayMs: TURNED_AWAY_RETRY_MS, error: stale.unavailable, counted: false };
  const claimed = await claimTransfer(context, input);
  if (claimed.kind === "skipped" && claimed.reason === "stale_legs") {
    // Its amount changed after the look-up: look again on the next try.
    return {
      kind: "retry",
      attemptNumber: 0,
      delayMs: null,
      error: claimed.detail ?? "transfers planned for an earlier amount",
      counted: false,
    };
  }
  if (claimed.kind === "skipped") return claimed;
  const outcome = await executeTransfer(context, stripe, claimed.claim);
  // Refused because the account cannot receive transfers: ask Stripe how the account is, to record it with the outcome.
  const refusedAccount =
    outcome.result.kind === "failed" && isAccountNotReadyRefusal(outcome.result.failure)
      ? await lookUpRefusedAccount(resolveContext(context), stripe, claimed.claim.destination)
      : undefined;
  return recordTransferOutcome(context, claimed.claim, outcome, refusedAccount);
}
