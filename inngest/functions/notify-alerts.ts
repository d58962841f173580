import { defaultDeps, type TEngineDeps } from "@/inngest/deps";
import { inngest } from "@/lib/inngest/client";
import { alertNotificationDue } from "@/lib/inngest/events";
import { notificationConfig, type TNotificationConfig } from "@/lib/notifications/config";
import { deliverAlertNotifications } from "@/lib/notifications/deliver-notifications";
import { notificationState } from "@/lib/notifications/notification-state";

export const NOTIFY_ALERTS_FN = "notify-alerts";

/** Rounds of one run: another sender's claim (the attempt after commit) may make a round find nothing to send. */
const ROUNDS = 3;

/**
 * alert/notification.due: sends one alert notification when it is due. A message is sent at
 * once after the commit that raised its alert, in that process (lib/notifications/after-commit.ts);
 * this run is the engine's side: it sleeps until the message is due (a digest's or a roll-up's
 * window end, a retry's backoff), then makes the attempt. A failed attempt records the error
 * and the next backoff on the message and queues the next event, whose run makes the retry, up
 * to the last attempt. Claims keep this run and the after-commit attempt (or the sweep) from both
 * sending it; a message already sent or given up ends the run.
 */
export function createNotifyAlertsFunction(deps: TEngineDeps = defaultDeps, config: () => TNotificationConfig = notificationConfig) {
  return inngest.createFunction(
    {
      id: NOTIFY_ALERTS_FN,
      triggers: [alertNotificationDue],
      retries: 3,
      concurrency: [{ key: "event.data.notificationId", limit: 1 }],
    },
    async ({ event, step }) => {
      const notificationId = event.data.notificationId;
      for (let round = 1; round <= ROUNDS; round++) {
        const state = await step.run(`check-${round}`, () => notificationState(deps.db, notificationId));
        if (!state || state.status !== "pending") return { notificationId, status: state?.status ?? "missing" };
        const now = deps.clock?.now() ?? new Date();
        if (Date.parse(state.wakeAt) > now.getTime()) await step.sleepUntil(`wait-${round}`, state.wakeAt);
        const outcome = await step.run(`attempt-${round}`, async () => {
          const result = await deliverAlertNotifications(deps.db, {
            config: config(),
            now: deps.clock?.now() ?? new Date(),
            ids: [notificationId],
          });
          return result.outcomes.find((o) => o.id === notificationId) ?? null;
        });
        if (outcome) return { notificationId, status: outcome.outcome, ...(outcome.error ? { error: outcome.error } : {}) };
      }
      return { notificationId, status: "pending" };
    },
  );
}
