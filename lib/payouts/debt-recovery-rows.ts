import "server-only";

import { Prisma, type Payout, type ProviderDebt } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import { recordAudit, type TActor } from "@/lib/audit/record-audit";
import type { Tx } from "@/lib/db";
import { sqlRows } from "@/lib/direct-sql";
import { formatMoney } from "@/lib/money/format-money";
import { columnsOf } from "@/lib/statement-names";

// The rows behind a payout's debtRecoveredAmount (DebtRecovery, one per debt and payout), kept in
// step by changePayout, the payout's one writer, in its transaction: a reservation is applied when
// the payout is transferred or applied to debt, and released when it goes back to a status in which
// its amount may change, or is cancelled (payout-change.ts sets debtRecoveredAmount to 0 then).

const DEBT_COLUMNS = columnsOf(Prisma.ProviderDebtScalarFieldEnum);

/**
 * Locks the debts (FOR UPDATE) in one fixed order, oldest first, so two transactions that take
 * several of one provider's debts never wait for each other in a circle. Returns them in that order.
 */
export async function lockDebts(
  tx: Tx,
  where: { ids: readonly string[] } | { providerId: string; currency: string },
): Promise<ProviderDebt[]> {
  if ("ids" in where) {
    if (where.ids.length === 0) return [];
    return sqlRows<ProviderDebt[]>(
      tx,
      Prisma.sql`
      SELECT ${DEBT_COLUMNS} FROM "ProviderDebt" WHERE id = ANY(${[...where.ids]}::uuid[]) ORDER BY "createdAt", id FOR UPDATE`,
    );
  }
  return sqlRows<ProviderDebt[]>(
    tx,
    Prisma.sql`
    SELECT ${DEBT_COLUMNS} FROM "ProviderDebt"
    WHERE "providerId" = ${where.providerId}::uuid AND currency = ${where.currency} AND status = 'open'
    ORDER BY "createdAt", id FOR UPDATE`,
  );
}

/**
 * The providers and currencies (debtKeyOf) of a claim batch's payouts `of` whose debts a member's
 * claim may take: those with an open debt with something left to recover, as committed now (one
 * statement that locks nothing), and those of a payout holding a reservation, which its claim may
 * release (held, cancelled) for a later member to take. A member whose key is not in the set skips
 * lockDebts (reserveDebtRecovery's `noTakeableDebt`). A debt committed after this read is netted
 * from the provider's next payout, as if it had been committed a moment later.
 */
export async function providersWhoseDebtsMayBeTaken(
  tx: Tx,
  of: readonly Pick<Payout, "providerId" | "currency" | "status" | "debtRecoveredAmount">[],
): Promise<Set<string>> {
  const releasing = of.filter((p) => p.debtRecoveredAmount > 0).map(debtKeyOf);
  const taking = of.filter((p) => p.status === "scheduled");
  if (taking.length === 0) return new Set(releasing);
  const rows = await sqlRows<Pick<Payout, "providerId" | "currency">[]>(
    tx,
    Prisma.sql`
    SELECT DISTINCT d."providerId"::text AS "providerId", d.currency
    FROM unnest(${taking.map((p) => p.providerId)}::uuid[], ${taking.map((p) => p.currency)}::text[]) AS x("providerId", currency)
    JOIN "ProviderDebt" d ON d."providerId" = x."providerId" AND d.currency = x.currency AND d.status = 'open' AND d.amount > d."recoveredAmount"`,
  );
  return new Set([...rows.map(debtKeyOf), ...releasing]);
}

/** The key of a payout's provider and currency in providersWhoseDebtsMayBeTaken's set. */
export const debtKeyOf = (payout: Pick<Payout, "providerId" | "currency">): string => `${payout.providerId}\u0000${payout.currency}`;

export type TRecoveryAudit = { actor: TActor; runId?: string | null; requestId?: string | null };

/** Applies or releases the payout's reserved recoveries as its change requires. Call after the payout's row was written. */
export async function settleDebtRecoveries(tx: Tx, before: Payout, after: Payout, audit: TRecoveryAudit): Promise<void> {
  if (before.debtRecoveredAmount > 0 && after.debtRecoveredAmount === 0) {
    await releaseRecoveries(tx, after, audit);
  } else if (
    after.debtRecoveredAmount > 0 &&
    before.status !== after.status &&
    (after.status === "transferred" || after.status === "applied_to_debt")
  ) {
    await applyRecoveries(tx, after, audit);
  }
}

async function reservedOf(tx: Tx, payoutId: string) {
  const rows = await tx.debtRecovery.findMany({ where: { payoutId, status: "reserved" } });
  const debts = await lockDebts(tx, { ids: rows.map((r) => r.debtId) });
  return { rows, debts: new Map(debts.map((d) => [d.id, d])) };
}

/** The transfer was made (or nothing was left to transfer): each debt is that much smaller, settled once nothing is left. */
async function applyRecoveries(tx: Tx, payout: Payout, audit: TRecoveryAudit): Promise<void> {
  const { rows, debts } = await reservedOf(tx, payout.id);
  for (const row of rows) {
    const debt = debts.get(row.debtId)!;
    await tx.debtRecovery.update({ where: { id: row.id }, data: { status: "applied", appliedAt: new Date() } });
    const stillReserved = await tx.debtRecovery.count({ where: { debtId: debt.id, status: "reserved" } });
    const left = debt.amount - debt.recoveredAmount;
    if (left === 0 && stillReserved === 0 && debt.status === "open") {
      await tx.providerDebt.update({ where: { id: debt.id }, data: { status: "settled", settledAt: new Date() } });
    }
    if (debt.status === "written_off" || debt.status === "waived") {
      // Forgiven while this payout was in flight (its refund failed: forgiveWholeDebts): what the
      // transfer kept for it is the provider's, and a person gives it back.
      await raiseAlert(tx, {
        kind: "forgiven_debt_was_recovered",
        severity: "critical",
        title: "A debt was forgiven after part of it was recovered from a payout",
        message:
          `Debt ${debt.id} (${formatMoney(debt.amount, debt.currency)}) was forgiven while payout ${payout.id} was being transferred, and ` +
          `${formatMoney(row.amount, row.currency)} of that payout was kept for it: give it back by hand.`,
        payoutId: debt.payoutId,
        providerId: debt.providerId,
        dedupeKey: `forgiven_debt_was_recovered:${debt.id}:${row.id}`,
      });
    }
    await recordAudit(tx, {
      ...audit,
      action: "provider.debt_recovered",
      entityType: "payout",
      entityId: debt.payoutId,
      reason: `recovered from payout ${payout.id}`,
      after: {
        debtId: debt.id,
        recoveredFromPayoutId: payout.id,
        amount: row.amount,
        currency: row.currency,
        left,
        settled: left === 0 && stillReserved === 0 && debt.status === "open",
      },
    });
  }
}

/** The transfer was not made: each debt is whole again by what the payout had reserved of it. */
async function releaseRecoveries(tx: Tx, payout: Payout, audit: TRecoveryAudit): Promise<void> {
  const { rows, debts } = await reservedOf(tx, payout.id);
  for (const row of rows) {
    const debt = debts.get(row.debtId)!;
    await tx.debtRecovery.update({ where: { id: row.id }, data: { status: "released" } });
    await tx.providerDebt.update({ where: { id: debt.id }, data: { recoveredAmount: debt.recoveredAmount - row.amount } });
  }
  if (rows.length === 0) return;
  await recordAudit(tx, {
    ...audit,
    action: "payout.debt_recovery_released",
    entityType: "payout",
    entityId: payout.id,
    reason: `the transfer was not made (the payout is ${payout.status.replaceAll("_", " ")})`,
    after: {
      released: rows.map((r) => ({ debtId: r.debtId, amount: r.amount })),
      total: rows.reduce((sum, r) => sum + r.amount, 0),
      currency: payout.currency,
    },
  });
}
