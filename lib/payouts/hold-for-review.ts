import "server-only";

import { raiseAlert } from "@/lib/alerts/raise-alert";
import type { TResolvedContext } from "@/lib/context";
import type { Tx } from "@/lib/db";

import { changePayout, lockPayoutForBooking } from "./change-payout";

export type TReviewInput = {
  bookingId: string;
  /** Why, in words an operator acts on; shown as the hold's note. */
  reason: string;
  alert: { kind: string; title: string; message: string; dedupeKey: string };
};

/**
 * A Stripe money event matched a booking but cannot be applied as it is (another currency, an
 * amount above the charge, a charge of the booking we cannot place): the booking's payout is held
 * for review while it has not been transferred (one already on hold for another reason is then
 * held for review instead: a cause that goes away by itself would otherwise release it unreviewed),
 * and an admin is alerted either way. Nothing is parked silently. Call with the booking locked.
 */
export async function holdForReview(
  tx: Tx,
  ctx: TResolvedContext,
  input: TReviewInput,
): Promise<{ held: boolean; payoutId: string | null }> {
  const payout = await lockPayoutForBooking(tx, input.bookingId);
  let held = false;
  if (payout?.status === "scheduled") {
    await changePayout(tx, payout, {
      event: "hold",
      data: { holdReason: "review_required", holdNote: input.reason.slice(0, 1000) },
      audit: { actor: ctx.actor, action: "payout.held", reason: input.reason, runId: ctx.runId, requestId: ctx.requestId },
    });
    held = true;
  } else if (payout?.status === "on_hold" && payout.holdReason !== "review_required") {
    // Held for another reason (funds, a dispute, the account, an admin): that reason going away would
    // release it (the sweep, the dispute's resolution) and pay it unreviewed. Only a person releases it now.
    const before = payout.holdReason ? payout.holdReason.replaceAll("_", " ") : "held";
    await changePayout(tx, payout, {
      data: { holdReason: "review_required", holdNote: `${input.reason} (held before: ${payout.holdNote ?? before})`.slice(0, 1000) },
      audit: {
        actor: ctx.actor,
        action: "payout.held",
        reason: `${input.reason} (it was held: ${before})`,
        runId: ctx.runId,
        requestId: ctx.requestId,
      },
    });
    held = true;
  }
  const state = !payout
    ? "It has no payout yet."
    : held
      ? "Its payout is held for review."
      : `Its payout is ${payout.status.replace("_", " ")}.`;
  await raiseAlert(tx, {
    kind: input.alert.kind,
    severity: "critical",
    title: input.alert.title,
    message: `${input.alert.message} ${state}`,
    payoutId: payout?.id ?? null,
    providerId: payout?.providerId ?? null,
    dedupeKey: input.alert.dedupeKey,
  });
  return { held, payoutId: payout?.id ?? null };
}
