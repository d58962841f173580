import Link from "next/link";

import { Card } from "@/components/ui/card";
import { DateTime } from "@/components/ui/date-time";
import { EmptyState } from "@/components/ui/empty-state";
import { AlertSeverityBadge } from "@/components/ui/status-badge";
import type { TOverview } from "@/lib/overview/types";

/** The newest unacknowledged alerts, with a way to the Alerts page. */
export function NewestAlerts({ alerts }: { alerts: TOverview["alerts"] }) {
  return (
    <Card
      title="Open alerts"
      description={
        alerts.openCount === 0
          ? "Nothing waiting for a person."
          : `${alerts.openCount.toLocaleString("en-US")} not yet acknowledged${alerts.openCount > alerts.newest.length ? `; the newest ${alerts.newest.length}` : ""}.`
      }
      data-testid="newest-alerts"
      data-open-alerts={alerts.openCount}
      actions={
        <Link href="/alerts?state=open" className="rounded text-xs font-medium whitespace-nowrap text-indigo-700 hover:underline">
          All alerts →
        </Link>
      }
    >
      {alerts.newest.length === 0 ? (
        <EmptyState title="No open alerts" description="Failed transfers and reversals that could not be collected raise alerts here." />
      ) : (
        <ul className="divide-y divide-gray-100">
          {alerts.newest.map((a) => (
            <li key={a.id} className="px-4 py-3 sm:px-5">
              <div className="flex items-start justify-between gap-3">
                <p className="min-w-0 text-sm font-medium text-gray-900">{a.title}</p>
                <AlertSeverityBadge severity={a.severity} />
              </div>
              <p className="mt-0.5 line-clamp-2 text-xs text-gray-600">{a.message}</p>
              <p className="mt-1 text-xs text-gray-500">
                <DateTime value={a.createdAt} />
                {a.payoutId ? (
                  <>
                    {" · "}
                    <Link href={`/payouts/${a.payoutId}`} className="rounded text-indigo-700 hover:underline">
                      View payout
                    </Link>
                  </>
                ) : null}
              </p>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
