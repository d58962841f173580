import type { Metadata } from "next";

import { AlertsPanel } from "@/components/alerts/alerts-panel";
import { NotificationSetup } from "@/components/alerts/notification-setup";
import { pathWithSearch } from "@/components/auth/login-helpers";
import { requirePageUserAt } from "@/components/auth/require-page-user-at";
import { FilterResetNotice } from "@/components/shell/list/page-states";
import { parseListSearchParams } from "@/components/shell/list/search-params";
import { PageHeader } from "@/components/ui/page-header";
import { listAlerts } from "@/lib/alerts/list-alerts";
import { DEFAULT_ALERT_FILTER, ZAlertFilter } from "@/lib/alerts/list-alerts-filter";
import { hasRole } from "@/lib/auth/roles";
import { db } from "@/lib/db";
import { notificationSetup } from "@/lib/notifications/config";

export const metadata: Metadata = { title: "Alerts" };
export const dynamic = "force-dynamic";

export default async function AlertsPage({ searchParams }: PageProps<"/alerts">) {
  const user = await requirePageUserAt(pathWithSearch("/alerts", await searchParams));
  const { filter, problems } = parseListSearchParams(ZAlertFilter, ["state", "page"], await searchParams, DEFAULT_ALERT_FILTER);
  const loadedAt = new Date().toISOString();
  const list = await listAlerts(db, filter);
  return (
    <div className="space-y-5">
      <PageHeader title="Alerts" description="Problems that need a person: open ones first. Acknowledge one to show it is being handled." />
      <NotificationSetup setup={notificationSetup()} canSendTest={hasRole(user.role, "admin")} />
      <FilterResetNotice problems={problems} />
      <AlertsPanel
        key={`${filter.state}:${filter.page}`}
        filter={filter}
        initialList={list}
        loadedAt={loadedAt}
        canAcknowledge={hasRole(user.role, "operator")}
      />
    </div>
  );
}
