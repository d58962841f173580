import "server-only";

import type Stripe from "stripe";

import { recordAudit } from "@/lib/audit/record-audit";
import { changePayout } from "@/lib/payouts/change-payout";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/payouts/context";
import { lockBooking, releaseHold, requestTransferIfDue } from "@/lib/payouts/sync-payout-with-booking";
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
 * events arrive in any order) changes nothing.
 */
export async function updateProviderAccount(context: TServiceContext, input: TAccountReadinessInput): Promise<TAccountUpdateResult> {
  const ctx = resolveContext(context);
  const ready = input.payoutsEnabled && input.transfersActive;
  return ctx.db.$transaction(async (tx) => {
    const provider = await tx.provider.findUnique({ where: { stripeAccountId: input.stripeAccountId } });
    if (!provider) return { providerId: null, ready, changed: false, released: 0, held: 0 };
    const now = ctx.clock.now();
    const audit = { actor: ctx.actor, runId: ctx.runId, requestId: ctx.requestId };
    const changed = provider.payoutsEnabled !== ready;
    const recordedAt = provider.accountStateAt;
    if (recordedAt) {
      // Events carry whole seconds: compare at that grain.
      const second = (d: Date) => Math.floor(d.getTime() / 1000);
      if (second(input.stateAt) < second(recordedAt)) return { providerId: provider.id, ready, changed: false, released: 0, held: 0, stale: "older" };
      // Not newer within the same second (an event's whole second equal to the recorded time
      // included) and different: which came last cannot be told.
      const notNewer = input.stateAt.getTime() < recordedAt.getTime() || (input.wholeSecond === true && input.stateAt.getTime() === recordedAt.getTime());
      if (second(input.stateAt) === second(recordedAt) && notNewer && changed && !input.overrideSameSecond) {
        return { providerId: provider.id, ready, changed: false, released: 0, held: 0, stale: "same_second" };
      }
    }
    const stateAt = recordedAt && recordedAt > input.stateAt ? recordedAt : input.stateAt;
    await tx.provider.update({
      where: { id: provider.id },
      data: changed ? { payoutsEnabled: ready, accountUpdatedAt: now, accountCheckedAt: now, accountStateAt: stateAt } : { accountCheckedAt: now, accountStateAt: stateAt },
    });
    if (changed) {
      await recordAudit(tx, {
        ...audit,
        action: ready ? "provider.account_ready" : "provider.account_not_ready",
        entityType: "provider",
        entityId: provider.id,
        reason: input.disabledReason ?? null,
        before: { payoutsEnabled: provider.payoutsEnabled },
        after: { payoutsEnabled: ready, stripePayoutsEnabled: input.payoutsEnabled, transfersActive: input.transfersActive },
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
  }, TX_OPTIONS);
}

/** Asks Stripe how the account is now and records that answer, timed when it was asked. Throws what the look-up throws. */
export async function refreshProviderAccount(context: TServiceContext, stripe: Stripe, stripeAccountId: string): Promise<TAccountUpdateResult> {
  const readiness = await retrieveAccountReadiness(stripe, stripeAccountId);
  return updateProviderAccount(context, { stripeAccountId, ...readiness, stateAt: resolveContext(context).clock.now() });
}
