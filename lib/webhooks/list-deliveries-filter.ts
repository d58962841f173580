// The webhook deliveries list's filter: parsed from GET /api/admin/webhook-deliveries and
// from the Webhooks page's URL, and the keyset position both page with. No server
// imports, so the filter form and the client share it.
import { z } from "zod";

import { WebhookEventStatus, WebhookSource } from "@/generated/prisma/enums";
import { storableText } from "@/lib/http/storable-text";
import { decodeInstantPosition, encodeInstantPosition } from "@/lib/list/keyset-position";

export const DELIVERY_PAGE_SIZE = 50;

/** A keyset position: receivedAt (ISO, milliseconds) and id, e.g. `2026-11-24T08:49:14.836Z_<uuid>`. */
export type TDeliveryCursor = { receivedAt: Date; id: string };

export function encodeDeliveryCursor(delivery: { receivedAt: string | Date; id: string }): string {
  return encodeInstantPosition({ at: delivery.receivedAt, id: delivery.id });
}

/** Null when the text is not a position this list hands out (including impossible instants). */
export function decodeDeliveryCursor(raw: string): TDeliveryCursor | null {
  const position = decodeInstantPosition(raw);
  return position && { receivedAt: position.at, id: position.id };
}

/** Form fields left empty (and empty query parameters) arrive as "": treat them as not given. */
function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === "" ? undefined : value), schema.optional());
}

const position = optional(
  z.string().refine((value) => decodeDeliveryCursor(value) !== null, "Not a page position (use a nextCursor or prevCursor of this list)."),
);

export const ZDeliveryFilter = z
  .object({
    status: optional(z.enum(WebhookEventStatus)),
    source: optional(z.enum(WebhookSource)),
    type: optional(storableText().trim().min(1).max(100)),
    /** The booking platform's booking id the deliveries concern. */
    booking: optional(storableText().trim().min(1).max(191)),
    /** Deliveries older than this position (the next page). */
    after: position,
    /** Deliveries newer than this position (the previous page). */
    before: position,
    /** The API's name for `after`: the `nextCursor` of the previous page. */
    cursor: position,
    limit: z.preprocess((value) => (value === "" ? undefined : value), z.coerce.number().int().min(1).max(100).default(DELIVERY_PAGE_SIZE)),
  })
  .strict()
  .superRefine((f, ctx) => {
    const given = (["after", "before", "cursor"] as const).filter((key) => f[key]);
    if (given.length > 1) ctx.addIssue({ code: "custom", path: [given[1]!], message: `Give only one of ${given.join(", ")}.` });
  })
  .transform(({ cursor, ...filter }) => (cursor ? { ...filter, after: cursor } : filter));

export type TDeliveryFilter = z.output<typeof ZDeliveryFilter>;

export const DEFAULT_DELIVERY_FILTER: TDeliveryFilter = ZDeliveryFilter.parse({});

/** What the Webhooks page reads from its URL (the API takes `booking`, `limit` and `cursor` too). */
export const DELIVERY_FILTER_KEYS = ["status", "source", "type", "after", "before"] as const;

/**
 * Deliveries that can be re-driven: the one rule the API (redriveDelivery) enforces and the
 * page offers the button for. A failed one needs a person; a deferred one is re-applied by
 * itself when its booking arrives and one left received is picked up by the sweep, but an
 * operator may apply either now. A processed or ignored one has nothing to re-apply.
 */
export const REDRIVABLE_STATUSES: readonly WebhookEventStatus[] = ["failed", "deferred", "received"];
