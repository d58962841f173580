import { adminRoute } from "@/lib/api/admin-route";
import { db } from "@/lib/db";
import { ZResendDelivery } from "@/lib/platform-webhooks/endpoint-schemas";
import { resendDelivery } from "@/lib/platform-webhooks/resend-delivery";

export const dynamic = "force-dynamic";

/** POST /api/admin/platform-webhook-deliveries/:id/resend { reason? }: one attempt now, logged and audited (admin). */
export const POST = adminRoute(
  { role: "admin", ids: { id: "Platform webhook delivery" }, body: ZResendDelivery, bodyOptional: true },
  ({ ids, body, actor }) => resendDelivery({ db }, { deliveryId: ids.id, actor, ...(body.reason ? { reason: body.reason } : {}) }),
);
