import "server-only";

import type { Prisma } from "@/generated/prisma/client";
import type { Db } from "@/lib/db";
import type { TNumberedPage } from "@/lib/list/numbered-page";

import { PROVIDER_PAGE_SIZE, type TProviderFilter } from "./list-providers-filter";

/** An amount and how many rows make it, in one currency. */
export type TProviderMoney = { currency: string; count: number; amount: number };

export type TProviderListItem = {
  id: string;
  externalId: string;
  name: string;
  email: string;
  stripeAccountId: string | null;
  payoutsEnabled: boolean;
  accountUpdatedAt: string | null;
  payoutCount: number;
  onHoldCount: number;
  /** Net paid per currency: transferred payouts minus what was reversed from them. */
  paid: TProviderMoney[];
  /** Open debts (reversals that could not be collected) per currency: what is left of them after recoveries from later payouts. */
  openDebts: TProviderMoney[];
  /** Their latest bank payout from their Stripe balance (Connect's payout.* events): a failed one needs them to act. */
  lastBankPayout: {
    stripePayoutId: string;
    status: string;
    amount: number;
    currency: string;
    failureCode: string | null;
    at: string;
  } | null;
};

export type TProviderList = TNumberedPage<TProviderListItem>;

type TPayoutRow = { providerId: string; currency: string; payouts: bigint; onHold: bigint; paidCount: bigint; paid: bigint };
type TDebtRow = { providerId: string; currency: string; count: bigint; amount: bigint };

function toSafeNumber(value: bigint, what: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what} ${value.toString()} is beyond a safe integer.`);
  return n;
}

function whereOf(filter: TProviderFilter): Prisma.ProviderWhereInput {
  const where: Prisma.ProviderWhereInput = {};
  if (filter.q) {
    where.OR = [
      { name: { contains: filter.q, mode: "insensitive" } },
      { stripeAccountId: { equals: filter.q } },
      { externalId: { equals: filter.q } },
    ];
  }
  if (filter.readiness === "ready") where.payoutsEnabled = true;
  if (filter.readiness === "not_ready") where.payoutsEnabled = false;
  return where;
}

/**
 * One page of providers by name, with their Stripe account readiness, what they were paid
 * per currency (transferred minus reversed), how many payouts are on hold and their open
 * debts. Sums are bigint in SQL and checked before they become numbers.
 */
export async function listProviders(db: Db, filter: TProviderFilter, pageSize = PROVIDER_PAGE_SIZE): Promise<TProviderList> {
  const where = whereOf(filter);
  const [total, providers] = await db.$transaction([
    db.provider.count({ where }),
    db.provider.findMany({
      where,
      orderBy: [{ name: "asc" }, { id: "asc" }],
      skip: (filter.page - 1) * pageSize,
      take: pageSize,
      select: {
        id: true,
        externalId: true,
        name: true,
        email: true,
        stripeAccountId: true,
        payoutsEnabled: true,
        accountUpdatedAt: true,
        bankPayouts: { orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: 1 },
      },
    }),
  ]);
  const ids = providers.map((p) => p.id);
  const [payoutRows, debtRows] =
    ids.length === 0
      ? [[], []]
      : await db.$transaction([
          db.$queryRaw<TPayoutRow[]>`
            SELECT p."providerId"::text AS "providerId", p."currency",
                   COUNT(*)::bigint AS "payouts",
                   COUNT(*) FILTER (WHERE p."status" = 'on_hold')::bigint AS "onHold",
                   COUNT(*) FILTER (WHERE p."status" IN ('transferred', 'partially_reversed', 'reversed'))::bigint AS "paidCount",
                   COALESCE(SUM(p."amount" - p."reversedAmount" + p."repaidAmount") FILTER (WHERE p."status" IN ('transferred', 'partially_reversed', 'reversed')), 0)::bigint AS "paid"
            FROM "Payout" p
            WHERE p."providerId" = ANY(${ids}::uuid[])
            GROUP BY p."providerId", p."currency"
            ORDER BY p."currency"`,
          db.$queryRaw<TDebtRow[]>`
            SELECT d."providerId"::text AS "providerId", d."currency", COUNT(*)::bigint AS "count", COALESCE(SUM(d."amount" - d."recoveredAmount"), 0)::bigint AS "amount"
            FROM "ProviderDebt" d
            WHERE d."status" = 'open' AND d."providerId" = ANY(${ids}::uuid[])
            GROUP BY d."providerId", d."currency"
            ORDER BY d."currency"`,
        ]);

  const items = providers.map(({ bankPayouts, ...p }): TProviderListItem => {
    const mine = payoutRows.filter((r) => r.providerId === p.id);
    const bank = bankPayouts[0];
    return {
      ...p,
      accountUpdatedAt: p.accountUpdatedAt?.toISOString() ?? null,
      lastBankPayout: bank
        ? {
            stripePayoutId: bank.stripePayoutId,
            status: bank.status,
            amount: bank.amount,
            currency: bank.currency,
            failureCode: bank.failureCode,
            at: bank.stateAt.toISOString(),
          }
        : null,
      payoutCount: mine.reduce((n, r) => n + toSafeNumber(r.payouts, "Payout count"), 0),
      onHoldCount: mine.reduce((n, r) => n + toSafeNumber(r.onHold, "On-hold count"), 0),
      paid: mine
        .filter((r) => r.paidCount > 0n)
        .map((r) => ({
          currency: r.currency,
          count: toSafeNumber(r.paidCount, "Paid count"),
          amount: toSafeNumber(r.paid, `Paid to ${p.id}`),
        })),
      openDebts: debtRows
        .filter((r) => r.providerId === p.id)
        .map((r) => ({
          currency: r.currency,
          count: toSafeNumber(r.count, "Debt count"),
          amount: toSafeNumber(r.amount, `Debt of ${p.id}`),
        })),
    };
  });
  return { items, total, page: filter.page, pageSize };
}
