import { formatMoney } from "@/lib/money/format-money";
import type { TCurrencyTotal } from "@/lib/overview/types";

/** One chip per currency: "USD · 14 payouts · $102.50", with raw figures in data attributes. */
export function CurrencyTotals({
  totals,
  testIdPrefix,
  tone,
}: {
  totals: TCurrencyTotal[];
  testIdPrefix: string;
  tone: "neutral" | "danger";
}) {
  return (
    <ul className="flex flex-wrap gap-2">
      {totals.map((total) => (
        <li
          key={total.currency}
          data-testid={`${testIdPrefix}-${total.currency}`}
          data-count={total.count}
          data-amount={total.amount}
          className={`inline-flex max-w-full flex-wrap items-baseline gap-x-2 rounded-lg border px-3 py-1.5 text-sm ${
            tone === "danger" ? "border-red-200 bg-red-50/60" : "border-gray-200 bg-gray-50"
          }`}
        >
          <span className="text-xs font-medium text-gray-500">{total.currency}</span>
          <span className="font-semibold text-gray-900 tabular-nums">{formatMoney(total.amount, total.currency)}</span>
          <span className="text-xs text-gray-500 tabular-nums">
            {total.count.toLocaleString("en-US")} {total.count === 1 ? "payout" : "payouts"}
          </span>
        </li>
      ))}
    </ul>
  );
}
