import { adminRoute } from "@/lib/api/admin-route";
import { ZApprovalDecision } from "@/lib/approvals/approval-records";
import { rejectForceRelease } from "@/lib/approvals/reject-force-release";
import { db } from "@/lib/db";

export const dynamic = "force-dynamic";

/**
 * POST /api/admin/approvals/:id/reject `{ reason }` — an admin turns down a pending force
 * release (the requester withdrawing their own is recorded as withdrawn). The payout is untouched.
 */
export const POST = adminRoute(
  { role: "admin", ids: { id: "Approval request" }, body: ZApprovalDecision },
  async ({ ids, body, actor, requestId }) => {
    const { approval, outcome } = await rejectForceRelease({ db, actor, requestId }, { approvalId: ids.id, reason: body.reason });
    return { outcome, approval: { id: approval.id, status: approval.status, payoutId: approval.payoutId } };
  },
);
