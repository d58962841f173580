import { adminRoute, jsonAnswer } from "@/lib/api/admin-route";
import { db } from "@/lib/db";
import { bulkPayoutAction, ZBulkPayoutAction } from "@/lib/payouts/bulk-payout-action";

export const dynamic = "force-dynamic";

/**
 * POST /api/admin/payouts/bulk { action: "hold" | "release", payoutIds: uuid[] (≤ 100), reason }
 * → { action, results: [{ payoutId, ok, status?, error?, code? }], succeeded, failed }.
 * Operator role, same-origin only (checked before anything is read or written); each payout is
 * changed in its own transaction and audited with the user and the reason.
 */
export const POST = adminRoute({ role: "operator", body: ZBulkPayoutAction }, async ({ body, actor, requestId, publishAfter }) => {
  const bulkId = `bulk:${requestId}`;
  const { eventIds, ...result } = await bulkPayoutAction({ db, actor, requestId: bulkId }, body);
  if (eventIds.length > 0) publishAfter(eventIds);
  return jsonAnswer(result, { headers: { "X-Request-Id": bulkId } });
});
