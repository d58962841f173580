import "server-only";

import { z } from "zod";

import type { Prisma, WebhookEvent } from "@/generated/prisma/client";
import type { WebhookEventStatus, WebhookSource } from "@/generated/prisma/enums";
import type { Db } from "@/lib/db";
import { NotFoundError, ValidationError } from "@/lib/errors";

import type { TDeliveryFilter } from "./list-deliveries-filter";

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

export type TDeliveryList = { items: TDeliveryListItem[]; nextCursor: string | null };

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
} as const;

type TListRow = Omit<WebhookEvent, "payload">;

function toItem(row: TListRow): TDeliveryListItem {
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

/** Keyset position: newest first by (receivedAt, id). */
export type TDeliveryCursor = { receivedAt: Date; id: string };

const ZCursor = z.tuple([z.iso.datetime(), z.uuid()]);

export function encodeDeliveryCursor(cursor: TDeliveryCursor): string {
  return Buffer.from(JSON.stringify([cursor.receivedAt.toISOString(), cursor.id])).toString("base64url");
}

/** Null when the cursor is not one we issued. */
export function decodeDeliveryCursor(raw: string): TDeliveryCursor | null {
  try {
    const parsed = ZCursor.safeParse(JSON.parse(Buffer.from(raw, "base64url").toString("utf8")));
    return parsed.success ? { receivedAt: new Date(parsed.data[0]), id: parsed.data[1] } : null;
  } catch {
    return null;
  }
}

/** Stored deliveries, newest first, filtered; keyset pagination by (receivedAt, id). */
export async function listDeliveries(db: Db, filter: TDeliveryFilter): Promise<TDeliveryList> {
  const cursor = filter.cursor === undefined ? null : decodeDeliveryCursor(filter.cursor);
  if (filter.cursor !== undefined && !cursor) {
    throw new ValidationError("The cursor is invalid.", { issues: [{ path: "cursor", message: "must be a nextCursor this API returned" }] });
  }
  const where: Prisma.WebhookEventWhereInput = {
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.source ? { source: filter.source } : {}),
    ...(filter.type ? { type: filter.type } : {}),
    ...(filter.booking ? { bookingExternalId: filter.booking } : {}),
    ...(cursor
      ? { OR: [{ receivedAt: { lt: cursor.receivedAt } }, { receivedAt: cursor.receivedAt, id: { lt: cursor.id } }] }
      : {}),
  };
  const rows = await db.webhookEvent.findMany({
    where,
    orderBy: [{ receivedAt: "desc" }, { id: "desc" }],
    take: filter.limit + 1,
    select: listSelect,
  });
  const page = rows.slice(0, filter.limit);
  const last = page.at(-1);
  return {
    items: page.map(toItem),
    nextCursor: rows.length > filter.limit && last ? encodeDeliveryCursor({ receivedAt: last.receivedAt, id: last.id }) : null,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The stored delivery with its payload; 404 when there is none (or the id is not a uuid). */
export async function getDeliveryOrThrow(db: Db, id: string): Promise<WebhookEvent> {
  const row = UUID.test(id) ? await db.webhookEvent.findUnique({ where: { id } }) : null;
  if (!row) throw new NotFoundError("Webhook delivery", id);
  return row;
}
