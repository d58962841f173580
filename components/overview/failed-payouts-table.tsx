import { Card } from "@/components/ui/card";
import { DataTable, type TColumn } from "@/components/ui/data-table";
import { DateTime } from "@/components/ui/date-time";
import { EmptyState } from "@/components/ui/empty-state";
import { Money } from "@/components/ui/money";
import { ExternalId, PayoutLink } from "@/components/ui/payout-link";
import type { TFailedPayout, TOverview } from "@/lib/overview/types";

import { CurrencyTotals } from "./currency-totals";

const columns: TColumn<TFailedPayout>[] = [
  { key: "updatedAt", header: "Failed", cell: (p) => <DateTime value={p.updatedAt} className="text-gray-900" /> },
  { key: "provider", header: "Provider", className: "min-w-36", cell: (p) => <span className="text-gray-900">{p.providerName}</span> },
  { key: "payout", header: "Payout", cell: (p) => <PayoutLink id={p.id} bookingExternalId={p.bookingExternalId} /> },
  { key: "booking", header: "Booking", cell: (p) => <ExternalId value={p.bookingExternalId} className="text-gray-600" /> },
  {
    key: "amount",
    header: "Amount",
    align: "right",
    cell: (p) => <Money amount={p.amount} currency={p.currency} className="text-gray-900" />,
  },
  { key: "attempts", header: "Attempts", align: "right", cell: (p) => p.attempts },
  {
    key: "lastError",
    header: "Last error",
    className: "max-w-xs",
    cell: (p) =>
      p.lastError ? (
        <span className="line-clamp-2 text-red-700" title={p.lastError}>
          {p.lastError}
        </span>
      ) : (
        <span className="text-gray-400">None recorded</span>
      ),
  },
];

export function FailedPayoutsTable({ failed }: { failed: TOverview["failed"] }) {
  const more = failed.count - failed.payouts.length;
  return (
    <Card
      title="Failed payouts needing attention"
      description="Transfers that failed for good. Retry or cancel them from the payout."
      data-testid="failed"
      data-count={failed.count}
    >
      {failed.count === 0 ? (
        <EmptyState title="No failed payouts" description="Nothing to retry or cancel." />
      ) : (
        <>
          <div className="px-4 py-3 sm:px-5">
            <CurrencyTotals totals={failed.totals} testIdPrefix="failed" tone="danger" />
          </div>
          <div className="border-t border-gray-100">
            <DataTable
              caption="Failed payouts, newest first"
              columns={columns}
              rows={failed.payouts}
              rowKey={(p) => p.id}
              empty="No failed payouts"
              bordered={false}
            />
          </div>
          {more > 0 ? (
            <p className="border-t border-gray-100 px-4 py-2.5 text-xs text-gray-500 sm:px-5">
              Showing the {failed.payouts.length} most recent of {failed.count.toLocaleString("en-US")}.
            </p>
          ) : null}
        </>
      )}
    </Card>
  );
}
