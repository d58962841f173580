import { adminRoute } from "@/lib/api/admin-route";
import { defaultWebhookDeps } from "@/lib/webhooks/deps";
import { redriveDelivery, ZRedriveInput } from "@/lib/webhooks/redrive-delivery";

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
