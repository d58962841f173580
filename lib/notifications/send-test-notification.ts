import "server-only";

import { adminActorOf } from "@/lib/audit/admin-actor";
import { recordAudit } from "@/lib/audit/record-audit";
import type { Db } from "@/lib/db";
import { ConflictError } from "@/lib/errors";

import { configuredChannels, notificationConfig, type TChannel, type TNotificationConfig } from "./config";
import { sendDueNotifications } from "./send-notifications";

export type TTestNotificationResult = {
  results: { notificationId: string; channel: TChannel; status: "sent" | "failed" | "pending"; error: string | null }[];
};

/**
 * An admin's "send a test message": one test message per configured channel, recorded and
 * audited in one transaction, then sent at once (a claim, as any message) and answered with
 * what each channel did. Not retried: the admin sees the error. Nothing configured: 409.
 */
export async function sendTestNotification(
  db: Db,
  user: { id: string; name: string; email: string },
  input: { requestId: string },
  options: { config?: TNotificationConfig; now?: Date } = {},
): Promise<TTestNotificationResult> {
  const config = options.config ?? notificationConfig();
  const now = options.now ?? new Date();
  const channels = configuredChannels(config);
  if (channels.length === 0) {
    throw new ConflictError(
      "Alert notifications are not configured: set SMTP_URL (with ALERT_EMAIL_FROM and ALERT_EMAIL_TO) or ALERT_CHAT_WEBHOOK_URL.",
    );
  }
  const created = await db.$transaction(async (tx) => {
    const rows: { id: string; channel: TChannel }[] = [];
    for (const channel of channels) {
      const row = await tx.alertNotification.create({
        data: { channel, kind: "test", groupKey: `test:${input.requestId}`, windowStartAt: now, dueAt: now, requestedById: user.id },
        select: { id: true, channel: true },
      });
      rows.push(row);
      await recordAudit(tx, {
        actor: adminActorOf(user),
        action: "alert_notification.test_requested",
        entityType: "alert_notification",
        entityId: row.id,
        after: { channel, kind: "test" },
        requestId: input.requestId,
        at: now,
      });
    }
    return rows;
  });
  const outcomes = await sendDueNotifications(db, config, { now, ids: created.map((c) => c.id) });
  return {
    results: created.map((c) => {
      const outcome = outcomes.find((o) => o.id === c.id);
      return {
        notificationId: c.id,
        channel: c.channel,
        status: outcome ? (outcome.outcome === "sent" ? "sent" : "failed") : "pending",
        error: outcome?.error ?? null,
      };
    }),
  };
}
