import { formatMoney } from "@/lib/money/format-money";

/** An amount in minor units, formatted in its currency, with tabular digits. */
export function Money({ amount, currency, className }: { amount: number; currency: string; className?: string }) {
  return <span className={`tabular-nums whitespace-nowrap ${className ?? ""}`}>{formatMoney(amount, currency)}</span>;
}
