// The payouts CSV export written by the JavaScript rules (csvField, minorToDecimal, toISOString),
// the reference the SQL-formatted export is held to (test/integration/dashboard/*csv*).
import { Prisma } from "@/generated/prisma/client";
import { db } from "@/lib/db";
import { decimalAmountSql, minorToDecimal } from "@/lib/payouts/export-payouts-csv";
import type { TPayoutFilter } from "@/lib/payouts/payout-filter";

export type TCsvValue = string | number | null;

/** Every payout of these providers in the export's order, each as its column values before csvField. */
export async function payoutCsvValues(providerIds: string[], filter: Pick<TPayoutFilter, "sort" | "order">): Promise<TCsvValue[][]> {
  const payouts = await db.payout.findMany({
    where: { providerId: { in: providerIds } },
    include: { booking: { select: { externalId: true } }, provider: true },
  });
  const key = (p: (typeof payouts)[number]) => (filter.sort === "amount" ? p.amount : p[filter.sort].getTime());
  const dir = filter.order === "asc" ? 1 : -1;
  payouts.sort((a, b) => dir * (key(a) - key(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return payouts.map((p) => [
    p.id,
    p.status,
    p.holdReason,
    p.currency,
    minorToDecimal(p.amount, p.currency),
    p.amount,
    p.providerShare,
    p.tipAmount,
    p.refundedAmount,
    p.reversedAmount,
    p.booking.externalId,
    p.provider.id,
    p.provider.externalId,
    p.provider.name,
    p.stripeTransferId,
    p.attempts,
    iso(p.createdAt),
    iso(p.eligibleAt),
    iso(p.transferredAt),
  ]);
}

/** Each (currency, amount) written by the export's SQL (decimalAmountSql), beside minorToDecimal's; those that differ. */
export async function amountsDifferingFromJs(pairs: { currency: string; amount: number }[]) {
  const rows = await db.$queryRaw<{ out: string }[]>`
    SELECT ${Prisma.raw(decimalAmountSql("x.amount", "x.currency"))} AS out
    FROM ROWS FROM (jsonb_to_recordset(${JSON.stringify(pairs)}::jsonb) AS (currency text, amount int)) WITH ORDINALITY AS x(currency, amount, i)
    ORDER BY i`;
  const written = rows.map((r) => r.out);
  const differing = pairs
    .map((p, i) => ({ ...p, sql: written[i], js: minorToDecimal(p.amount, p.currency) }))
    .filter((d) => d.sql !== d.js);
  return { written, differing };
}
