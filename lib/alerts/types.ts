// JSON shapes of the Alerts list and the acknowledge answer (dates as ISO strings).
import type { AlertSeverity } from "@/generated/prisma/enums";
import type { TNumberedPage } from "@/lib/list/numbered-page";

/** One message that carries the alert, on one channel (lib/notifications/), and how its attempts went. */
export type TAlertDelivery = {
  notificationId: string;
  channel: "email" | "chat";
  kind: "critical" | "digest" | "test";
  /** pending with attempts > 0: failed, to be retried at `dueAt`. */
  status: "pending" | "sent" | "failed";
  attempts: number;
  lastError: string | null;
  dueAt: string;
  sentAt: string | null;
  lastAttemptAt: string | null;
  /** How many alerts the message carries (flood control, digests). */
  alertCount: number;
};

export type TAlertListItem = {
  id: string;
  kind: string;
  severity: AlertSeverity;
  title: string;
  message: string;
  payoutId: string | null;
  provider: { id: string; name: string } | null;
  createdAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: { id: string; name: string; email: string } | null;
  /** The note given when it was acknowledged (from the audit log), if any. */
  acknowledgeNote: string | null;
  /** The notifications that carry it (none when notifications are off, or not routed yet). */
  deliveries: TAlertDelivery[];
};

export type TAlertList = TNumberedPage<TAlertListItem> & { counts: { open: number; acknowledged: number } };

export type TAcknowledgeResult = {
  alert: TAlertListItem;
  /** True when it had already been acknowledged (by whoever is named); nothing was written. */
  alreadyAcknowledged: boolean;
};
