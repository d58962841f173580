// TanStack Query keys and fetchers for payouts in the browser. Keys are built from the
// parsed filter (defaults filled in, statuses in a fixed order), so two URLs that mean the
// same view share one cache entry.
import { getJson, sendJson } from "@/lib/http/client";

import type { TBulkPayoutActionInput, TBulkPayoutResult } from "./bulk-payout-action";
import type { TPayoutListPage } from "./list-payouts";
import { filterOf, serializePayoutFilter, type TPayoutFilter } from "./payout-filter";

export type TPayoutPage = { after?: string | undefined; before?: string | undefined };

export const payoutKeys = {
  all: ["payouts"] as const,
  /** Every list page of every filter: what a change to payouts invalidates. */
  lists: () => [...payoutKeys.all, "list"] as const,
  list: (filter: TPayoutFilter, page: TPayoutPage = {}) =>
    [...payoutKeys.lists(), filterOf(filter), { after: page.after ?? null, before: page.before ?? null }] as const,
  details: () => [...payoutKeys.all, "detail"] as const,
  detail: (id: string) => [...payoutKeys.details(), id] as const,
};

export function payoutListUrl(filter: TPayoutFilter, page: TPayoutPage = {}): string {
  const qs = serializePayoutFilter(filter, page).toString();
  return `/api/admin/payouts${qs ? `?${qs}` : ""}`;
}

export function payoutExportUrl(filter: TPayoutFilter): string {
  const qs = serializePayoutFilter(filter).toString();
  return `/api/admin/payouts/export${qs ? `?${qs}` : ""}`;
}

export function fetchPayoutList(filter: TPayoutFilter, page: TPayoutPage, signal?: AbortSignal): Promise<TPayoutListPage> {
  return getJson<TPayoutListPage>(payoutListUrl(filter, page), signal);
}

export type TBulkPayoutResponse = Omit<TBulkPayoutResult, "eventIds">;

export function postBulkPayoutAction(input: TBulkPayoutActionInput): Promise<TBulkPayoutResponse> {
  return sendJson<TBulkPayoutResponse>("/api/admin/payouts/bulk", input);
}
