import { defaultDeps, engineContext, type TEngineDeps } from "@/inngest/deps";
import { withAfterCommitEffects } from "@/lib/after-commit/with-after-commit-effects";
import { inngest } from "@/lib/inngest/client";
import { bookingCancelled, chargeRefunded, disputeOpened, disputeResolved, payoutAdminAction, tipAdded } from "@/lib/inngest/events";
import { refreshPayout } from "@/lib/payouts/refresh-payout";

export const FOLLOW_UP_PAYOUT_FN = "follow-up-payout";

/**
 * After a tip, a dispute opened or resolved, a Stripe refund, a cancellation or an admin action: re-derive
 * the booking's payout through the domain service (idempotent: the webhook or the admin
 * already applied the change; this catches anything that did not land) and request the
 * transfer or reversals that are now due. Long dispute holds need no sleeping function:
 * the resolution event wakes the payout.
 */
export function createFollowUpPayoutFunction(deps: TEngineDeps = defaultDeps) {
  return inngest.createFunction(
    {
      id: FOLLOW_UP_PAYOUT_FN,
      triggers: [tipAdded, disputeOpened, disputeResolved, chargeRefunded, bookingCancelled, payoutAdminAction],
      retries: 5,
    },
    async ({ event, step, runId }) => {
      const target = "bookingId" in event.data ? { bookingId: event.data.bookingId } : { payoutId: event.data.payoutId };
      const result = await step.run("refresh-payout", async () => {
        const r = await withAfterCommitEffects(deps.db, () => refreshPayout(engineContext(deps, FOLLOW_UP_PAYOUT_FN, runId), target));
        return {
          payoutId: r.payout?.id ?? null,
          status: r.payout?.status ?? null,
          transferRequested: r.transferRequested,
          reversalIds: r.reversalIds,
        };
      });
      return result;
    },
  );
}
