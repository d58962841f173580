import Link from "next/link";

import { formatDateTimeUtc } from "@/components/ui/date-time";
import { Money } from "@/components/ui/money";
import { Badge, PayoutStatusBadge } from "@/components/ui/status-badge";
import type { TPayoutDetail } from "@/lib/payouts/payout-detail-types";

/** Amount, status and whom it is for; the refresh state on the right. */
export function PayoutHeader({ detail, refreshing }: { detail: TPayoutDetail; refreshing: boolean }) {
  const { payout, provider, booking } = detail;
  return (
    <div className="space-y-3">
      <Link href="/payouts" className="inline-flex items-center gap-1 rounded text-sm text-gray-500 hover:text-gray-900">
        <span aria-hidden>←</span> Payouts
      </Link>
      <div className="flex flex-col gap-3 sm:flex-row sm:items-end sm:justify-between">
        <div className="min-w-0">
          <h1 className="text-gray-900">
            <span className="block text-xs font-medium tracking-wide text-gray-500 uppercase">Payout</span>
            <span className="mt-1 inline-flex flex-wrap items-baseline gap-x-2">
              <Money amount={payout.amount} currency={payout.currency} className="text-3xl font-semibold tracking-tight" />
              <span className="text-lg text-gray-500">{payout.currency}</span>
            </span>
          </h1>
          <div className="mt-2 flex flex-wrap items-center gap-2" data-testid="payout-status" data-status={payout.status}>
            <PayoutStatusBadge status={payout.status} />
            {detail.fourEyes.pendingApprovalId ? <Badge tone="warning">Awaiting second approval</Badge> : null}
            {detail.fourEyes.approvedRelease ? <Badge tone="info">Release approved · waiting for transfer</Badge> : null}
            {detail.openDisputes > 0 ? (
              <Badge tone="warning">{detail.openDisputes === 1 ? "Open dispute" : `${detail.openDisputes} open disputes`}</Badge>
            ) : null}
          </div>
          <p className="mt-2 text-sm text-gray-600">
            To <span className="font-medium text-gray-900">{provider.name}</span> for booking{" "}
            <code className="font-mono text-xs text-gray-700">{booking.externalId}</code>
            {payout.status === "scheduled" ? <> · due {formatDateTimeUtc(payout.eligibleAt)}</> : null}
          </p>
        </div>
        <p className="shrink-0 text-xs text-gray-500" aria-live="polite">
          {refreshing ? "Refreshing…" : `As of ${formatDateTimeUtc(detail.generatedAt)}`}
        </p>
      </div>
    </div>
  );
}
