import { adminRoute } from "@/lib/api/admin-route";
import { db } from "@/lib/db";
import { getDeliveryOrThrow, toDeliveryDetail } from "@/lib/webhooks/list-deliveries";

export const dynamic = "force-dynamic";

/** GET /api/admin/webhook-deliveries/:id: one stored delivery with its payload. Any signed-in role. */
export const GET = adminRoute({ role: "viewer", ids: { id: "Webhook delivery" } }, async ({ ids }) =>
  toDeliveryDetail(await getDeliveryOrThrow(db, ids.id)),
);
