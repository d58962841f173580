// The demo's alert notifications: every alert routed when it was raised; critical ones sent at
// once by email and chat (one email after a retry, one chat message given up on), warnings in
// hourly digests, as lib/notifications/ would have recorded them. Pure (no I/O).
import { routeOf } from "@/lib/notifications/routing";

import { type TDemoContext, HOUR, SECOND, MINUTE } from "./demo-context";

const CHANNELS = ["email", "chat"] as const;

function timeOf(value: Date | string | undefined): number {
  return value === undefined ? 0 : new Date(value).getTime();
}

export function writeDemoNotifications(ctx: TDemoContext): void {
  const { out, ids, now } = ctx;
  const alerts = [...out.alerts].sort((a, b) => timeOf(a.createdAt) - timeOf(b.createdAt));
  let digest: { ids: Record<(typeof CHANNELS)[number], string>; sendAt: number } | null = null;
  let critical = 0;
  for (const alert of alerts) {
    const raisedAt = timeOf(alert.createdAt);
    alert.notifyRoutedAt = new Date(raisedAt);
    const route = routeOf({ kind: alert.kind, severity: alert.severity ?? "warning" });
    if (route.kind === "critical") {
      critical += 1;
      for (const channel of CHANNELS) {
        const sentAt = raisedAt + 2 * SECOND;
        // A few emails went on the second try (the SMTP server was busy); one chat message was given up on.
        const retried = channel === "email" && critical % 7 === 3;
        const givenUp = channel === "chat" && critical === 2;
        const id = ids.uuid();
        out.notifications.push({
          id,
          channel,
          kind: "critical",
          groupKey: route.groupKey,
          windowStartAt: new Date(raisedAt),
          dueAt: new Date(givenUp ? raisedAt + 4 * HOUR : raisedAt),
          status: givenUp ? "failed" : "sent",
          attempts: givenUp ? 6 : retried ? 2 : 1,
          lastError: givenUp ? "The chat webhook answered 404: no_service" : null,
          lastAttemptAt: new Date(givenUp ? raisedAt + 4 * HOUR + 20 * MINUTE : retried ? sentAt + MINUTE : sentAt),
          sentAt: givenUp ? null : new Date(retried ? sentAt + MINUTE : sentAt),
          subject: `[Payouts] CRITICAL: ${alert.title}`.slice(0, 300),
          createdAt: new Date(raisedAt),
        });
        out.notificationItems.push({ notificationId: id, alertId: alert.id ?? "" });
      }
      continue;
    }
    if (!digest || raisedAt > digest.sendAt) {
      const sendAt = raisedAt + HOUR;
      digest = { ids: { email: ids.uuid(), chat: ids.uuid() }, sendAt };
      const sent = sendAt <= now.getTime();
      for (const channel of CHANNELS) {
        out.notifications.push({
          id: digest.ids[channel],
          channel,
          kind: "digest",
          groupKey: route.groupKey,
          windowStartAt: new Date(sendAt),
          dueAt: new Date(sendAt),
          // A digest whose hour has not ended yet is still gathering.
          status: sent ? "sent" : "pending",
          attempts: sent ? 1 : 0,
          lastAttemptAt: sent ? new Date(sendAt + SECOND) : null,
          sentAt: sent ? new Date(sendAt + SECOND) : null,
          subject: sent ? "[Payouts] Warnings" : null,
          createdAt: new Date(raisedAt),
        });
      }
    }
    for (const channel of CHANNELS) out.notificationItems.push({ notificationId: digest.ids[channel], alertId: alert.id ?? "" });
  }
}
