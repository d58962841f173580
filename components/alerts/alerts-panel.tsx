"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { toast } from "sonner";

import { FilterTabs } from "@/components/shell/list/filter-tabs";
import { Notice } from "@/components/shell/list/page-states";
import { OffsetPager } from "@/components/shell/list/pager";
import { hrefWith } from "@/components/shell/list/search-params";
import { DataTable, type TColumn } from "@/components/ui/data-table";
import { DateTime, formatDateTimeUtc } from "@/components/ui/date-time";
import { EmptyState } from "@/components/ui/empty-state";
import { ShortId } from "@/components/ui/short-id";
import { AlertSeverityBadge, Badge } from "@/components/ui/status-badge";
import { acknowledgeAlertRequest, alertKeys, fetchAlerts } from "@/lib/alerts/alerts-query";
import type { TAlertFilter } from "@/lib/alerts/list-alerts-filter";
import type { TAlertList, TAlertListItem } from "@/lib/alerts/types";
import { ApiError } from "@/lib/http/client";
import { overviewKeys } from "@/lib/overview/overview-query";

import { AcknowledgeDialog } from "./acknowledge-dialog";
import { AlertDeliveries } from "./alert-deliveries";

const href = (state: TAlertFilter["state"], page = 1) =>
  hrefWith("/alerts", { state: state === "all" ? undefined : state, page: page > 1 ? page : undefined });

function AcknowledgedBy({ alert }: { alert: TAlertListItem }) {
  if (!alert.acknowledgedAt) return <Badge tone="danger">Open</Badge>;
  return (
    <div className="space-y-0.5" data-testid="alert-acknowledged">
      <Badge tone="neutral">Acknowledged</Badge>
      <div className="text-xs text-gray-600">
        by{" "}
        <span className="font-medium text-gray-900" data-testid="alert-acknowledged-by">
          {/* Users are never deleted while they acknowledged alerts (onDelete: Restrict): no user is the engine. */}
          {alert.acknowledgedBy?.name ?? "the payout engine"}
        </span>
      </div>
      <div className="text-xs text-gray-500" data-testid="alert-acknowledged-at">
        <DateTime value={alert.acknowledgedAt} />
      </div>
      {alert.acknowledgeNote ? <p className="max-w-60 text-xs text-gray-600 italic">“{alert.acknowledgeNote}”</p> : null}
    </div>
  );
}

/**
 * The Alerts list: rendered from the server's data, kept fresh with TanStack Query, and
 * acknowledged in place by operators and admins.
 */
export function AlertsPanel({
  filter,
  initialList,
  loadedAt,
  canAcknowledge,
}: {
  filter: TAlertFilter;
  initialList: TAlertList;
  loadedAt: string;
  canAcknowledge: boolean;
}) {
  const queryClient = useQueryClient();
  const [target, setTarget] = useState<TAlertListItem | null>(null);
  const { data, error, isFetching } = useQuery({
    queryKey: alertKeys.list(filter),
    queryFn: ({ signal }) => fetchAlerts(filter, signal),
    initialData: initialList,
    initialDataUpdatedAt: Date.parse(loadedAt),
  });

  const acknowledge = useMutation({
    mutationFn: ({ alertId, note }: { alertId: string; note: string | undefined }) =>
      acknowledgeAlertRequest(alertId, note ? { note } : {}),
    onSuccess: async (result) => {
      const who = result.alert.acknowledgedBy?.name ?? "someone";
      const when = result.alert.acknowledgedAt ? formatDateTimeUtc(result.alert.acknowledgedAt) : "";
      if (result.alreadyAcknowledged) toast.info(`Already acknowledged by ${who} (${when}).`);
      else toast.success("Alert acknowledged.");
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: alertKeys.lists() }),
        queryClient.invalidateQueries({ queryKey: overviewKeys.all, exact: true }),
      ]);
    },
  });

  const columns: TColumn<TAlertListItem>[] = [
    { key: "severity", header: "Severity", cell: (a) => <AlertSeverityBadge severity={a.severity} /> },
    {
      key: "alert",
      header: "Alert",
      className: "min-w-64 max-w-xl",
      cell: (a) => (
        <div>
          <p className="font-medium text-gray-900">{a.title}</p>
          <p className="mt-0.5 text-gray-600">{a.message}</p>
          {a.payoutId || a.provider ? (
            <p className="mt-1 text-xs text-gray-500">
              {a.payoutId ? (
                <Link href={`/payouts/${a.payoutId}`} className="rounded text-indigo-700 hover:underline">
                  Payout <ShortId id={a.payoutId} />
                </Link>
              ) : null}
              {a.payoutId && a.provider ? " · " : ""}
              {a.provider ? a.provider.name : ""}
            </p>
          ) : null}
        </div>
      ),
    },
    { key: "created", header: "Raised", cell: (a) => <DateTime value={a.createdAt} /> },
    { key: "notified", header: "Notified", className: "min-w-40", cell: (a) => <AlertDeliveries deliveries={a.deliveries} /> },
    { key: "state", header: "State", className: "min-w-40", cell: (a) => <AcknowledgedBy alert={a} /> },
    ...(canAcknowledge
      ? [
          {
            key: "actions",
            header: <span className="sr-only">Actions</span>,
            align: "right" as const,
            cell: (a: TAlertListItem) =>
              a.acknowledgedAt ? null : (
                <button
                  type="button"
                  onClick={() => setTarget(a)}
                  aria-label={`Acknowledge: ${a.title} (${formatDateTimeUtc(a.createdAt)})`}
                  className="rounded-md border border-gray-300 bg-white px-2.5 py-1 text-xs font-medium whitespace-nowrap text-gray-700 shadow-xs hover:bg-gray-50"
                >
                  Acknowledge
                </button>
              ),
          },
        ]
      : []),
  ];

  const filtered = filter.state !== "all";
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <FilterTabs
          label="Alert state"
          tabs={[
            { label: "All", href: href("all"), active: filter.state === "all", count: data.counts.open + data.counts.acknowledged },
            { label: "Open", href: href("open"), active: filter.state === "open", count: data.counts.open },
            { label: "Acknowledged", href: href("acknowledged"), active: filter.state === "acknowledged", count: data.counts.acknowledged },
          ]}
        />
        <p className="text-xs text-gray-500" aria-live="polite">
          {isFetching ? "Refreshing…" : canAcknowledge ? "" : "Your role can read alerts; operators and admins acknowledge them."}
        </p>
      </div>
      {error ? (
        <Notice>
          {error instanceof ApiError && error.status === 401
            ? "Your session has ended. Sign in again to see current alerts."
            : "Could not refresh the alerts; the list below may be out of date."}
        </Notice>
      ) : null}
      <DataTable
        caption="Alerts: open ones first, newest first; then acknowledged ones"
        columns={columns}
        rows={data.items}
        rowKey={(a) => a.id}
        empty={
          filtered ? (
            <EmptyState
              title={filter.state === "open" ? "No open alerts" : "No acknowledged alerts"}
              description="Nothing needs attention here."
            />
          ) : (
            <EmptyState title="No alerts" description="Failed payouts and other problems that need a person raise alerts here." />
          )
        }
      />
      <OffsetPager
        page={data.page}
        pageSize={data.pageSize}
        total={data.total}
        shown={data.items.length}
        hrefFor={(page) => href(filter.state, page)}
        noun={["alert", "alerts"]}
      />
      {canAcknowledge ? (
        <AcknowledgeDialog
          alert={target}
          onOpenChange={(open) => {
            if (!open) setTarget(null);
          }}
          onConfirm={async (note) => {
            if (!target) return;
            await acknowledge.mutateAsync({ alertId: target.id, note });
          }}
        />
      ) : null}
    </div>
  );
}
