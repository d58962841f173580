import { cron } from "inngest";

import { defaultDeps, engineContext, type TEngineDeps } from "@/inngest/deps";
import { reapplyStaleDeliveries } from "@/lib/ingest/reapply-stale-deliveries";
import { recoverStripeEvents } from "@/lib/ingest/recover-stripe-events";
import { inngest } from "@/lib/inngest/client";
import { deliverAlertNotifications } from "@/lib/notifications/deliver-notifications";
import { publishOutbox } from "@/lib/outbox/publish-outbox";
import { compactPayoutTotals } from "@/lib/overview/compact-payout-totals";
import { sweepPayouts } from "@/lib/payouts/sweep-payouts";
import { deliverPlatformWebhooks } from "@/lib/platform-webhooks/deliver-platform-webhooks";
import { alertUnmatchedMoneyEvents } from "@/lib/stripe-webhooks/alert-unmatched-events";

export const RECONCILE_PAYOUTS_FN = "reconcile-payouts";

/**
 * Every 15 minutes: re-send events that never reached Inngest, recover Stripe events that were
 * never delivered (Stripe's events API), re-apply webhook deliveries a crash or a transient error
 * left unapplied (bounded attempts), alert about Stripe money events that still match no booking,
 * request transfers for due payouts with none in flight, settle payouts stuck in processing
 * against Stripe, and compact the overview's kept payout totals; last, the alert notifications'
 * backstop: route alerts no attempt after commit reached, send digests, roll-ups and retries due.
 */
export function createReconcilePayoutsFunction(deps: TEngineDeps = defaultDeps) {
  return inngest.createFunction(
    { id: RECONCILE_PAYOUTS_FN, triggers: [cron("TZ=UTC */15 * * * *")], retries: 1, concurrency: [{ limit: 1 }] },
    async ({ step, runId }) => {
      const resent = await step.run("resend-unsent-events", () => publishOutbox(deps.db, { limit: 1000 }));
      const recovered = await step.run("recover-stripe-events", () => recoverStripeEvents(deps));
      const deliveries = await step.run("reapply-stale-deliveries", () => reapplyStaleDeliveries(deps));
      const unmatched = await step.run("alert-unmatched-stripe-events", () => alertUnmatchedMoneyEvents(deps));
      const swept = await step.run("sweep", () => sweepPayouts(engineContext(deps, RECONCILE_PAYOUTS_FN, runId), deps.stripe()));
      const published = await step.run("publish-events", () => publishOutbox(deps.db, { limit: 1000 }));
      const totals = await step.run("compact-payout-totals", () => compactPayoutTotals(deps.db));
      const notified = await step.run("alert-notifications", () => sendAlertNotificationsBySweep(deps));
      // Backstop of the booking platform's webhooks: whatever is due (the deliver function runs each minute).
      const platformWebhooks = await step.run("deliver-platform-webhooks", () => deliverPlatformWebhooks({ db: deps.db }));
      return { resent, recovered, deliveries, unmatched, swept, published, totals, notified, platformWebhooks };
    },
  );
}

/** The sweep's pass over alert notifications (its outcomes left out: the run's output stays small). */
async function sendAlertNotificationsBySweep(deps: TEngineDeps) {
  const { outcomes: _outcomes, ...counts } = await deliverAlertNotifications(deps.db, deps.clock ? { now: deps.clock.now() } : {});
  return counts;
}
