import { adminRoute } from "@/lib/api/admin-route";
import { db } from "@/lib/db";
import { ZRotateSecret } from "@/lib/platform-webhooks/endpoint-schemas";
import { rotateSecret } from "@/lib/platform-webhooks/manage-endpoints";

export const dynamic = "force-dynamic";

/**
 * POST /api/admin/platform-webhooks/:id/rotate-secret { graceHours?, reason? }: a new secret (shown
 * this once); the old one keeps signing beside it for the grace period (default 24 h). Admin, audited.
 */
export const POST = adminRoute(
  { role: "admin", ids: { id: "Platform webhook endpoint" }, body: ZRotateSecret, bodyOptional: true },
  ({ ids, body, actor }) => rotateSecret(db, ids.id, body, actor),
);
