import { adminRoute } from "@/lib/api/admin-route";
import { ZApprovalDecision } from "@/lib/approvals/approval-records";
import { approveForceRelease } from "@/lib/approvals/approve-force-release";
import { db } from "@/lib/db";

export const dynamic = "force-dynamic";

/**
 * POST /api/admin/approvals/:id/approve `{ reason }` — a second admin approves a pending
 * force release, which then runs with them as the actor. The requester gets 403; a request
 * whose payout changed since expires (409).
 */
export const POST = adminRoute(
  { role: "admin", ids: { id: "Approval request" }, body: ZApprovalDecision },
  async ({ ids, body, actor, requestId, publishAfter }) => {
    const { payout, approval, transferRequested } = await approveForceRelease(
      { db, actor, requestId },
      { approvalId: ids.id, reason: body.reason },
    );
    publishAfter();
    return {
      approval: { id: approval.id, status: approval.status },
      payout: { id: payout.id, status: payout.status, amount: payout.amount, currency: payout.currency, version: payout.version },
      transferRequested,
    };
  },
);
