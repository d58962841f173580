import { adminRoute, jsonAnswer } from "@/lib/api/admin-route";
import { runPayoutAction, ZPayoutActionInput } from "@/lib/approvals/run-payout-action";
import { db } from "@/lib/db";

export const dynamic = "force-dynamic";

/**
 * POST /api/admin/payouts/:id/actions `{ action, reason, expectedVersion }` — hold, release,
 * retry (operator), force release, cancel (admin). The service writes the change and its audit
 * entry in one transaction; the events it queued are sent to Inngest once the answer is out.
 * A force release that needs a second admin answers 202 with the approval request.
 */
export const POST = adminRoute(
  { role: "operator", ids: { id: "Payout" }, body: ZPayoutActionInput },
  async ({ ids, body, user, actor, requestId, publishAfter }) => {
    const result = await runPayoutAction({ db, actor, requestId }, user.role, body.action, {
      payoutId: ids.id,
      reason: body.reason,
      expectedVersion: body.expectedVersion,
    });
    publishAfter();
    const { payout } = result;
    return jsonAnswer(
      {
        outcome: result.outcome,
        payout: { id: payout.id, status: payout.status, amount: payout.amount, currency: payout.currency, version: payout.version },
        ...(result.outcome === "applied"
          ? { transferRequested: result.transferRequested }
          : { approval: { id: result.approval.id, status: result.approval.status } }),
      },
      { status: result.outcome === "approval_requested" ? 202 : 200 },
    );
  },
);
