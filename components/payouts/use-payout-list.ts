"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useSearchParams } from "next/navigation";
import { useCallback, useMemo } from "react";

import {
  DEFAULT_PAYOUT_FILTER,
  filterOf,
  parsePayoutListQuery,
  serializePayoutFilter,
  type TPayoutFilter,
} from "@/lib/payouts/payout-filter";
import { fetchPayoutList, payoutKeys, type TPayoutPage } from "@/lib/payouts/payout-query-keys";

/**
 * The list's state lives in the URL: the filter and the page cursor are read from the
 * search params, and changing them pushes a new history entry (no server round trip: the
 * query below fetches the page from the API), so Back, Forward, reload and a shared link
 * all show the same view.
 */
export function usePayoutListUrl() {
  const searchParams = useSearchParams();
  const parsed = useMemo(() => parsePayoutListQuery(new URLSearchParams(searchParams.toString())), [searchParams]);
  const filter: TPayoutFilter = parsed.success ? filterOf(parsed.data) : DEFAULT_PAYOUT_FILTER;
  const page: TPayoutPage = parsed.success ? { after: parsed.data.after, before: parsed.data.before } : {};

  const navigate = useCallback((next: TPayoutFilter, nextPage: TPayoutPage = {}) => {
    const qs = serializePayoutFilter(next, nextPage).toString();
    window.history.pushState(null, "", qs ? `?${qs}` : window.location.pathname);
  }, []);

  return { parsed, filter, page, navigate };
}

export function usePayoutList(filter: TPayoutFilter, page: TPayoutPage, enabled: boolean) {
  const list = useQuery({
    queryKey: payoutKeys.list(filter, page),
    queryFn: ({ signal }) => fetchPayoutList(filter, page, signal),
    placeholderData: keepPreviousData,
    enabled,
  });
  // The total is counted with the first page; later pages show the one already in the cache.
  const firstPage = useQuery({
    queryKey: payoutKeys.list(filter),
    queryFn: ({ signal }) => fetchPayoutList(filter, {}, signal),
    enabled: false,
  });
  const total = list.data && !list.isPlaceholderData && list.data.total ? list.data.total : (firstPage.data?.total ?? null);
  return { list, total };
}
