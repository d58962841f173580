import "server-only";

import type { Db, Tx } from "@/lib/db";

import { ALERT_PAGE_SIZE, type TAlertFilter } from "./list-alerts-filter";
import type { TAlertDelivery, TAlertList, TAlertListItem } from "./types";

export const ALERT_ACKNOWLEDGED_ACTION = "alert.acknowledged";

export const alertSelect = {
  id: true,
  kind: true,
  severity: true,
  title: true,
  message: true,
  payoutId: true,
  provider: { select: { id: true, name: true } },
  createdAt: true,
  acknowledgedAt: true,
  acknowledgedBy: { select: { id: true, name: true, email: true } },
  notifications: {
    select: {
      notification: {
        select: {
          id: true,
          channel: true,
          kind: true,
          status: true,
          attempts: true,
          lastError: true,
          dueAt: true,
          sentAt: true,
          lastAttemptAt: true,
          windowStartAt: true,
          _count: { select: { items: true } },
        },
      },
    },
  },
} as const;

type TDeliveryRow = {
  notification: {
    id: string;
    channel: TAlertDelivery["channel"];
    kind: TAlertDelivery["kind"];
    status: TAlertDelivery["status"];
    attempts: number;
    lastError: string | null;
    dueAt: Date;
    sentAt: Date | null;
    lastAttemptAt: Date | null;
    windowStartAt: Date;
    _count: { items: number };
  };
};

type TAlertRow = Omit<TAlertListItem, "createdAt" | "acknowledgedAt" | "acknowledgeNote" | "deliveries"> & {
  createdAt: Date;
  acknowledgedAt: Date | null;
  notifications: TDeliveryRow[];
};

/** Deliveries in the order their windows open, email before chat. */
const CHANNEL_ORDER: Record<TAlertDelivery["channel"], number> = { email: 0, chat: 1 };

function toDelivery({ notification: n }: TDeliveryRow): TAlertDelivery {
  return {
    notificationId: n.id,
    channel: n.channel,
    kind: n.kind,
    status: n.status,
    attempts: n.attempts,
    lastError: n.lastError,
    dueAt: n.dueAt.toISOString(),
    sentAt: n.sentAt?.toISOString() ?? null,
    lastAttemptAt: n.lastAttemptAt?.toISOString() ?? null,
    alertCount: n._count.items,
  };
}

/** The notes given when these alerts were acknowledged (the latest acknowledgement each). */
async function acknowledgeNotes(db: Db | Tx, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const entries = await db.auditLog.findMany({
    where: { entityType: "alert", entityId: { in: ids }, action: ALERT_ACKNOWLEDGED_ACTION, reason: { not: null } },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    select: { entityId: true, reason: true },
  });
  return new Map(entries.map((e) => [e.entityId, e.reason ?? ""]));
}

export async function toAlertItems(db: Db | Tx, rows: TAlertRow[]): Promise<TAlertListItem[]> {
  const notes = await acknowledgeNotes(
    db,
    rows.filter((r) => r.acknowledgedAt).map((r) => r.id),
  );
  return rows.map(({ notifications, ...r }) => ({
    ...r,
    createdAt: r.createdAt.toISOString(),
    acknowledgedAt: r.acknowledgedAt?.toISOString() ?? null,
    acknowledgeNote: notes.get(r.id) ?? null,
    deliveries: notifications
      .toSorted(
        (a, b) =>
          a.notification.windowStartAt.getTime() - b.notification.windowStartAt.getTime() ||
          CHANNEL_ORDER[a.notification.channel] - CHANNEL_ORDER[b.notification.channel],
      )
      .map(toDelivery),
  }));
}

const newestFirst = [{ createdAt: "desc" }, { id: "desc" }] as const;
const recentlyAcknowledgedFirst = [{ acknowledgedAt: "desc" }, { id: "desc" }] as const;

/**
 * One page of alerts: open (unacknowledged) ones first, newest first; then acknowledged
 * ones, the most recently acknowledged first. Offset pagination over that order.
 */
export async function listAlerts(db: Db, filter: TAlertFilter, pageSize = ALERT_PAGE_SIZE): Promise<TAlertList> {
  const [open, acknowledged] = await db.$transaction([
    db.alert.count({ where: { acknowledgedAt: null } }),
    db.alert.count({ where: { acknowledgedAt: { not: null } } }),
  ]);
  const openCount = filter.state === "acknowledged" ? 0 : open;
  const acknowledgedCount = filter.state === "open" ? 0 : acknowledged;
  const offset = (filter.page - 1) * pageSize;

  const rows: TAlertRow[] = [];
  if (offset < openCount) {
    rows.push(
      ...(await db.alert.findMany({
        where: { acknowledgedAt: null },
        orderBy: [...newestFirst],
        skip: offset,
        take: pageSize,
        select: alertSelect,
      })),
    );
  }
  const remaining = pageSize - rows.length;
  const skip = Math.max(0, offset - openCount);
  if (remaining > 0 && skip < acknowledgedCount) {
    rows.push(
      ...(await db.alert.findMany({
        where: { acknowledgedAt: { not: null } },
        orderBy: [...recentlyAcknowledgedFirst],
        skip,
        take: remaining,
        select: alertSelect,
      })),
    );
  }
  return {
    items: await toAlertItems(db, rows),
    total: openCount + acknowledgedCount,
    page: filter.page,
    pageSize,
    counts: { open, acknowledged },
  };
}
