import "server-only";

import type { Prisma, WebhookEvent } from "@/generated/prisma/client";
import type { WebhookEventStatus, WebhookSource } from "@/generated/prisma/enums";
import type { Db } from "@/lib/db";
import { NotFoundError } from "@/lib/errors";
import { isUuid } from "@/lib/ids";

import { decodeDeliveryCursor, encodeDeliveryCursor, type TDeliveryCursor, type TDeliveryFilter } from "./list-deliveries-filter";
import type { TApplyOutcome } from "./types";

export type TDeliveryListItem = {
  id: string;
  source: WebhookSource;
  externalId: string;
  type: string;
  bookingExternalId: string | null;
  status: WebhookEventStatus;
  /** Why it failed, or what it is waiting for (deferred), or why it was ignored. */
  error: string | null;
  /** For processed deliveries: the business outcome worth knowing (e.g. "tip rejected: …"). */
  note: string | null;
  applyAttempts: number;
  receivedAt: string;
  processedAt: string | null;
};

export type TDeliveryDetail = TDeliveryListItem & { payload: Prisma.JsonValue };

/** What a re-drive (lib/ingest/redrive-delivery.ts) answers: the delivery as it is now, and what applying it came to. */
export type TRedriveResult = { delivery: TDeliveryDetail; outcome: TApplyOutcome };

export type TDeliveryList<TItem extends TDeliveryListItem = TDeliveryListItem> = {
  items: TItem[];
  /** Position for the next (older) page; null on the last page. */
  nextCursor: string | null;
  /** Position for the previous (newer) page; null on the first page. */
  prevCursor: string | null;
};

const listSelect = {
  id: true,
  source: true,
  externalId: true,
  type: true,
  bookingExternalId: true,
  status: true,
  error: true,
  applyAttempts: true,
  receivedAt: true,
  processedAt: true,
  apiVersion: true,
  account: true,
  eventCreatedAt: true,
} as const;

function toItem(row: Omit<WebhookEvent, "payload">): TDeliveryListItem {
  // One column holds both: a processed delivery's text is a note, anything else's an error.
  const processed = row.status === "processed";
  return {
    id: row.id,
    source: row.source,
    externalId: row.externalId,
    type: row.type,
    bookingExternalId: row.bookingExternalId,
    status: row.status,
    error: processed ? null : row.error,
    note: processed ? row.error : null,
    applyAttempts: row.applyAttempts,
    receivedAt: row.receivedAt.toISOString(),
    processedAt: row.processedAt?.toISOString() ?? null,
  };
}

export function toDeliveryDetail(row: WebhookEvent): TDeliveryDetail {
  return { ...toItem(row), payload: row.payload };
}

/** Rows strictly beyond a position in the list's order: older for `after`, newer for `before`. */
function beyond(position: TDeliveryCursor, direction: "lt" | "gt"): Prisma.WebhookEventWhereInput {
  return {
    OR: [{ receivedAt: { [direction]: position.receivedAt } }, { receivedAt: position.receivedAt, id: { [direction]: position.id } }],
  };
}

/** The filter's positions were checked by ZDeliveryFilter; a position that slipped past it is none. */
function positionOf(raw: string | undefined): TDeliveryCursor | null {
  return raw === undefined ? null : decodeDeliveryCursor(raw);
}

/**
 * One page of stored deliveries, newest first, filtered, with keyset pagination on
 * (receivedAt, id): `after` continues with older deliveries, `before` goes back to newer
 * ones. Items carry no payload unless `{ payload: true }` (the page shows it inline).
 */
export async function listDeliveries(db: Db, filter: TDeliveryFilter): Promise<TDeliveryList>;
export async function listDeliveries(db: Db, filter: TDeliveryFilter, options: { payload: true }): Promise<TDeliveryList<TDeliveryDetail>>;
export async function listDeliveries(
  db: Db,
  filter: TDeliveryFilter,
  options: { payload?: boolean } = {},
): Promise<TDeliveryList<TDeliveryListItem | TDeliveryDetail>> {
  const after = positionOf(filter.after);
  const before = positionOf(filter.before);
  const position = before ? beyond(before, "gt") : after ? beyond(after, "lt") : {};
  const order = before ? "asc" : "desc";
  const rows = await db.webhookEvent.findMany({
    where: {
      AND: [
        {
          ...(filter.status ? { status: filter.status } : {}),
          ...(filter.source ? { source: filter.source } : {}),
          ...(filter.type ? { type: filter.type } : {}),
          ...(filter.booking ? { bookingExternalId: filter.booking } : {}),
        },
        position,
      ],
    },
    orderBy: [{ receivedAt: order }, { id: order }],
    take: filter.limit + 1,
    select: { ...listSelect, payload: options.payload === true },
  });
  const more = rows.length > filter.limit;
  const page = rows.slice(0, filter.limit);
  if (before) page.reverse();
  const first = page[0];
  const last = page.at(-1);
  const cursorOf = (row: { receivedAt: Date; id: string } | undefined, fallback: string | null) =>
    row ? encodeDeliveryCursor(row) : fallback;
  return {
    items: page.map((row) => (options.payload ? toDeliveryDetail(row) : toItem(row))),
    // Coming back with `before`, the page we came from is older; having moved on with `after`, a newer one is behind us.
    nextCursor: before ? cursorOf(last, filter.before ?? null) : more ? cursorOf(last, null) : null,
    prevCursor: before ? (more ? cursorOf(first, null) : null) : after ? cursorOf(first, filter.after ?? null) : null,
  };
}

/** The stored delivery with its payload; 404 when there is none (or the id is not a uuid). */
export async function getDeliveryOrThrow(db: Db, id: string): Promise<WebhookEvent> {
  const row = isUuid(id) ? await db.webhookEvent.findUnique({ where: { id } }) : null;
  if (!row) throw new NotFoundError("Webhook delivery", id);
  return row;
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
