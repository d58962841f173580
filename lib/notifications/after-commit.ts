import "server-only";

import type { Db } from "@/lib/db";

import { configuredChannels, notificationConfig } from "./config";
import { deliverAlertNotifications } from "./deliver-notifications";
import { notedAlerts as noted } from "./noted-alerts";

// raiseAlert notes each alert it writes (noted-alerts.ts) inside the raising transaction; the
// after-commit points (admin routes, webhook deliveries, engine steps) call
// `sendAlertNotificationsAfterCommit`, which routes and sends at once what has been committed
// and keeps the keys of alerts not routed yet (their transaction is still open) until they
// are, or until NOTED_TTL_MS has passed (rolled back).

const NOTED_TTL_MS = 2 * 60_000;
/** Also without a new alert, at most this often: digests, roll-ups and retries that became due (no Inngest running, as with `npm start`). */
const DUE_CHECK_MS = 60_000;
let lastPassAt = 0;

/**
 * The first attempt, right after the commit that raised alerts, in this process. No query
 * when no channel is configured, nor unless alerts were raised here since the last pass or
 * DUE_CHECK_MS has passed. Never throws: what it could not do the engine and the
 * reconciliation sweep do.
 */
export async function sendAlertNotificationsAfterCommit(db: Db): Promise<void> {
  return attemptAfterCommit(db);
}

async function attemptAfterCommit(db: Db): Promise<void> {
  const nowMs = Date.now();
  if (noted.size === 0 && nowMs - lastPassAt < DUE_CHECK_MS) return;
  try {
    const config = notificationConfig();
    if (configuredChannels(config).length === 0) {
      noted.clear();
      return;
    }
    lastPassAt = nowMs;
    const keys = [...noted.keys()];
    await deliverAlertNotifications(db, { config });
    const routed =
      keys.length > 0
        ? await db.alert.findMany({ where: { dedupeKey: { in: keys }, notifyRoutedAt: { not: null } }, select: { dedupeKey: true } })
        : [];
    const done = new Set(routed.map((a) => a.dedupeKey));
    for (const key of keys) {
      const at = noted.get(key);
      if (done.has(key) || (at !== undefined && nowMs - at > NOTED_TTL_MS)) noted.delete(key);
    }
  } catch (error) {
    console.error("Alert notifications: the attempt after commit failed; the engine and the sweep retry", error);
  }
}
