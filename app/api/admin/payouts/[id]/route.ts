import { adminRoute } from "@/lib/api/admin-route";
import { db } from "@/lib/db";
import { NotFoundError } from "@/lib/errors";
import { getPayoutDetail } from "@/lib/payouts/get-payout-detail";

export const dynamic = "force-dynamic";

/** GET /api/admin/payouts/:id — the payout detail (any signed-in role), with the actions the caller's role allows. */
export const GET = adminRoute({ role: "viewer", ids: { id: "Payout" } }, async ({ ids, user }) => {
  const detail = await getPayoutDetail(db, ids.id, user);
  if (!detail) throw new NotFoundError("Payout", ids.id);
  return detail;
});
