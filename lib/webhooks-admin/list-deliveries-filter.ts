// The Webhook deliveries page's filter (the same parameters as GET /api/admin/webhook-deliveries).
// No server imports, so the filter form and the client share it.
import { z } from "zod";

import { WebhookEventStatus, WebhookSource } from "@/generated/prisma/enums";

export const DELIVERY_PAGE_SIZE = 50;

const UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";

/** A keyset position: receivedAt (ISO, milliseconds) and id, e.g. `2026-11-24T08:49:14.836Z_<uuid>`. */
export const DELIVERY_CURSOR_PATTERN = new RegExp(`^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z_${UUID}$`);

function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === "" ? undefined : value), schema.optional());
}

export const ZDeliveryFilter = z
  .object({
    status: optional(z.enum(WebhookEventStatus)),
    source: optional(z.enum(WebhookSource)),
    type: optional(z.string().trim().min(1).max(100)),
    after: optional(z.string().regex(DELIVERY_CURSOR_PATTERN, "Not a page position.")),
    before: optional(z.string().regex(DELIVERY_CURSOR_PATTERN, "Not a page position.")),
  })
  .strict()
  .refine((f) => !(f.after && f.before), { message: "Give either after or before, not both.", path: ["before"] });

export type TDeliveryFilter = z.infer<typeof ZDeliveryFilter>;

export const DELIVERY_FILTER_KEYS = ["status", "source", "type", "after", "before"] as const;

export function deliveryFilterSearch(filter: Partial<Record<(typeof DELIVERY_FILTER_KEYS)[number], string | undefined>>): string {
  const params = new URLSearchParams();
  for (const key of DELIVERY_FILTER_KEYS) {
    const value = filter[key];
    if (value) params.set(key, value);
  }
  const search = params.toString();
  return search ? `?${search}` : "";
}

/** Deliveries that may be re-driven from the page. */
export const REDRIVABLE_STATUSES: readonly WebhookEventStatus[] = ["failed"];
