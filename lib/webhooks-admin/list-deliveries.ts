import "server-only";

import type { Prisma } from "@/generated/prisma/client";
import type { WebhookEventStatus, WebhookSource } from "@/generated/prisma/enums";
import type { Db } from "@/lib/db";

import { DELIVERY_PAGE_SIZE, type TDeliveryFilter } from "./list-deliveries-filter";

export type TDeliveryItem = {
  id: string;
  source: WebhookSource;
  externalId: string;
  type: string;
  status: WebhookEventStatus;
  error: string | null;
  applyAttempts: number;
  bookingExternalId: string | null;
  receivedAt: string;
  processedAt: string | null;
  payload: Prisma.JsonValue;
};

export type TDeliveryList = {
  items: TDeliveryItem[];
  /** Position for the next (older) page; null on the last page. */
  nextCursor: string | null;
  /** Position for the previous (newer) page; null on the first page. */
  prevCursor: string | null;
};

export function deliveryCursor(item: { receivedAt: string | Date; id: string }): string {
  return `${new Date(item.receivedAt).toISOString()}_${item.id}`;
}

function parseCursor(cursor: string): { receivedAt: Date; id: string } {
  const at = cursor.indexOf("_");
  return { receivedAt: new Date(cursor.slice(0, at)), id: cursor.slice(at + 1).toLowerCase() };
}

const select = {
  id: true,
  source: true,
  externalId: true,
  type: true,
  status: true,
  error: true,
  applyAttempts: true,
  bookingExternalId: true,
  receivedAt: true,
  processedAt: true,
  payload: true,
} as const;

type TRow = Omit<TDeliveryItem, "receivedAt" | "processedAt"> & { receivedAt: Date; processedAt: Date | null };

function toItem(row: TRow): TDeliveryItem {
  return { ...row, receivedAt: row.receivedAt.toISOString(), processedAt: row.processedAt?.toISOString() ?? null };
}

/**
 * One page of stored webhook deliveries, newest first, read straight from WebhookEvent
 * with keyset pagination on (receivedAt, id): `after` continues with older deliveries,
 * `before` goes back to newer ones.
 */
export async function listDeliveries(db: Db, filter: TDeliveryFilter, pageSize = DELIVERY_PAGE_SIZE): Promise<TDeliveryList> {
  const where: Prisma.WebhookEventWhereInput = {
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.source ? { source: filter.source } : {}),
    ...(filter.type ? { type: filter.type } : {}),
  };
  if (filter.before) {
    const { receivedAt, id } = parseCursor(filter.before);
    const rows = await db.webhookEvent.findMany({
      where: { AND: [where, { OR: [{ receivedAt: { gt: receivedAt } }, { receivedAt, id: { gt: id } }] }] },
      orderBy: [{ receivedAt: "asc" }, { id: "asc" }],
      take: pageSize + 1,
      select,
    });
    const items = rows.slice(0, pageSize).reverse().map(toItem);
    const first = items[0];
    const last = items.at(-1);
    return { items, nextCursor: last ? deliveryCursor(last) : filter.before, prevCursor: rows.length > pageSize && first ? deliveryCursor(first) : null };
  }
  const position = filter.after ? parseCursor(filter.after) : null;
  const rows = await db.webhookEvent.findMany({
    where: position
      ? { AND: [where, { OR: [{ receivedAt: { lt: position.receivedAt } }, { receivedAt: position.receivedAt, id: { lt: position.id } }] }] }
      : where,
    orderBy: [{ receivedAt: "desc" }, { id: "desc" }],
    take: pageSize + 1,
    select,
  });
  const items = rows.slice(0, pageSize).map(toItem);
  const first = items[0];
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > pageSize && last ? deliveryCursor(last) : null,
    prevCursor: position ? (first ? deliveryCursor(first) : filter.after ?? null) : null,
  };
}

/** Delivery types seen recently, for the type filter's suggestions. */
export async function listRecentDeliveryTypes(db: Db): Promise<string[]> {
  const rows = await db.$queryRaw<{ type: string }[]>`
    SELECT DISTINCT t."type" FROM (SELECT w."type" FROM "WebhookEvent" w ORDER BY w."receivedAt" DESC LIMIT 5000) t ORDER BY 1`;
  return rows.map((r) => r.type);
}

/** How many deliveries are in each status (for the status filter's counts). */
export async function countDeliveriesByStatus(db: Db): Promise<Partial<Record<WebhookEventStatus, number>>> {
  const rows = await db.webhookEvent.groupBy({ by: ["status"], _count: { _all: true }, orderBy: { status: "asc" } });
  return Object.fromEntries(rows.map((r) => [r.status, r._count._all]));
}
