import { adminRoute } from "@/lib/api/admin-route";
import { ZApprovalDecision } from "@/lib/approvals/approval-records";
import { db } from "@/lib/db";
import { decideDebtClosing } from "@/lib/payouts/close-provider-debt";

export const dynamic = "force-dynamic";

/**
 * POST /api/admin/debt-closings/:id/reject `{ reason }` — a second admin rejects a pending waive or
 * write-off of a provider's debt (lib/payouts/close-provider-debt.ts).
 */
export const POST = adminRoute(
  { role: "admin", ids: { id: "Debt closing request" }, body: ZApprovalDecision },
  async ({ ids, body, actor, requestId }) => {
    const { request, debt } = await decideDebtClosing({ db, actor, requestId }, { requestId: ids.id, approve: false, reason: body.reason });
    return { request: { id: request.id, status: request.status }, debt: { id: debt.id, status: debt.status } };
  },
);
