import { adminRoute } from "@/lib/api/admin-route";
import { db } from "@/lib/db";
import { sendTestNotification } from "@/lib/notifications/send-test-notification";
import { ZTestNotification } from "@/lib/notifications/test-notification-body";

export const dynamic = "force-dynamic";

/**
 * POST /api/admin/alerts/test-message {}: admin role, same origin. Sends a test message on each
 * configured channel (audited) and answers what each did; 409 when none is configured.
 */
export const POST = adminRoute({ role: "admin", body: ZTestNotification, bodyOptional: true }, ({ user, requestId }) =>
  sendTestNotification(db, user, { requestId }),
);
