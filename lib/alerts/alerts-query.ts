// Client-side access to the alerts: typed query keys and the fetchers for the admin API.
import { getJson, sendJson } from "@/lib/http/client";

import type { TAcknowledgeAlertBody, TAlertFilter } from "./list-alerts-filter";
import type { TAcknowledgeResult, TAlertList } from "./types";

export const alertKeys = {
  all: ["alerts"] as const,
  lists: () => [...alertKeys.all, "list"] as const,
  list: (filter: TAlertFilter) => [...alertKeys.lists(), { state: filter.state, page: filter.page }] as const,
};

export function alertListUrl(filter: TAlertFilter): string {
  const params = new URLSearchParams({ state: filter.state, page: String(filter.page) });
  return `/api/admin/alerts?${params.toString()}`;
}

export function fetchAlerts(filter: TAlertFilter, signal?: AbortSignal): Promise<TAlertList> {
  return getJson<TAlertList>(alertListUrl(filter), signal);
}

export function acknowledgeAlertRequest(alertId: string, body: TAcknowledgeAlertBody): Promise<TAcknowledgeResult> {
  return sendJson<TAcknowledgeResult>(`/api/admin/alerts/${encodeURIComponent(alertId)}/acknowledge`, body);
}
