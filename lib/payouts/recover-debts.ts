import "server-only";

import type { Payout } from "@/generated/prisma/client";
import type { TActor } from "@/lib/audit/record-audit";
import type { Tx } from "@/lib/db";
import { formatMoney } from "@/lib/money/format-money";

import { changePayout } from "./change-payout";
import { lockDebts } from "./debt-recovery-rows";

// Debt recovery (docs/architecture.md, "Debt recovery"): a provider's open debts in the payout's
// currency are netted against the payout when it is claimed for its transfer, not before, so a
// payout still subject to holds, tips and refunds is not reduced early. The claim reserves (one
// DebtRecovery per debt and payout, the debt's recoveredAmount raised by it, the payout's
// debtRecoveredAmount set, its amount and amount version following); the transfer applies it;
// a transfer not made releases it (debt-recovery-rows.ts, through changePayout).

export type TRecoveryOutcome =
  /** Nothing to recover (no open debt in this currency, or the payout was already netted). */
  | { kind: "none"; payout: Payout }
  | { kind: "reserved"; payout: Payout; recovered: number }
  /** The debts took all of it: closed as applied to debt, nothing to transfer. */
  | { kind: "applied_to_debt"; payout: Payout; recovered: number };

/**
 * Reserves what the provider's open debts in the payout's currency take of a scheduled payout that
 * is about to be claimed (oldest debt first, each up to what is left of it). The debts are locked
 * in one order (lockDebts), so two payouts of one provider claimed at once queue on them and never
 * take the same part twice; the CHECK ProviderDebt_recovered_within_amount refuses it anyway.
 * Only a payout nothing of which was planned or transferred yet is netted (its transfers are then
 * planned for the net amount); one with transfers pending or made pays in full. Call with the
 * booking and the payout locked, in the claim's transaction.
 */
export async function reserveDebtRecovery(
  tx: Tx,
  payout: Payout,
  audit: { actor: TActor; runId?: string | null; requestId?: string | null },
  /** The caller read that the provider has no takeable debt in this currency (providersWhoseDebtsMayBeTaken): none is locked. */
  { noTakeableDebt = false }: { noTakeableDebt?: boolean } = {},
): Promise<TRecoveryOutcome> {
  if (payout.status !== "scheduled" || payout.debtRecoveredAmount > 0 || payout.amount <= 0) return { kind: "none", payout };
  if (noTakeableDebt) return { kind: "none", payout };
  const debts = await lockDebts(tx, { providerId: payout.providerId, currency: payout.currency });
  const takeable = debts.filter((d) => d.amount > d.recoveredAmount);
  if (takeable.length === 0) return { kind: "none", payout };
  const legs = await tx.payoutTransfer.count({ where: { payoutId: payout.id, status: { in: ["pending", "succeeded"] } } });
  if (legs > 0) return { kind: "none", payout };

  let left = payout.amount;
  const taken: { debtId: string; amount: number }[] = [];
  for (const debt of takeable) {
    if (left === 0) break;
    const take = Math.min(left, debt.amount - debt.recoveredAmount);
    left -= take;
    taken.push({ debtId: debt.id, amount: take });
    // One row per debt and payout: a released one (an earlier claim whose transfer was not made) is reserved again.
    await tx.debtRecovery.upsert({
      where: { debtId_payoutId: { debtId: debt.id, payoutId: payout.id } },
      create: { debtId: debt.id, payoutId: payout.id, amount: take, currency: payout.currency, status: "reserved" },
      update: { amount: take, status: "reserved", appliedAt: null },
    });
    await tx.providerDebt.update({ where: { id: debt.id }, data: { recoveredAmount: debt.recoveredAmount + take } });
  }
  const recovered = payout.amount - left;
  const details = { debtRecoveries: taken, debtRecovered: recovered };
  const why = `${formatMoney(recovered, payout.currency)} of the provider's open debts (${taken.length} debt${taken.length > 1 ? "s" : ""})`;
  if (left === 0) {
    const closed = await changePayout(tx, payout, {
      event: "apply_to_debt",
      data: { debtRecoveredAmount: recovered },
      audit: { ...audit, action: "payout.applied_to_debt", reason: `${why} took all of it: nothing is transferred`, details },
    });
    return { kind: "applied_to_debt", payout: closed, recovered };
  }
  const netted = await changePayout(tx, payout, {
    data: { debtRecoveredAmount: recovered },
    audit: { ...audit, action: "payout.debt_recovery_reserved", reason: `${why} kept from the transfer`, details },
  });
  return { kind: "reserved", payout: netted, recovered };
}
