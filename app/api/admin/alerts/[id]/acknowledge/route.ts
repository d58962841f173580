import { acknowledgeAlert } from "@/lib/alerts/acknowledge-alert";
import { ZAcknowledgeAlert } from "@/lib/alerts/list-alerts-filter";
import { adminRoute } from "@/lib/api/admin-route";
import { db } from "@/lib/db";

export const dynamic = "force-dynamic";

/**
 * POST /api/admin/alerts/[id]/acknowledge { note? }: operator role, same origin. Sets who
 * and when, audited with the note. Idempotent: acknowledging again changes nothing and
 * answers who acknowledged it and when.
 */
export const POST = adminRoute(
  { role: "operator", ids: { id: "Alert" }, body: ZAcknowledgeAlert, bodyOptional: true },
  ({ ids, body, user }) => acknowledgeAlert(db, { alertId: ids.id, ...body }, user),
);
