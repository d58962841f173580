import "server-only";

import type { Prisma, ProviderDebt } from "@/generated/prisma/client";
import { recordAudit, type TAuditEntry } from "@/lib/audit/record-audit";
import type { Tx } from "@/lib/db";

/**
 * Forgives the open debts that fit in `left`, whole ones in the order given (newest first), each
 * written off and audited (`provider.debt_forgiven`) in the caller's transaction; a debt larger
 * than what is left stays. Returns what is left. Shared by a give-back (give-back.ts) and a
 * repayment (repay-provider.ts): the refund a debt recovered failed, so it is not collected.
 */
export async function forgiveWholeDebts(
  tx: Tx,
  debts: ProviderDebt[],
  left: number,
  entry: {
    audit: Pick<TAuditEntry, "actor" | "runId" | "requestId">;
    payoutId: string;
    reason: string;
    now: Date;
    /** Added to each entry's `after` (the repayment it belongs to). */
    after?: Record<string, Prisma.InputJsonValue>;
  },
): Promise<number> {
  for (const debt of debts) {
    if (debt.amount > left) continue;
    await tx.providerDebt.update({ where: { id: debt.id }, data: { status: "written_off", settledAt: entry.now } });
    left -= debt.amount;
    await recordAudit(tx, {
      ...entry.audit,
      action: "provider.debt_forgiven",
      entityType: "payout",
      entityId: entry.payoutId,
      reason: entry.reason,
      after: { debtId: debt.id, amount: debt.amount, currency: debt.currency, ...entry.after },
    });
  }
  return left;
}
