import "server-only";

import type { Db } from "@/lib/db";
import { publishOutbox } from "@/lib/outbox/publish-outbox";

import { configuredChannels, notificationConfig, type TNotificationConfig } from "./config";
import { routeAlerts } from "./route-alerts";
import { sendDueNotifications, type TSendOutcome } from "./send-notifications";

export type TDeliverResult = { routed: number; created: number; sent: number; retry: number; failed: number };

/**
 * One pass of the notifier: route the alerts not routed yet into messages, send the messages
 * that are due (critical ones at once, digests and roll-ups when their window ends, retries
 * after their backoff), then hand the engine its events (new messages, retries). Safe to run
 * anywhere and any number of times at once (an advisory lock for routing, claims for sending).
 * With no channel configured it only marks the alerts routed (so that configuring a channel
 * later does not send the backlog).
 */
export async function deliverAlertNotifications(
  db: Db,
  options: { config?: TNotificationConfig; now?: Date; ids?: string[] } = {},
): Promise<TDeliverResult & { outcomes: TSendOutcome[] }> {
  const config = options.config ?? notificationConfig();
  const now = options.now ?? new Date();
  const routed = await routeAlerts(db, config, now);
  const outcomes =
    configuredChannels(config).length > 0
      ? await sendDueNotifications(db, config, { now, ...(options.ids ? { ids: options.ids } : {}) })
      : [];
  const eventIds = [...routed.eventIds, ...outcomes.flatMap((o) => (o.eventId ? [o.eventId] : []))];
  if (eventIds.length > 0) {
    try {
      await publishOutbox(db, { eventIds, now });
    } catch (error) {
      console.error("Alert notifications: handing the engine its events failed; the sweep sends them", error);
    }
  }
  return {
    routed: routed.routed,
    created: routed.created.length,
    sent: outcomes.filter((o) => o.outcome === "sent").length,
    retry: outcomes.filter((o) => o.outcome === "retry").length,
    failed: outcomes.filter((o) => o.outcome === "failed").length,
    outcomes,
  };
}
