import { NextResponse } from "next/server";

import { withErrors } from "@/lib/api/respond";
import { requireMutationUser } from "@/lib/api/guard";
import { defaultWebhookDeps } from "@/lib/webhooks/deps";
import { parseRedriveBody, redriveDelivery } from "@/lib/webhooks/redrive-delivery";

export const dynamic = "force-dynamic";

/**
 * POST /api/admin/webhook-deliveries/:id/redrive, optional body `{ "reason": "…" }`:
 * re-applies a delivery that did not go through (failed, deferred, or left received).
 * Operator role, same-origin only; audited with the reason.
 */
export const POST = withErrors(async (request, context: RouteContext<"/api/admin/webhook-deliveries/[id]/redrive">) => {
  const user = await requireMutationUser(request, "operator");
  const { id } = await context.params;
  const { reason } = await parseRedriveBody(request);
  const result = await redriveDelivery(defaultWebhookDeps, {
    id,
    actor: { type: "admin", id: user.id, label: `${user.name} <${user.email}>` },
    reason,
  });
  return NextResponse.json(result);
});
