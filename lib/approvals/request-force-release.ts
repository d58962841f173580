import "server-only";

import type Stripe from "stripe";

import type { Payout, PayoutApproval } from "@/generated/prisma/client";
import { recordAudit } from "@/lib/audit/record-audit";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import { getEnv } from "@/lib/env";
import { ConflictError } from "@/lib/errors";
import { requireReason, type TAdminActionInput } from "@/lib/payouts/admin-action";
import { PayoutVersionConflictError } from "@/lib/payouts/change-payout";
import { forceReleasePayout } from "@/lib/payouts/force-release-payout";
import {
  APPROVAL_AUDIT_ACTIONS,
  approvalMismatch,
  FORCE_RELEASE_ACTION,
  fourEyesThresholdFor,
  needsSecondApproval,
} from "@/lib/payouts/four-eyes";
import { learnProviderAccountIfUnknown } from "@/lib/payouts/learn-provider-account";
import { lockPayoutAndBooking } from "@/lib/payouts/lock-booking";
import { approvedReleaseWaiting, evaluatePayoutAction, providerActionFacts, refusalMessage } from "@/lib/payouts/payout-actions";
import { canTransition, IllegalTransitionError } from "@/lib/payouts/state-machine";
import { getStripe } from "@/lib/stripe/client";

import { basisOf, expireApproval, lockApproval, requestBasis, requireAdminActor } from "./approval-records";
import { joinTransaction } from "./join-transaction";

export type TForceReleaseOutcome =
  | { outcome: "applied"; payout: Payout; transferRequested: boolean }
  | { outcome: "approval_requested"; payout: Payout; approval: PayoutApproval };

export type TFourEyesOptions = {
  /** FOUR_EYES_THRESHOLD in hundredths of the currency's main unit; defaults to the configured value. */
  fourEyesThreshold?: number;
  /** Asked about a provider's account whose readiness Stripe never told us; default: the app's client. */
  stripe?: Stripe;
};

/**
 * Admin: force release with four eyes. Below the threshold the payout is force released at
 * once. At or above it, nothing moves: a pending approval request is recorded (audited)
 * for a second admin to approve (approveForceRelease). Decided under the payout's lock, so
 * the amount cannot cross the threshold between the check and the release, and two
 * requests for one payout cannot both be pending. Requests that no longer match the payout
 * expire here. When Stripe never told us whether the provider's account can receive payouts
 * (a new provider), Stripe is asked first (learnProviderAccountIfUnknown), as the transfer would.
 */
export async function requestForceRelease(
  context: TServiceContext,
  input: TAdminActionInput,
  options: TFourEyesOptions = {},
): Promise<TForceReleaseOutcome> {
  const actor = requireAdminActor(context.actor);
  const reason = requireReason(input.reason);
  const threshold = options.fourEyesThreshold ?? getEnv().FOUR_EYES_THRESHOLD;
  const ctx = resolveContext(context);
  // A new provider's "not ready" is a default, not Stripe's word: ask Stripe before deciding.
  await learnProviderAccountIfUnknown(context, options.stripe ?? getStripe(), { payoutId: input.payoutId });

  return ctx.db.$transaction(async (tx): Promise<TForceReleaseOutcome> => {
    const { booking, payout } = await lockPayoutAndBooking(tx, input.payoutId);
    if (input.expectedVersion !== undefined && input.expectedVersion !== payout.version) {
      throw new PayoutVersionConflictError(payout.id, input.expectedVersion, payout.version);
    }

    // A release a second admin approved whose transfer has not run yet: releasing again changes nothing.
    const newest = await tx.payoutApproval.findFirst({
      where: { payoutId: payout.id, action: FORCE_RELEASE_ACTION },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      select: { status: true, decidedAt: true, decidedBy: { select: { name: true } } },
    });
    const lastAttempt = await tx.transferAttempt.findFirst({
      where: { payoutId: payout.id },
      orderBy: { startedAt: "desc" },
      select: { startedAt: true },
    });
    const approvedRelease = approvedReleaseWaiting(
      payout.status,
      newest && { status: newest.status, decidedAt: newest.decidedAt, approvedBy: newest.decidedBy?.name ?? "a second admin" },
      lastAttempt?.startedAt ?? null,
    );
    if (approvedRelease) {
      const verdict = evaluatePayoutAction("force_release", {
        status: payout.status,
        holdReason: payout.holdReason,
        openDisputes: 0,
        ...providerActionFacts(booking.provider),
        pendingApproval: null,
        approvedRelease,
      });
      if (!verdict.allowed) throw new ConflictError(refusalMessage("force_release", verdict.reason), { payoutId: payout.id });
    }

    if (!needsSecondApproval(payout.amount, payout.currency, threshold)) {
      const released = await forceReleasePayout(
        { ...context, db: joinTransaction(tx) },
        { payoutId: payout.id, reason, expectedVersion: payout.version },
      );
      return { outcome: "applied", ...released };
    }

    const now = ctx.clock.now();
    const audit = { actor, requestId: ctx.requestId, runId: ctx.runId };
    let stillPending: { requestedBy: string } | null = null;
    const pending = await tx.payoutApproval.findMany({
      where: { payoutId: payout.id, action: FORCE_RELEASE_ACTION, status: "pending" },
      select: { id: true },
    });
    for (const { id } of pending) {
      const approval = await lockApproval(tx, id);
      const mismatch = approvalMismatch(await requestBasis(tx, approval, payout), basisOf(payout));
      if (mismatch) await expireApproval(tx, approval, mismatch, now, audit);
      else stillPending = { requestedBy: approval.requestedBy.name };
    }

    // The same rules the dashboard shows and forceReleasePayout applies once approved.
    const openDisputes = await tx.dispute.count({ where: { bookingId: booking.id, status: "open" } });
    const verdict = evaluatePayoutAction("force_release", {
      status: payout.status,
      holdReason: payout.holdReason,
      openDisputes,
      ...providerActionFacts(booking.provider),
      pendingApproval: stillPending,
    });
    if (!verdict.allowed) {
      if (!canTransition(payout.status, "force_release")) throw new IllegalTransitionError(payout.status, "force_release");
      throw new ConflictError(refusalMessage("force_release", verdict.reason), { payoutId: payout.id });
    }

    const approval = await tx.payoutApproval.create({
      data: {
        payoutId: payout.id,
        action: FORCE_RELEASE_ACTION,
        amount: payout.amount,
        currency: payout.currency,
        reason,
        requestedById: actor.id,
        createdAt: now,
      },
    });
    await recordAudit(tx, {
      ...audit,
      action: APPROVAL_AUDIT_ACTIONS.requested,
      entityType: "payout",
      entityId: payout.id,
      reason,
      after: {
        approvalId: approval.id,
        basis: basisOf(payout),
        payoutVersion: payout.version,
        thresholdMinor: fourEyesThresholdFor(payout.currency, threshold),
        status: "pending",
      },
    });
    return { outcome: "approval_requested", payout, approval };
  }, TX_OPTIONS);
}
