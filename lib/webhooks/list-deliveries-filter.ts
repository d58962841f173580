// The webhook deliveries list's filter: parsed from GET /api/admin/webhook-deliveries (and,
// later, the dashboard page's URL). No server imports, so a filter form can share the type.
import { z } from "zod";

export const DELIVERY_PAGE_SIZE = 50;

export const DELIVERY_STATUSES = ["received", "processed", "deferred", "ignored", "failed"] as const;
export const DELIVERY_SOURCES = ["booking_platform", "stripe"] as const;

export const ZDeliveryFilter = z
  .object({
    status: z.enum(DELIVERY_STATUSES).optional(),
    source: z.enum(DELIVERY_SOURCES).optional(),
    type: z.string().trim().min(1).max(100).optional(),
    /** The booking platform's booking id the deliveries concern. */
    booking: z.string().trim().min(1).max(191).optional(),
    /** Opaque: the `nextCursor` of the previous page. */
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(DELIVERY_PAGE_SIZE),
  })
  .strict();

export type TDeliveryFilter = z.infer<typeof ZDeliveryFilter>;
