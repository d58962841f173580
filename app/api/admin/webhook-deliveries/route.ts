import { adminRoute } from "@/lib/api/admin-route";
import { db } from "@/lib/db";
import { listDeliveries } from "@/lib/webhooks/list-deliveries";
import { ZDeliveryFilter } from "@/lib/webhooks/list-deliveries-filter";

export const dynamic = "force-dynamic";

/**
 * GET /api/admin/webhook-deliveries?status=&source=&type=&booking=&limit=&cursor=|after=|before=
 * Stored inbound deliveries (booking platform and Stripe), newest first, with their status
 * and error, without payloads; `nextCursor` (as `cursor` or `after`) fetches the next page,
 * `prevCursor` (as `before`) the previous one. Empty parameters are no filter; anything
 * else unknown or malformed is a 400. Any signed-in role.
 */
export const GET = adminRoute({ role: "viewer", query: ZDeliveryFilter }, ({ query }) => listDeliveries(db, query));
