import { adminRoute } from "@/lib/api/admin-route";
import { db } from "@/lib/db";
import { ZUpdateEndpoint } from "@/lib/platform-webhooks/endpoint-schemas";
import { updateEndpoint } from "@/lib/platform-webhooks/manage-endpoints";

export const dynamic = "force-dynamic";

/** PATCH /api/admin/platform-webhooks/:id { enabled?, url?, description?, eventTypes?, reason? }: admin, audited. */
export const PATCH = adminRoute(
  { role: "admin", ids: { id: "Platform webhook endpoint" }, body: ZUpdateEndpoint },
  ({ ids, body, actor }) => updateEndpoint(db, ids.id, body, actor),
);
