import { adminRoute } from "@/lib/api/admin-route";
import { redriveDelivery, ZRedriveInput } from "@/lib/ingest/redrive-delivery";
import { defaultWebhookDeps } from "@/lib/webhooks/deps";

export const dynamic = "force-dynamic";

/**
 * POST /api/admin/webhook-deliveries/:id/redrive, optional body `{ "reason": "…" }`:
 * re-applies a delivery that did not go through (failed, deferred, or left received).
 * Operator role, same-origin only; audited with the reason.
 */
export const POST = adminRoute(
  { role: "operator", ids: { id: "Webhook delivery" }, body: ZRedriveInput, bodyOptional: true },
  ({ ids, body, actor }) => redriveDelivery(defaultWebhookDeps, { id: ids.id, actor, reason: body.reason }),
);
