"use client";

import { useQuery } from "@tanstack/react-query";

import { formatDateTimeUtc } from "@/components/ui/date-time";
import { PageHeader } from "@/components/ui/page-header";
import { fetchOverview, OverviewFetchError, overviewKeys } from "@/lib/overview/overview-query";
import type { TOverview } from "@/lib/overview/types";

import { DueSoonTable } from "./due-soon-table";
import { EngineStatus } from "./engine-status";
import { FailedPayoutsTable } from "./failed-payouts-table";
import { NewestAlerts } from "./newest-alerts";
import { OnHoldByReason } from "./on-hold-by-reason";
import { StatusCards } from "./status-cards";
import { StuckPayoutsTable } from "./stuck-payouts-table";
import { VolumeChart } from "./volume-chart";

const REFRESH_MS = 60_000;

/** The overview, rendered first from the server's data and refreshed in the background. */
export function OverviewDashboard({ initialOverview }: { initialOverview: TOverview }) {
  const { data, error, isFetching, refetch } = useQuery({
    queryKey: overviewKeys.all,
    queryFn: ({ signal }) => fetchOverview(signal),
    initialData: initialOverview,
    initialDataUpdatedAt: Date.parse(initialOverview.generatedAt),
    refetchInterval: REFRESH_MS,
  });

  return (
    <div className="space-y-8">
      <PageHeader
        title="Overview"
        description="Where every payout stands, and what needs attention."
        actions={
          <>
            <p className="text-xs text-gray-500" aria-live="polite">
              {isFetching ? "Refreshing…" : `As of ${formatDateTimeUtc(data.generatedAt)}`}
            </p>
            <button
              type="button"
              onClick={() => void refetch()}
              disabled={isFetching}
              className="rounded-md border border-gray-300 bg-white px-2.5 py-1 text-xs font-medium text-gray-700 shadow-xs hover:bg-gray-50 disabled:opacity-60"
            >
              Refresh
            </button>
          </>
        }
      />
      {error ? (
        <p role="status" className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          {error instanceof OverviewFetchError && error.status === 401
            ? "Your session has ended. Sign in again to see current figures."
            : "Could not refresh the overview; the figures below may be out of date."}
        </p>
      ) : null}

      <EngineStatus engine={data.engine} />

      <section aria-labelledby="by-status-heading" className="space-y-3">
        <h2 id="by-status-heading" className="text-sm font-semibold text-gray-900">
          Payouts by status
        </h2>
        <StatusCards byStatus={data.byStatus} />
      </section>

      <VolumeChart volume={data.volume} />

      <div className="grid grid-cols-1 items-start gap-6 xl:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <DueSoonTable dueSoon={data.dueSoon} generatedAt={data.generatedAt} />
        <div className="grid grid-cols-1 gap-6">
          <NewestAlerts alerts={data.alerts} />
          <OnHoldByReason onHold={data.onHold} />
        </div>
      </div>

      <section aria-labelledby="attention-heading" className="space-y-3">
        <h2 id="attention-heading" className="text-sm font-semibold text-gray-900">
          Needs attention
        </h2>
        <div className="space-y-6">
          <FailedPayoutsTable failed={data.failed} />
          <StuckPayoutsTable stuck={data.stuck} generatedAt={data.generatedAt} />
        </div>
      </section>
    </div>
  );
}
