import { randomUUID } from "node:crypto";

import { after, NextResponse } from "next/server";

import { requireMutationUser } from "@/lib/api/guard";
import { readJsonBody } from "@/lib/api/http-input";
import { withErrors } from "@/lib/api/respond";
import { db } from "@/lib/db";
import { publishOutbox } from "@/lib/outbox/publish-outbox";
import { bulkPayoutAction, ZBulkPayoutAction } from "@/lib/payouts/bulk-payout-action";

export const dynamic = "force-dynamic";

/**
 * POST /api/admin/payouts/bulk { action: "hold" | "release", payoutIds: uuid[] (≤ 100), reason }
 * → { action, results: [{ payoutId, ok, status?, error?, code? }], succeeded, failed }.
 * Operator role, same-origin only (checked here, before anything is read or written); each
 * payout is changed in its own transaction and audited with the user and the reason.
 */
export const POST = withErrors(async (request) => {
  const user = await requireMutationUser(request, "operator");
  const input = ZBulkPayoutAction.parse(await readJsonBody(request));
  const requestId = `bulk:${randomUUID()}`;
  const { eventIds, ...result } = await bulkPayoutAction(
    { db, actor: { type: "admin", id: user.id, label: `${user.name} <${user.email}>` }, requestId },
    input,
  );
  // Tell the workflow engine after answering; unsent events stay in the outbox for the sweep.
  if (eventIds.length > 0) {
    after(async () => {
      try {
        const published = await publishOutbox(db, { eventIds });
        if (published.error) console.warn(`Outbox: ${published.failed} event(s) not sent yet: ${published.error}`);
      } catch (error) {
        console.error("Outbox: publishing after a bulk payout action failed", error);
      }
    });
  }
  return NextResponse.json(result, { headers: { "Cache-Control": "no-store", "X-Request-Id": requestId } });
});
