import { PAYOUT_STATUS_LABELS } from "@/components/ui/labels";
import { PAYOUT_STATUS_TONES, toneDotClass } from "@/components/ui/status-badge";
import { formatMoney } from "@/lib/money/format-money";
import type { TStatusSummary } from "@/lib/overview/types";

function pluralPayouts(count: number): string {
  return `${count.toLocaleString("en-US")} ${count === 1 ? "payout" : "payouts"}`;
}

function StatusCard({ summary }: { summary: TStatusSummary }) {
  const { status, count, totals } = summary;
  const alarming = (status === "failed" || status === "reversed") && count > 0;
  return (
    <section
      data-testid={`status-${status}`}
      data-count={count}
      aria-labelledby={`status-${status}-title`}
      className={`min-w-0 rounded-xl border bg-white p-3 shadow-xs sm:p-4 ${alarming ? "border-red-200" : "border-gray-200"}`}
    >
      <div className="flex flex-col gap-0.5 sm:flex-row sm:items-center sm:justify-between sm:gap-2">
        <h3 id={`status-${status}-title`} className="flex items-center gap-2 text-sm font-medium text-gray-600">
          <span aria-hidden className={`size-2 rounded-full ${toneDotClass(PAYOUT_STATUS_TONES[status])}`} />
          {PAYOUT_STATUS_LABELS[status]}
        </h3>
        <span className="pl-4 text-xs whitespace-nowrap text-gray-500 tabular-nums sm:pl-0">{pluralPayouts(count)}</span>
      </div>
      {totals.length === 0 ? (
        <p className="mt-3 text-sm text-gray-400">No payouts</p>
      ) : (
        <dl className="mt-3 space-y-1.5">
          {totals.map((total) => (
            <div
              key={total.currency}
              data-testid={`status-${status}-${total.currency}`}
              data-count={total.count}
              data-amount={total.amount}
              className={`flex flex-wrap items-baseline justify-between gap-x-3 ${total.count === 0 ? "text-gray-400" : "text-gray-900"}`}
            >
              <dt className="text-xs font-medium tracking-wide text-gray-500">
                {total.currency}
                <span className="sr-only">, {pluralPayouts(total.count)}</span>
              </dt>
              <dd className="ml-auto min-w-0 text-right">
                <span className="text-sm font-semibold whitespace-nowrap tabular-nums sm:text-base">
                  {formatMoney(total.amount, total.currency)}
                </span>
                <span aria-hidden className="ml-1.5 text-xs whitespace-nowrap text-gray-500 tabular-nums">
                  ×{total.count.toLocaleString("en-US")}
                </span>
              </dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}

export function StatusCards({ byStatus }: { byStatus: TStatusSummary[] }) {
  return (
    // One card a row on a phone: "$1,234,567.89 ×1,234" does not fit half of 390 px. Nine statuses:
    // three rows of three on a wide screen.
    <div className="grid grid-cols-1 gap-2 min-[480px]:grid-cols-2 sm:gap-3 xl:grid-cols-3">
      {byStatus.map((summary) => (
        <StatusCard key={summary.status} summary={summary} />
      ))}
    </div>
  );
}
