import "server-only";

import type { Prisma, ProviderDebt } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import { recordAudit, type TAuditEntry } from "@/lib/audit/record-audit";
import type { Tx } from "@/lib/db";
import { formatMoney } from "@/lib/money/format-money";

import { lockDebts } from "./debt-recovery-rows";

/**
 * Forgives the open debts that fit in `left`, whole ones in the order given (newest first), each
 * written off and audited (`provider.debt_forgiven`) in the caller's transaction; a debt larger
 * than what is left stays. Returns what is left. Shared by a give-back (give-back.ts) and a
 * repayment (repay-provider.ts): the refund a debt recovered failed, so it is not collected.
 * What counts is what is left of a debt after recoveries from later payouts (recover-debts.ts);
 * a debt part of which was already recovered is forgiven for the rest, and a person is told to
 * give back the part recovered (an alert). The debts are locked in the one order recoveries use.
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
  const locked = new Map((await lockDebts(tx, { ids: debts.map((d) => d.id) })).map((d) => [d.id, d]));
  for (const { id } of debts) {
    const debt = locked.get(id)!;
    // A settled debt was recovered whole from later payouts: nothing is left to forgive, but what was
    // recovered is given back (the alert below), or the provider pays a debt the failed refund undid.
    if (debt.status !== "open" && debt.status !== "settled") continue;
    // Only what recoveries applied was kept from the provider: a reservation of a payout in flight
    // may still be released. Forgiven with the rest; should it be applied after all, applyRecoveries
    // (debt-recovery-rows.ts) tells a person to give it back then.
    const applied = await tx.debtRecovery.aggregate({ where: { debtId: debt.id, status: "applied" }, _sum: { amount: true } });
    const kept = applied._sum.amount ?? 0;
    const outstanding = debt.amount - kept;
    if (outstanding > left) continue;
    await tx.providerDebt.update({ where: { id: debt.id }, data: { status: "written_off", settledAt: entry.now } });
    left -= outstanding;
    // What recoveries took of it is the provider's again as far as the failed refund reaches: a person
    // gives it back (the alert), so it is not also sent with a repayment (left counts it as given back).
    const recoveredBack = Math.min(kept, left);
    left -= recoveredBack;
    if (recoveredBack > 0) {
      await raiseAlert(tx, {
        kind: "forgiven_debt_was_recovered",
        severity: "critical",
        title: "A debt was forgiven after part of it was recovered from a payout",
        message:
          `Debt ${debt.id} (${formatMoney(debt.amount, debt.currency)}) was forgiven because the refund behind it failed, but ` +
          `${formatMoney(recoveredBack, debt.currency)} of it had already been kept from the provider's payouts: give it back by hand.`,
        payoutId: entry.payoutId,
        providerId: debt.providerId,
        dedupeKey: `forgiven_debt_was_recovered:${debt.id}`,
      });
    }
    await recordAudit(tx, {
      ...entry.audit,
      action: "provider.debt_forgiven",
      entityType: "payout",
      entityId: entry.payoutId,
      reason: entry.reason,
      after: { debtId: debt.id, amount: outstanding, recoveredToGiveBack: recoveredBack, currency: debt.currency, ...entry.after },
    });
  }
  return left;
}

/**
 * What is left of a give-back once the debts that fit were forgiven whole (forgiveWholeDebts) is
 * smaller than each open debt left: it lowers the newest by that much, audited
 * (`provider.debt_reduced`). Nothing was taken from the provider for a debt, so nothing of it may be
 * repaid, and a debt left whole would claim more than the refunds now take. The debts are read
 * again (forgiving locked them, and recoveries from later payouts may have taken part of them).
 * Returns what is left: nothing once a debt was lowered.
 */
export async function lowerNewestDebt(
  tx: Tx,
  debtIds: readonly string[],
  left: number,
  entry: {
    audit: Pick<TAuditEntry, "actor" | "runId" | "requestId">;
    payoutId: string;
    reason: string;
    /** Added to the entry's `after` (the repayment it belongs to). */
    after?: Record<string, Prisma.InputJsonValue>;
  },
): Promise<number> {
  if (left <= 0 || debtIds.length === 0) return left;
  const current = await tx.providerDebt.findMany({ where: { id: { in: [...debtIds] }, status: "open" }, orderBy: { createdAt: "desc" } });
  const partly = current.find((d) => d.amount - d.recoveredAmount > left);
  if (!partly) return left;
  const remaining = partly.amount - left;
  await tx.providerDebt.update({ where: { id: partly.id }, data: { amount: remaining } });
  await recordAudit(tx, {
    ...entry.audit,
    action: "provider.debt_reduced",
    entityType: "payout",
    entityId: entry.payoutId,
    reason: entry.reason,
    before: { debtId: partly.id, amount: partly.amount, currency: partly.currency },
    after: { debtId: partly.id, amount: remaining, currency: partly.currency, ...entry.after },
  });
  return 0;
}
