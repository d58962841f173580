import { listAlerts } from "@/lib/alerts/list-alerts";
import { ZAlertFilter } from "@/lib/alerts/list-alerts-filter";
import { adminRoute } from "@/lib/api/admin-route";
import { db } from "@/lib/db";

export const dynamic = "force-dynamic";

/** GET /api/admin/alerts?state=all|open|acknowledged&page=1: open alerts first (any role). */
export const GET = adminRoute({ role: "viewer", query: ZAlertFilter }, ({ query }) => listAlerts(db, query));
