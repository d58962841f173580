import { adminRoute } from "@/lib/api/admin-route";
import { db } from "@/lib/db";
import { listProviders } from "@/lib/providers/list-providers";
import { ZProviderFilter } from "@/lib/providers/list-providers-filter";

export const dynamic = "force-dynamic";

/** GET /api/admin/providers?q=&readiness=all|ready|not_ready&page=1: providers by name with totals (any role). */
export const GET = adminRoute({ role: "viewer", query: ZProviderFilter }, ({ query }) => listProviders(db, query));
