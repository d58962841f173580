"use client";

import { useRef, useState } from "react";

import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { ApiError } from "@/lib/http/client";
import { DEFAULT_PAYOUT_FILTER, describeFilterIssues, isFiltered, type TPayoutFilter } from "@/lib/payouts/payout-filter";
import { payoutExportUrl, payoutKeys, type TPayoutPage } from "@/lib/payouts/payout-query-keys";

import { BulkActions, BulkResults, type TBulkOutcome } from "./bulk-actions";
import { PayoutFilters } from "./payout-filters";
import { PayoutsPagination } from "./payouts-pagination";
import { PayoutsTableSkeleton } from "./payouts-skeleton";
import { PayoutsTable } from "./payouts-table";
import type { TRowSelection, TRowSelectionUpdater } from "./row-selection";
import { useHydrated } from "./use-hydrated";
import { usePayoutList, usePayoutListUrl } from "./use-payout-list";

const numberFormat = new Intl.NumberFormat("en-US");

function errorMessage(error: unknown): string {
  if (error instanceof ApiError && error.status === 401) return "Your session has ended. Sign in again to see payouts.";
  if (error instanceof ApiError && error.status < 500) return error.message;
  return "The payouts could not be loaded. Check your connection and try again.";
}

/**
 * The payouts list: filters and search in the URL, keyset pages from the list API, CSV
 * export of the whole filtered set, and (for operators) bulk hold and release.
 */
export function PayoutsView({ canAct, currencies }: { canAct: boolean; currencies: string[] }) {
  const { parsed, filter, page, navigate } = usePayoutListUrl();
  const { list, total } = usePayoutList(filter, page, parsed.success);
  const [selection, setSelection] = useState<{ view: string; rows: TRowSelection }>({ view: "", rows: {} });
  const [outcome, setOutcome] = useState<TBulkOutcome | null>(null);
  const resultsRef = useRef<HTMLElement>(null);
  const hydrated = useHydrated();

  // A selection belongs to the page it was made on: another filter or page starts empty.
  const view = JSON.stringify(payoutKeys.list(filter, page));
  const rowSelection = selection.view === view ? selection.rows : {};
  const setRowSelection = (updater: TRowSelectionUpdater) =>
    setSelection({ view, rows: typeof updater === "function" ? updater(rowSelection) : updater });

  const data = list.data;
  const showingStale = list.isPlaceholderData;
  const items = data?.items ?? [];
  const selected = showingStale ? [] : items.filter((p) => rowSelection[p.id]);
  const allSelected = items.length > 0 && selected.length === items.length;

  function go(next: TPayoutFilter, nextPage: TPayoutPage = {}) {
    navigate(next, nextPage);
    if (resultsRef.current && resultsRef.current.getBoundingClientRect().top < 0) resultsRef.current.scrollIntoView({ block: "start" });
  }

  const summary =
    !data || showingStale || !total
      ? "Payouts"
      : total.capped
        ? `More than ${numberFormat.format(total.count)} payouts`
        : `${numberFormat.format(total.count)} payout${total.count === 1 ? "" : "s"}`;
  const estimate = data && !showingStale && total?.capped ? estimateText(total) : null;

  let body: React.ReactNode;
  if (!parsed.success) {
    body = (
      <EmptyState
        title="This link's filter is not valid"
        description={
          <>
            {describeFilterIssues(parsed.error)}.{" "}
            <button type="button" onClick={() => go(DEFAULT_PAYOUT_FILTER)} className="font-medium text-indigo-700 hover:underline">
              Show all payouts
            </button>
          </>
        }
      />
    );
  } else if (list.isError && (!data || showingStale)) {
    body = (
      <div role="alert" className="flex flex-col items-center gap-3 px-6 py-10 text-center">
        <p className="text-sm font-medium text-gray-900">Could not load payouts</p>
        <p className="max-w-prose text-sm text-gray-600">{errorMessage(list.error)}</p>
        <button
          type="button"
          onClick={() => void list.refetch()}
          className="rounded-md border border-gray-300 bg-white px-3 py-1.5 text-sm font-medium text-gray-700 shadow-xs hover:bg-gray-50"
        >
          Try again
        </button>
      </div>
    );
  } else if (!data) {
    body = <PayoutsTableSkeleton />;
  } else if (items.length === 0) {
    body = isFiltered(filter) ? (
      <EmptyState
        title="No payouts match these filters"
        description={
          <button
            type="button"
            onClick={() => go({ ...DEFAULT_PAYOUT_FILTER, sort: filter.sort, order: filter.order })}
            className="font-medium text-indigo-700 hover:underline"
          >
            Clear the filters
          </button>
        }
      />
    ) : page.after || page.before ? (
      <EmptyState
        title="No more payouts here"
        description={
          <button type="button" onClick={() => go(filter)} className="font-medium text-indigo-700 hover:underline">
            Back to the first page
          </button>
        }
      />
    ) : (
      <EmptyState title="No payouts yet" description="A payout is created when the booking platform reports a completed booking." />
    );
  } else {
    body = (
      <PayoutsTable
        rows={items}
        filter={filter}
        selectable={canAct && !showingStale}
        rowSelection={rowSelection}
        onRowSelectionChange={setRowSelection}
        onSort={(sort, order) => go({ ...filter, sort, order })}
        onFilterProvider={(provider) => go({ ...filter, provider })}
        busy={list.isFetching && showingStale}
      />
    );
  }

  return (
    <div className="space-y-5">
      <PageHeader
        title="Payouts"
        description={canAct ? "Find payouts, export them, and hold or release several at once." : "Find and export payouts."}
        actions={
          parsed.success ? (
            <a
              href={payoutExportUrl(filter)}
              download
              className="inline-flex items-center gap-1.5 rounded-md border border-gray-300 bg-white px-3 py-1.5 text-sm font-medium text-gray-700 shadow-xs hover:bg-gray-50"
            >
              <svg aria-hidden viewBox="0 0 20 20" fill="none" stroke="currentColor" strokeWidth={1.5} className="size-4 text-gray-500">
                <path
                  d="M10 3v9m0 0-3.5-3.5M10 12l3.5-3.5M4 14v2a1 1 0 0 0 1 1h10a1 1 0 0 0 1-1v-2"
                  strokeLinecap="round"
                  strokeLinejoin="round"
                />
              </svg>
              Export CSV
              <span className="sr-only">{isFiltered(filter) ? " of the filtered payouts" : " of all payouts"}</span>
            </a>
          ) : null
        }
      />

      <PayoutFilters
        filter={filter}
        currencies={currencies}
        provider={showingStale ? undefined : data?.provider}
        onChange={(next) => go(next)}
      />

      {outcome ? <BulkResults outcome={outcome} onDismiss={() => setOutcome(null)} /> : null}

      <section
        ref={resultsRef}
        aria-labelledby="payouts-results-heading"
        className="scroll-mt-4 rounded-xl border border-gray-200 bg-white shadow-xs"
      >
        <header className="flex min-h-12 flex-wrap items-center justify-between gap-x-4 gap-y-2 border-b border-gray-100 px-4 py-2.5">
          <div className="flex items-center gap-3">
            {canAct && items.length > 0 && !showingStale ? (
              <input
                type="checkbox"
                aria-label="Select all payouts on this page"
                disabled={!hydrated}
                checked={allSelected}
                onChange={() => setRowSelection(allSelected ? {} : Object.fromEntries(items.map((p) => [p.id, true])))}
                className="size-4 rounded border-gray-300 accent-indigo-600 md:hidden"
              />
            ) : null}
            <h2
              id="payouts-results-heading"
              className="text-sm font-semibold text-gray-900"
              data-testid="payouts-total"
              data-count={total && !showingStale ? total.count : undefined}
              data-capped={total?.capped}
            >
              {summary}
              {estimate ? <span className="ml-1.5 font-normal text-gray-500">({estimate})</span> : null}
            </h2>
            <span aria-live="polite" className="text-xs text-gray-500">
              {list.isFetching ? "Loading…" : ""}
            </span>
          </div>
          {canAct && parsed.success && data && !showingStale ? (
            <BulkActions
              selected={selected}
              onClear={() => setRowSelection({})}
              onDone={(result) => {
                setOutcome(result);
                setRowSelection({});
              }}
            />
          ) : null}
        </header>

        {list.isError && data && !showingStale ? (
          <p role="alert" className="border-b border-amber-100 bg-amber-50 px-4 py-2 text-sm text-amber-900">
            Could not refresh the list: {errorMessage(list.error)}{" "}
            <button type="button" onClick={() => void list.refetch()} className="font-medium underline">
              Try again
            </button>
          </p>
        ) : null}

        {body}

        {data && items.length > 0 ? (
          <footer className="flex flex-wrap items-center justify-between gap-3 border-t border-gray-100 px-4 py-3">
            <p className="text-xs text-gray-500">
              {items.length} on this page
              {filter.sort === "amount" && !filter.currency ? " · amounts of different currencies are sorted by their minor units" : ""}
            </p>
            <PayoutsPagination filter={filter} pageInfo={data.pageInfo} onPage={(next) => go(filter, next)} />
          </footer>
        ) : null}
      </section>
    </div>
  );
}

/**
 * The planner's estimate, to two significant digits ("about 52,000"), only when it still says
 * more than was counted: "More than 1,000 payouts (about 1,000)" would contradict itself.
 */
function estimateText(total: { count: number; estimate?: number }): string | null {
  if (!total.estimate) return null;
  const rounded = Number(total.estimate.toPrecision(2));
  return rounded > total.count ? `about ${numberFormat.format(rounded)}` : null;
}
