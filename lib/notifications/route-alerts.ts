import "server-only";

import { TX_OPTIONS } from "@/lib/context";
import type { Db, Tx } from "@/lib/db";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";

import { configuredChannels, type TChannel, type TNotificationConfig } from "./config";
import { routeOf, type TRoute, windowStartFor } from "./routing";

/** Alerts routed per pass (the rest on the next pass). */
const ROUTE_BATCH = 500;

/** The engine's event for a message: sent when due and retried with backoff (inngest/functions/notify-alerts.ts). */
export function notificationEventId(notificationId: string, attempts: number): string {
  return `alert-notification:${notificationId}:${attempts}`;
}

export type TRouteResult = { routed: number; created: string[]; eventIds: string[] };

/**
 * Puts each alert not yet routed into one message per configured channel, in one short
 * transaction of its own (never the raising one): a critical alert (routing.ts) joins its kind's
 * message that has not been tried yet, or opens a new one, due at once, or at the end of the
 * window the kind's previous message opened (flood control: one message per kind per window,
 * with a count); a warning joins the channel's next digest. A message already being sent (a
 * sender's claim) or tried is never joined: what it says is fixed. New messages get an engine
 * event in the same transaction (the outbox), so they are sent even if this process stops.
 * Routers take turns (an advisory lock), so two never open the same window twice; with no
 * channel configured alerts are marked routed and nothing else is written.
 */
export async function routeAlerts(db: Db, config: TNotificationConfig, now: Date = new Date()): Promise<TRouteResult> {
  const channels = configuredChannels(config);
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended('alert-notification-routing', 0))`;
    const alerts = await tx.$queryRaw<{ id: string; kind: string; severity: string }[]>`
      SELECT id::text AS id, kind, severity::text AS severity FROM "Alert"
      WHERE "notifyRoutedAt" IS NULL
      ORDER BY "createdAt", id
      LIMIT ${ROUTE_BATCH}
      FOR UPDATE SKIP LOCKED`;
    if (alerts.length === 0) return { routed: 0, created: [], eventIds: [] };
    const created: string[] = [];
    // The message each (channel, group) gathers into during this pass.
    const open = new Map<string, string>();
    for (const alert of alerts) {
      const route = routeOf(alert);
      for (const channel of channels) {
        const key = `${channel}|${route.groupKey}`;
        let notificationId = open.get(key);
        if (!notificationId) {
          const found = await openMessageFor(tx, channel, route, config, now);
          notificationId = found.id;
          if (found.created) created.push(found.id);
          open.set(key, notificationId);
        }
        await tx.alertNotificationItem.createMany({ data: [{ notificationId, alertId: alert.id }], skipDuplicates: true });
      }
    }
    await tx.alert.updateMany({ where: { id: { in: alerts.map((a) => a.id) } }, data: { notifyRoutedAt: now } });
    const eventIds: string[] = [];
    for (const id of created) {
      const eventId = notificationEventId(id, 0);
      await enqueueEvent(tx, { name: "alert/notification.due", data: { notificationId: id }, eventId });
      eventIds.push(eventId);
    }
    return { routed: alerts.length, created, eventIds };
  }, TX_OPTIONS);
}

/** The group's latest message if it can still take alerts (pending, never tried, not claimed); else a new one. */
async function openMessageFor(
  tx: Tx,
  channel: TChannel,
  route: TRoute,
  config: TNotificationConfig,
  now: Date,
): Promise<{ id: string; created: boolean }> {
  // FOR UPDATE: a sender's claim (FOR UPDATE SKIP LOCKED) either committed before this read, and
  // is seen, or waits until this transaction has added its alerts.
  const [latest] = await tx.$queryRaw<{ id: string; windowStartAt: Date; status: string; attempts: number; claimed: boolean }[]>`
    SELECT id::text AS id, "windowStartAt", status::text AS status, attempts,
           ("claimedUntil" IS NOT NULL AND "claimedUntil" > clock_timestamp()) AS claimed
    FROM "AlertNotification"
    WHERE channel = ${channel}::"NotificationChannel" AND "groupKey" = ${route.groupKey}
    ORDER BY "windowStartAt" DESC, "createdAt" DESC
    LIMIT 1
    FOR UPDATE`;
  if (latest && latest.status === "pending" && latest.attempts === 0 && !latest.claimed) return { id: latest.id, created: false };
  const windowStartAt = windowStartFor(route, latest?.windowStartAt ?? null, now, config);
  const row = await tx.alertNotification.create({
    data: { channel, kind: route.kind, groupKey: route.groupKey, windowStartAt, dueAt: windowStartAt },
    select: { id: true },
  });
  return { id: row.id, created: true };
}
