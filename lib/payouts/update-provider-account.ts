import "server-only";

import type Stripe from "stripe";

import { Prisma, type Provider } from "@/generated/prisma/client";
import { recordAudit } from "@/lib/audit/record-audit";
import { resolveContext, TX_OPTIONS, type TResolvedContext, type TServiceContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { sqlExecute, transaction } from "@/lib/direct-sql";
import { changePayout } from "@/lib/payouts/change-payout";
import { lockBooking } from "@/lib/payouts/lock-booking";
import { releaseHold } from "@/lib/payouts/release-hold";
import { requestTransferIfDue } from "@/lib/payouts/request-transfer-if-due";
import { retrieveAccountReadiness } from "@/lib/stripe/transfers";

export type TAccountReadinessInput = {
  stripeAccountId: string;
  payoutsEnabled: boolean;
  transfersActive: boolean;
  disabledReason?: string | null;
  /**
   * When this state was true at Stripe: an account.updated event's `created` (whole seconds), or
   * the time of a look-up. A state older than the one recorded changes nothing.
   */
  stateAt: Date;
  /** stateAt is an event's `created` (whole seconds): a different state recorded at that very time cannot be ordered against it. */
  wholeSecond?: boolean;
  /**
   * Apply over a different state recorded within the same second instead of answering
   * "same_second" (for when Stripe could not be asked which one is current).
   */
  overrideSameSecond?: boolean;
  /**
   * The state was not read from Stripe's account but inferred from something Stripe did (it
   * refused a transfer to the account for lack of the transfers capability, and could not be
   * asked for the account): said in the audit, where Stripe's own payouts_enabled is then unknown.
   */
  inferredFrom?: string;
};

export type TAccountUpdateResult = {
  providerId: string | null;
  ready: boolean;
  changed: boolean;
  released: number;
  held: number;
  /**
   * "older": a newer state is recorded, nothing changed. "same_second": the recorded state is from
   * the same second and differs; which came last cannot be told: ask Stripe afresh.
   */
  stale?: "older" | "same_second";
};

/**
 * Stripe says whether a connected account can receive payouts (account.updated, or a look-up
 * before a transfer). Ready: payouts held for "provider account not ready" are released (and
 * transferred when due), unless another cause of their hold is present (an open dispute on
 * the booking): those stay held for that cause. Not ready: scheduled payouts are held for
 * that reason. Idempotent, and in order: a state older than the recorded one (account.updated
 * events arrive in any order) changes nothing. An account no provider has yet (account.updated
 * can come before the provider's first booking) keeps its state, in the same order, for the
 * provider recorded with it later (applyKeptAccountState): the same facts end the same way in
 * either order.
 */
export async function updateProviderAccount(context: TServiceContext, input: TAccountReadinessInput): Promise<TAccountUpdateResult> {
  const ctx = resolveContext(context);
  return transaction(
    ctx.db,
    async (tx) => {
      await lockStripeAccount(tx, input.stripeAccountId);
      return recordAccountState(tx, ctx, input);
    },
    TX_OPTIONS,
  );
}

/**
 * updateProviderAccount inside the caller's transaction, for a caller that records something else
 * with it (a transfer Stripe refused because the account cannot receive it). Call after
 * lockStripeAccount and before locking any booking: the order every writer of an account's state uses.
 */
export async function recordAccountState(tx: Tx, context: TServiceContext, input: TAccountReadinessInput): Promise<TAccountUpdateResult> {
  const ctx = resolveContext(context);
  const provider = await tx.provider.findUnique({ where: { stripeAccountId: input.stripeAccountId } });
  if (!provider) return keepAccountState(tx, ctx, input);
  return applyAccountState(tx, ctx, provider, input);
}

/**
 * A provider was recorded with a Stripe account (lib/bookings/record-completed-booking.ts): what
 * Stripe said of that account before (StripeAccount) is applied to it now, as if it had come after
 * the provider (its scheduled payouts held when the account cannot receive payouts), and
 * forgotten. Call inside the transaction that recorded the provider, after lockStripeAccount.
 */
export async function applyKeptAccountState(tx: Tx, context: TServiceContext, provider: Provider): Promise<TAccountUpdateResult | null> {
  if (!provider.stripeAccountId) return null;
  const kept = await tx.stripeAccount.findUnique({ where: { id: provider.stripeAccountId } });
  if (!kept) return null;
  await tx.stripeAccount.delete({ where: { id: kept.id } });
  return applyAccountState(tx, resolveContext(context), provider, {
    stripeAccountId: kept.id,
    payoutsEnabled: kept.payoutsEnabled,
    transfersActive: kept.transfersActive,
    disabledReason: kept.disabledReason,
    stateAt: kept.stateAt,
    toldAt: kept.toldAt,
    overrideSameSecond: true,
  });
}

/**
 * Serialises everything said of one Stripe account: its state, and a provider being recorded with
 * it, so an account.updated and the provider's first booking arriving together cannot miss each other.
 */
export async function lockStripeAccount(tx: Tx, stripeAccountId: string): Promise<void> {
  await sqlExecute(tx, Prisma.sql`SELECT pg_advisory_xact_lock(hashtextextended(${stripeAccountLockKey(stripeAccountId)}, 0))`);
}

/** The advisory lock's key of lockStripeAccount (also taken for many accounts at once by a batch of completions). */
export function stripeAccountLockKey(stripeAccountId: string): string {
  return `stripe-account:${stripeAccountId}`;
}

/** Why a state cannot be applied over the one recorded (at `recordedAt`, `recordedReady`), if it cannot. */
function staleness(input: TAccountReadinessInput, recordedAt: Date | null, recordedReady: boolean): TAccountUpdateResult["stale"] {
  if (!recordedAt) return undefined;
  // Events carry whole seconds: compare at that grain.
  const second = (d: Date) => Math.floor(d.getTime() / 1000);
  if (second(input.stateAt) < second(recordedAt)) return "older";
  // Not newer within the same second (an event's whole second equal to the recorded time
  // included) and different: which came last cannot be told.
  const ready = input.payoutsEnabled && input.transfersActive;
  const notNewer =
    input.stateAt.getTime() < recordedAt.getTime() || (input.wholeSecond === true && input.stateAt.getTime() === recordedAt.getTime());
  if (second(input.stateAt) === second(recordedAt) && notNewer && ready !== recordedReady && !input.overrideSameSecond)
    return "same_second";
  return undefined;
}

/** No provider has the account yet: its state is kept (newest first) for the provider recorded with it. */
async function keepAccountState(tx: Tx, ctx: TResolvedContext, input: TAccountReadinessInput): Promise<TAccountUpdateResult> {
  const ready = input.payoutsEnabled && input.transfersActive;
  const kept = await tx.stripeAccount.findUnique({ where: { id: input.stripeAccountId } });
  const stale = staleness(input, kept?.stateAt ?? null, kept ? kept.payoutsEnabled && kept.transfersActive : false);
  if (stale) return { providerId: null, ready, changed: false, released: 0, held: 0, stale };
  const stateAt = kept && kept.stateAt > input.stateAt ? kept.stateAt : input.stateAt;
  const state = {
    payoutsEnabled: input.payoutsEnabled,
    transfersActive: input.transfersActive,
    disabledReason: input.disabledReason ?? null,
    stateAt,
    toldAt: ctx.clock.now(),
  };
  await tx.stripeAccount.upsert({ where: { id: input.stripeAccountId }, create: { id: input.stripeAccountId, ...state }, update: state });
  const changed = !kept || kept.payoutsEnabled !== input.payoutsEnabled || kept.transfersActive !== input.transfersActive;
  if (changed) {
    await recordAudit(tx, {
      actor: ctx.actor,
      action: "stripe_account.state_kept",
      entityType: "stripe_account",
      entityId: input.stripeAccountId,
      reason: "no provider has this Stripe account yet: kept for the provider recorded with it",
      before: kept ? { payoutsEnabled: kept.payoutsEnabled, transfersActive: kept.transfersActive } : null,
      after: {
        ready,
        ...(input.inferredFrom ? { inferredFrom: input.inferredFrom } : { payoutsEnabled: input.payoutsEnabled }),
        transfersActive: input.transfersActive,
        disabledReason: input.disabledReason ?? null,
        stateAt: stateAt.toISOString(),
      },
      runId: ctx.runId,
      requestId: ctx.requestId,
    });
  }
  return { providerId: null, ready, changed, released: 0, held: 0 };
}

async function applyAccountState(
  tx: Tx,
  ctx: TResolvedContext,
  provider: Provider,
  input: TAccountReadinessInput & { toldAt?: Date },
): Promise<TAccountUpdateResult> {
  const ready = input.payoutsEnabled && input.transfersActive;
  const now = ctx.clock.now();
  const audit = { actor: ctx.actor, runId: ctx.runId, requestId: ctx.requestId };
  const changed = provider.payoutsEnabled !== ready;
  const recordedAt = provider.accountStateAt;
  const stale = staleness(input, recordedAt, provider.payoutsEnabled);
  if (stale) return { providerId: provider.id, ready, changed: false, released: 0, held: 0, stale };
  const stateAt = recordedAt && recordedAt > input.stateAt ? recordedAt : input.stateAt;
  const checkedAt = input.toldAt ?? now;
  await tx.provider.update({
    where: { id: provider.id },
    data: changed
      ? { payoutsEnabled: ready, accountUpdatedAt: now, accountCheckedAt: checkedAt, accountStateAt: stateAt }
      : { accountCheckedAt: checkedAt, accountStateAt: stateAt },
  });
  if (changed) {
    await recordAudit(tx, {
      ...audit,
      action: ready ? "provider.account_ready" : "provider.account_not_ready",
      entityType: "provider",
      entityId: provider.id,
      reason: input.disabledReason ?? input.inferredFrom ?? null,
      before: { payoutsEnabled: provider.payoutsEnabled },
      after: {
        payoutsEnabled: ready,
        ...(input.inferredFrom ? { inferredFrom: input.inferredFrom } : { stripePayoutsEnabled: input.payoutsEnabled }),
        transfersActive: input.transfersActive,
        ...(input.toldAt ? { toldAt: input.toldAt.toISOString(), note: "Stripe said this before the provider was recorded" } : {}),
      },
    });
  }

  const affected = await tx.payout.findMany({
    where: ready
      ? { providerId: provider.id, status: "on_hold", holdReason: "provider_account_not_ready" }
      : { providerId: provider.id, status: "scheduled" },
    select: { id: true, bookingId: true },
    orderBy: { createdAt: "asc" },
  });
  let released = 0;
  let held = 0;
  for (const { bookingId } of affected) {
    const booking = await lockBooking(tx, bookingId);
    const payout = await tx.payout.findUniqueOrThrow({ where: { bookingId } });
    if (ready && payout.status === "on_hold" && payout.holdReason === "provider_account_not_ready") {
      // Released unless another cause of the hold is present (an open dispute): then it stays held for that.
      const openDisputes = await tx.dispute.count({ where: { bookingId, status: "open" } });
      const after = await releaseHold(tx, payout, booking, openDisputes, {
        audit,
        reason: "provider's Stripe account can receive payouts",
      });
      if (after.status === "scheduled") released += 1;
      await requestTransferIfDue(tx, after, booking, openDisputes, now);
    } else if (!ready && payout.status === "scheduled") {
      await changePayout(tx, payout, {
        event: "hold",
        data: { holdReason: "provider_account_not_ready", holdNote: input.disabledReason ?? "Stripe account cannot receive payouts" },
        audit: { ...audit, action: "payout.held", reason: "provider's Stripe account cannot receive payouts" },
      });
      held += 1;
    }
  }
  return { providerId: provider.id, ready, changed, released, held };
}

/** Asks Stripe how the account is now and records that answer, timed when it was asked. Throws what the look-up throws. */
export async function refreshProviderAccount(
  context: TServiceContext,
  stripe: Stripe,
  stripeAccountId: string,
): Promise<TAccountUpdateResult> {
  const readiness = await retrieveAccountReadiness(stripe, stripeAccountId);
  return updateProviderAccount(context, { stripeAccountId, ...readiness, stateAt: resolveContext(context).clock.now() });
}
