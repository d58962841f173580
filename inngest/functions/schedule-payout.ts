import { NonRetriableError } from "inngest";

import { defaultDeps, engineContext, type TEngineDeps } from "@/inngest/deps";
import { withAfterCommitEffects } from "@/lib/after-commit/with-after-commit-effects";
import { inngest } from "@/lib/inngest/client";
import { bookingCompleted } from "@/lib/inngest/events";
import { refreshPayoutTogether } from "@/lib/payouts/refresh-payout";
import { schedulePayout } from "@/lib/payouts/schedule-payout";

export const SCHEDULE_PAYOUT_FN = "schedule-payout";

/**
 * booking/completed: schedule the payout (idempotent), sleep until it is due, re-check
 * eligibility with the facts of that moment, and request the transfer. A held payout
 * (dispute, admin) is not waited on here: its release requests the transfer itself.
 */
export function createSchedulePayoutFunction(deps: TEngineDeps = defaultDeps) {
  return inngest.createFunction(
    { id: SCHEDULE_PAYOUT_FN, triggers: [bookingCompleted], retries: 3, idempotency: "event.data.bookingId" },
    async ({ event, step, runId }) => {
      const ctx = () => engineContext(deps, SCHEDULE_PAYOUT_FN, runId);
      const payout = await step.run("schedule", async () => {
        const p = await withAfterCommitEffects(deps.db, () => schedulePayout(ctx(), { bookingId: event.data.bookingId }));
        if (!p) throw new NonRetriableError(`Booking ${event.data.bookingId} has no payout (cancelled).`);
        return { id: p.id, status: p.status, eligibleAt: p.eligibleAt.toISOString() };
      });

      await step.sleepUntil("wait-until-due", payout.eligibleAt);

      const due = await step.run("request-transfer-if-eligible", async () => {
        const result = await withAfterCommitEffects(deps.db, () => refreshPayoutTogether(ctx(), { payoutId: payout.id }));
        return { transferRequested: result.transferRequested, status: result.payout?.status ?? null };
      });
      return { payoutId: payout.id, ...due };
    },
  );
}
