import { Card } from "@/components/ui/card";
import { Money } from "@/components/ui/money";
import type { TPayoutDetail } from "@/lib/payouts/get-payout-detail";

type TRowProps = { label: string; sign?: "+" | "−"; amount: number; currency: string; hint?: string; strong?: boolean; className?: string };

function Row({ label, sign, amount, currency, hint, strong = false, className = "" }: TRowProps) {
  return (
    <div className={`flex items-baseline justify-between gap-4 py-2 ${strong ? "text-gray-900" : "text-gray-700"} ${className}`}>
      <dt className={`text-sm ${strong ? "font-semibold" : ""}`}>
        {label}
        {hint ? <span className="ml-1.5 text-xs font-normal text-gray-500">{hint}</span> : null}
      </dt>
      <dd className={`text-sm tabular-nums ${strong ? "text-base font-semibold" : ""}`}>
        {sign ? (
          <span aria-hidden className="mr-1 text-gray-400">
            {sign}
          </span>
        ) : null}
        {sign ? <span className="sr-only">{sign === "+" ? "plus " : "minus "}</span> : null}
        <Money amount={amount} currency={currency} />
      </dd>
    </div>
  );
}

/** share + tips − refunds = amount, in the payout's currency; reversals after the transfer below. */
export function AmountBreakdown({ detail }: { detail: TPayoutDetail }) {
  const { payout, tips } = detail;
  const { currency } = payout;
  const joinedTips = tips.filter((t) => t.joined).length;
  return (
    <Card title="Amount" description={`In ${currency}. The amount is recomputed whenever a tip or a refund arrives before the transfer.`}>
      <dl className="divide-y divide-gray-100 px-4 sm:px-5" data-testid="amount-breakdown">
        <Row label="Provider share" amount={payout.providerShare} currency={currency} />
        <Row label="Tips" hint={joinedTips > 0 ? `${joinedTips} tip${joinedTips === 1 ? "" : "s"}` : undefined} sign="+" amount={payout.tipAmount} currency={currency} />
        <Row label="Refunds" hint={payout.refundedAmount > 0 ? "disputes and refunds before the transfer" : undefined} sign="−" amount={payout.refundedAmount} currency={currency} />
        <Row label={`Payout amount (${currency})`} amount={payout.amount} currency={currency} strong className="border-t border-gray-300!" />
        {payout.reversedAmount > 0 ? (
          <>
            <Row label="Reversed after the transfer" sign="−" amount={payout.reversedAmount} currency={currency} />
            <Row label="Kept by the provider" amount={Math.max(0, payout.amount - payout.reversedAmount)} currency={currency} strong />
          </>
        ) : null}
      </dl>
    </Card>
  );
}
