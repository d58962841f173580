import { adminRoute } from "@/lib/api/admin-route";
import { db } from "@/lib/db";
import { listDisputes } from "@/lib/disputes/list-disputes";
import { ZDisputeFilter } from "@/lib/disputes/list-disputes-filter";

export const dynamic = "force-dynamic";

/** GET /api/admin/disputes?status=all|open|resolved&page=1: open disputes first, with the payout each holds (any role). */
export const GET = adminRoute({ role: "viewer", query: ZDisputeFilter }, ({ query }) => listDisputes(db, query));
