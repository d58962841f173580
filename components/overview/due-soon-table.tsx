import { Card } from "@/components/ui/card";
import { DataTable, type TColumn } from "@/components/ui/data-table";
import { DateTime, formatRelative } from "@/components/ui/date-time";
import { EmptyState } from "@/components/ui/empty-state";
import { Money } from "@/components/ui/money";
import { ExternalId, PayoutLink } from "@/components/ui/payout-link";
import type { TDuePayout, TOverview } from "@/lib/overview/types";

import { CurrencyTotals } from "./currency-totals";

export function DueSoonTable({ dueSoon, generatedAt }: { dueSoon: TOverview["dueSoon"]; generatedAt: string }) {
  const columns: TColumn<TDuePayout>[] = [
    {
      key: "eligibleAt",
      header: "Due",
      cell: (p) => (
        <div>
          <DateTime value={p.eligibleAt} className="text-gray-900" />
          <div className="text-xs text-gray-500">{formatRelative(p.eligibleAt, generatedAt)}</div>
        </div>
      ),
    },
    { key: "provider", header: "Provider", className: "min-w-36", cell: (p) => <span className="text-gray-900">{p.providerName}</span> },
    { key: "payout", header: "Payout", cell: (p) => <PayoutLink id={p.id} bookingExternalId={p.bookingExternalId} /> },
    { key: "booking", header: "Booking", cell: (p) => <ExternalId value={p.bookingExternalId} className="text-gray-600" /> },
    {
      key: "amount",
      header: "Amount",
      align: "right",
      cell: (p) => <Money amount={p.amount} currency={p.currency} className="text-gray-900" />,
    },
  ];
  const more = dueSoon.count - dueSoon.soonest.length;

  return (
    <Card
      title="Due in the next 48 hours"
      description="Scheduled payouts that become eligible for transfer before the window ends."
      data-testid="due-48h"
      data-count={dueSoon.count}
    >
      {dueSoon.count === 0 ? (
        <EmptyState
          title="No payouts due in the next 48 hours"
          description="Scheduled payouts appear here as their release time approaches."
        />
      ) : (
        <>
          <div className="px-4 py-3 sm:px-5">
            <CurrencyTotals totals={dueSoon.totals} testIdPrefix="due-48h" tone="neutral" />
          </div>
          <div className="border-t border-gray-100">
            <DataTable
              caption="The soonest payouts due in the next 48 hours"
              columns={columns}
              rows={dueSoon.soonest}
              rowKey={(p) => p.id}
              empty="No payouts due in the next 48 hours"
              bordered={false}
            />
          </div>
          {more > 0 ? (
            <p className="border-t border-gray-100 px-4 py-2.5 text-xs text-gray-500 sm:px-5">
              Showing the {dueSoon.soonest.length} soonest of {dueSoon.count.toLocaleString("en-US")}.
            </p>
          ) : null}
        </>
      )}
    </Card>
  );
}
