import { adminRoute } from "@/lib/api/admin-route";
import { db } from "@/lib/db";
import { getOverview } from "@/lib/overview/get-overview";

export const dynamic = "force-dynamic";

/** GET /api/admin/overview: the dashboard overview as JSON (any signed-in role). */
export const GET = adminRoute({ role: "viewer" }, () => getOverview(db, new Date()));
