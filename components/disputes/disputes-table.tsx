import Link from "next/link";

import { DataTable, type TColumn } from "@/components/ui/data-table";
import { DateTime } from "@/components/ui/date-time";
import { EmptyState } from "@/components/ui/empty-state";
import { DISPUTE_OUTCOME_LABELS, DISPUTE_SCOPE_LABELS, HOLD_REASON_LABELS } from "@/components/ui/labels";
import { Money } from "@/components/ui/money";
import { ShortId } from "@/components/ui/short-id";
import { DisputeStatusBadge, PayoutStatusBadge } from "@/components/ui/status-badge";
import type { TDisputeListItem } from "@/lib/disputes/list-disputes";

const columns: TColumn<TDisputeListItem>[] = [
  {
    key: "status",
    header: "Status",
    cell: (d) => (
      <div className="space-y-0.5">
        <DisputeStatusBadge status={d.status} />
        {d.outcome ? <div className="text-xs text-gray-500">{DISPUTE_OUTCOME_LABELS[d.outcome]}</div> : null}
      </div>
    ),
  },
  {
    key: "dispute",
    header: "Dispute",
    className: "min-w-40",
    cell: (d) => (
      <div>
        <span className="font-mono text-xs text-gray-900">{d.externalId ?? d.stripeDisputeId ?? d.id.slice(0, 8)}</span>
        <div className="text-xs text-gray-500">
          {DISPUTE_SCOPE_LABELS[d.scope]}
          {d.openedAfterTransfer ? " · after transfer" : ""}
        </div>
        {d.reason ? <div className="mt-0.5 max-w-56 truncate text-xs text-gray-600">{d.reason.replaceAll("_", " ")}</div> : null}
      </div>
    ),
  },
  {
    key: "payout",
    header: "Payout",
    className: "min-w-44",
    cell: (d) =>
      d.payout ? (
        <div className="space-y-0.5" data-testid="dispute-payout">
          <div className="flex flex-wrap items-center gap-2">
            <PayoutStatusBadge status={d.payout.status} />
            <Money amount={d.payout.amount} currency={d.payout.currency} className="font-medium text-gray-900" />
          </div>
          <div className="text-xs text-gray-500">
            <Link
              href={`/payouts/${d.payout.id}`}
              className="rounded text-indigo-700 hover:underline"
              aria-label={`Payout ${d.payout.id.slice(0, 8)} of booking ${d.bookingExternalId}`}
            >
              Payout <ShortId id={d.payout.id} />
            </Link>
            {d.payout.holdReason ? ` · ${HOLD_REASON_LABELS[d.payout.holdReason]}` : ""}
          </div>
        </div>
      ) : (
        <span className="text-gray-400">No payout yet</span>
      ),
  },
  {
    key: "booking",
    header: "Booking",
    cell: (d) => (
      <div>
        <span className="font-mono text-xs">{d.bookingExternalId}</span>
        <div className="text-xs whitespace-nowrap text-gray-500">{d.provider.name}</div>
      </div>
    ),
  },
  {
    key: "refunded",
    header: "Refunded",
    align: "right",
    cell: (d) => (
      <Money amount={d.refundedAmount} currency={d.currency} className={d.refundedAmount > 0 ? "text-gray-900" : "text-gray-400"} />
    ),
  },
  {
    key: "dates",
    header: "Opened / resolved",
    cell: (d) => (
      <div className="space-y-0.5">
        <div>
          <span className="sr-only">Opened </span>
          <DateTime value={d.openedAt} className="text-gray-900" />
        </div>
        <div className="text-xs text-gray-500">
          {d.resolvedAt ? (
            <>
              Resolved <DateTime value={d.resolvedAt} />
            </>
          ) : (
            "Not resolved"
          )}
        </div>
      </div>
    ),
  },
];

export function DisputesTable({ disputes, filtered }: { disputes: TDisputeListItem[]; filtered: boolean }) {
  return (
    <DataTable
      caption="Disputes: open ones first (longest open first), then the most recently resolved"
      columns={columns}
      rows={disputes}
      rowKey={(d) => d.id}
      empty={
        filtered ? (
          <EmptyState title="No disputes match" description="Try another status, or show all disputes." />
        ) : (
          <EmptyState
            title="No disputes"
            description="Disputes opened by customers or Stripe appear here, with the payout each one holds."
          />
        )
      }
    />
  );
}
