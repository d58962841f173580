import { adminRoute } from "@/lib/api/admin-route";
import { db } from "@/lib/db";
import { requestDebtClosing, ZDebtClosing } from "@/lib/payouts/close-provider-debt";

export const dynamic = "force-dynamic";

/**
 * POST /api/admin/debts/:id/close `{ closing: "waive" | "write_off", reason }` — an admin waives
 * or writes off what is left of a provider's open debt. At or above FOUR_EYES_THRESHOLD it only
 * records a request (202) that a second admin approves at /api/admin/debt-closings/:id/approve.
 */
export const POST = adminRoute({ role: "admin", ids: { id: "Debt" }, body: ZDebtClosing }, async ({ ids, body, actor, requestId }) => {
  const result = await requestDebtClosing({ db, actor, requestId }, { debtId: ids.id, ...body });
  const debt = { id: result.debt.id, status: result.debt.status, amount: result.debt.amount, recovered: result.debt.recoveredAmount };
  return result.outcome === "closed"
    ? { outcome: result.outcome, debt }
    : { outcome: result.outcome, debt, request: { id: result.request.id, status: result.request.status, amount: result.request.amount } };
});
