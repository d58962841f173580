import { Card } from "@/components/ui/card";
import { DataTable, type TColumn } from "@/components/ui/data-table";
import { DateTime, formatRelative } from "@/components/ui/date-time";
import { EmptyState } from "@/components/ui/empty-state";
import { Money } from "@/components/ui/money";
import { ExternalId, PayoutLink } from "@/components/ui/payout-link";
import type { TOverview, TStuckPayout } from "@/lib/overview/types";

/**
 * Payouts in `processing` for longer than the sweep's threshold: their transfer outcome is
 * unknown. The sweep settles them against Stripe; this lists them so someone can look.
 * (No data-amount figures here: the Overview's e2e reads those as status / due / failed totals.)
 */
export function StuckPayoutsTable({ stuck, generatedAt }: { stuck: TOverview["stuck"]; generatedAt: string }) {
  const columns: TColumn<TStuckPayout>[] = [
    {
      key: "since",
      header: "Processing since",
      cell: (p) => (
        <div>
          <DateTime value={p.processingStartedAt} className="text-gray-900" />
          <div className="text-xs text-amber-700">{formatRelative(p.processingStartedAt, generatedAt)}</div>
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
    { key: "attempts", header: "Attempts", align: "right", cell: (p) => p.attempts },
  ];
  const more = stuck.count - stuck.payouts.length;
  return (
    <Card
      title="Stuck in processing"
      description={`Transfers started more than ${stuck.thresholdMinutes} minutes ago with no outcome yet. The sweep checks them against Stripe every 15 minutes.`}
      data-testid="stuck"
      data-stuck-count={stuck.count}
      className={stuck.count > 0 ? "border-amber-200" : ""}
    >
      {stuck.count === 0 ? (
        <EmptyState title="Nothing stuck" description="Every transfer in flight started less than an hour ago." />
      ) : (
        <>
          <DataTable
            caption="Payouts stuck in processing, longest first"
            columns={columns}
            rows={stuck.payouts}
            rowKey={(p) => p.id}
            empty="Nothing stuck"
            bordered={false}
          />
          {more > 0 ? (
            <p className="border-t border-gray-100 px-4 py-2.5 text-xs text-gray-500 sm:px-5">
              Showing the {stuck.payouts.length} longest stuck of {stuck.count.toLocaleString("en-US")}.
            </p>
          ) : null}
        </>
      )}
    </Card>
  );
}
