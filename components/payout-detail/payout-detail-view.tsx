"use client";

import { useQuery } from "@tanstack/react-query";

import { ApiError } from "@/lib/http/client";
import { fetchPayoutDetail, payoutDetailKeys, PROCESSING_REFRESH_MS, type TPayoutDetail } from "@/lib/payouts/payout-detail-query";

import { AmountBreakdown } from "./amount-breakdown";
import { ApprovalsPanel } from "./approvals-panel";
import { DebtsPanel } from "./debts-panel";
import { PayoutActionsPanel } from "./payout-actions-panel";
import { PayoutFacts } from "./payout-facts";
import { PayoutHeader } from "./payout-header";
import { PayoutTimeline } from "./payout-timeline";
import { StatusCallout } from "./status-callout";

/**
 * The payout detail page: rendered first from the server's data, then kept fresh by
 * TanStack Query. While the payout is processing it refetches every 2 s until it settles.
 */
export function PayoutDetailView({ initialDetail }: { initialDetail: TPayoutDetail }) {
  const payoutId = initialDetail.payout.id;
  const { data, error, isFetching } = useQuery({
    queryKey: payoutDetailKeys.detail(payoutId),
    queryFn: ({ signal }) => fetchPayoutDetail(payoutId, signal),
    initialData: initialDetail,
    initialDataUpdatedAt: Date.parse(initialDetail.generatedAt),
    refetchInterval: (query) => (query.state.data?.payout.status === "processing" ? PROCESSING_REFRESH_MS : false),
  });

  return (
    <div className="space-y-6">
      <PayoutHeader detail={data} refreshing={isFetching} />
      {error ? (
        <p role="alert" className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          {error instanceof ApiError && error.status === 401
            ? "Your session has ended. Sign in again to see the current state."
            : error instanceof ApiError && error.status === 404
              ? "This payout no longer exists."
              : "Could not refresh this payout; what is shown may be out of date."}
        </p>
      ) : null}
      <StatusCallout detail={data} />

      <div className="grid grid-cols-1 items-start gap-6 lg:grid-cols-[minmax(0,1fr)_22rem] lg:grid-rows-[auto_1fr]">
        {/* Actions come first in reading order (and on phones), top right on large screens. */}
        <div className="lg:col-start-2 lg:row-start-1">
          <PayoutActionsPanel detail={data} />
        </div>
        <div className="space-y-6 lg:col-start-1 lg:row-span-2 lg:row-start-1">
          <ApprovalsPanel detail={data} />
          <AmountBreakdown detail={data} />
          <DebtsPanel detail={data} />
          <PayoutTimeline payoutId={payoutId} items={data.timeline} currency={data.payout.currency} truncated={data.auditTruncated} />
        </div>
        <div className="space-y-6 lg:col-start-2 lg:row-start-2">
          <PayoutFacts detail={data} />
        </div>
      </div>
    </div>
  );
}
