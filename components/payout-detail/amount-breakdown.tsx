import { Card } from "@/components/ui/card";
import { Money } from "@/components/ui/money";
import type { TPayoutDetail } from "@/lib/payouts/payout-detail-types";

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
        <Row
          label="Tips"
          hint={joinedTips > 0 ? `${joinedTips} tip${joinedTips === 1 ? "" : "s"}` : undefined}
          sign="+"
          amount={payout.tipAmount}
          currency={currency}
        />
        <Row
          label="Refunds"
          hint={payout.refundedAmount > 0 ? "disputes and refunds before the transfer" : undefined}
          sign="−"
          amount={payout.refundedAmount}
          currency={currency}
        />
        {payout.debtRecoveredAmount > 0 ? (
          <Row
            label="Debt recovered"
            hint={
              payout.status === "processing" ? "reserved for the provider's open debts" : "paid the provider's debts instead of a transfer"
            }
            sign="−"
            amount={payout.debtRecoveredAmount}
            currency={currency}
          />
        ) : null}
        <Row
          label={`Payout amount (${currency})`}
          amount={payout.amount}
          currency={currency}
          strong
          className="border-t border-gray-300!"
        />
        {payout.reversedAmount > 0 ? (
          <>
            <Row label="Reversed after the transfer" sign="−" amount={payout.reversedAmount} currency={currency} />
            {payout.repaidAmount > 0 ? (
              <Row label="Repaid (refunds that failed)" sign="+" amount={payout.repaidAmount} currency={currency} />
            ) : null}
            <Row
              label="Kept by the provider"
              amount={Math.max(0, payout.amount - payout.reversedAmount + payout.repaidAmount)}
              currency={currency}
              strong
            />
          </>
        ) : null}
      </dl>
      <TransfersList detail={detail} />
    </Card>
  );
}

/** The Stripe transfers that pay it: one per funding charge, each in the currency that charge settled in. */
function TransfersList({ detail }: { detail: TPayoutDetail }) {
  const { payout, transfers } = detail;
  if (transfers.length === 0) {
    return payout.transferCurrency && payout.transferCurrency !== payout.currency ? (
      <p className="border-t border-gray-100 px-4 py-3 text-xs text-gray-600 sm:px-5">
        Transferred in {payout.transferCurrency}: the platform&apos;s Stripe balance does not hold {payout.currency}, so the charge&apos;s
        settled amount is transferred at its exchange rate.
      </p>
    ) : null;
  }
  return (
    <div className="border-t border-gray-100 px-4 py-3 sm:px-5" data-testid="payout-transfers">
      <h3 className="text-xs font-medium tracking-wide text-gray-500 uppercase">Stripe transfers</h3>
      <ul className="mt-2 space-y-2">
        {transfers.map((t) => (
          <li key={t.id} className="text-sm text-gray-700">
            <div className="flex flex-wrap items-baseline justify-between gap-x-4">
              <span>
                {t.kind === "repayment" ? "Repayment" : `Transfer ${t.leg}`}
                <span className="ml-1.5 text-xs text-gray-500">
                  {t.sourceChargeId ? `from charge ${t.sourceChargeId}` : "from the platform's balance"}
                  {t.status === "pending" ? " · not made yet" : ""}
                </span>
              </span>
              <span className="tabular-nums">
                <Money amount={t.amount} currency={t.currency} />
              </span>
            </div>
            {t.currency !== payout.currency ? (
              <p className="text-xs text-gray-500">
                Carries <Money amount={t.payoutAmount} currency={payout.currency} /> of the payout
                {t.exchangeRate ? `, at ${t.exchangeRate} ${t.currency} per ${payout.currency} (the charge's exchange rate)` : ""}.
              </p>
            ) : null}
            {t.stripeTransferId ? <code className="font-mono text-xs break-all text-gray-500">{t.stripeTransferId}</code> : null}
            {t.bankPayout ? (
              <p
                className={`text-xs ${t.bankPayout.status === "failed" || t.bankPayout.status === "canceled" ? "text-red-700" : "text-gray-500"}`}
              >
                Bank payout {t.bankPayout.stripePayoutId}: {t.bankPayout.status.replace("_", " ")}
                {t.bankPayout.failureCode ? ` (${t.bankPayout.failureCode})` : ""}
              </p>
            ) : null}
          </li>
        ))}
      </ul>
    </div>
  );
}
