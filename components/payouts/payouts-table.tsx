"use client";

import Link from "next/link";

import { formatDateTimeUtc, formatDateUtc, formatTimeUtc } from "@/components/ui/date-time";
import { HOLD_REASON_LABELS } from "@/components/ui/labels";
import { Money } from "@/components/ui/money";
import { PayoutStatusBadge } from "@/components/ui/status-badge";
import type { TPayoutListItem } from "@/lib/payouts/list-payouts";
import type { TPayoutFilter, TPayoutSort } from "@/lib/payouts/payout-filter";

import { selectionSummary, withAllRows, withRow, type TRowSelection, type TRowSelectionUpdater } from "./row-selection";
import { useHydrated } from "./use-hydrated";

/** A date on one line and its UTC time below (narrower than one long line); one line on phones. */
function CompactDateTime({ value }: { value: string }) {
  const date = new Date(value);
  return (
    <time dateTime={value} title={formatDateTimeUtc(date)} className="whitespace-nowrap tabular-nums">
      <span className="text-gray-700">{formatDateUtc(date)}</span>
      <span className="block text-xs text-gray-500 max-md:ml-1 max-md:inline">{formatTimeUtc(date)} UTC</span>
    </time>
  );
}

const SORTABLE: Partial<Record<string, TPayoutSort>> = { amount: "amount", createdAt: "createdAt", eligibleAt: "eligibleAt" };

/**
 * Header classes per column. From `md` up it is a table; below, each row is a card (one DOM
 * for both, so the reading and tab order stay the same): a grid with the checkbox on the
 * left, amount and status on the right, and dates labelled through `data-label`.
 */
const CELL: Record<string, string> = {
  select: "w-10 max-md:w-auto max-md:row-span-4 max-md:pt-0.5",
  amount: "text-right max-md:col-start-3 max-md:row-start-1",
  status: "md:min-w-36 max-md:col-start-3 max-md:row-start-2 max-md:justify-end",
  payout: "max-md:col-start-2 max-md:row-start-1",
  provider: "max-md:col-start-2 max-md:row-start-2 max-md:col-span-1",
  createdAt: "max-md:col-start-2 max-md:row-start-3 max-md:col-span-2",
  eligibleAt: "max-md:col-start-2 max-md:row-start-4 max-md:col-span-2",
};

/**
 * Body cells and rows: each column's utilities above plus the cells' own (padding, the phone
 * card's grid, the date labels), named once in app/globals.css (`payouts-cell-*`,
 * `payouts-row-*`) instead of written on each of the page's few hundred cells.
 */
const CELL_CLASS: Record<string, string> = {
  select: "payouts-cell-select",
  amount: "payouts-cell-amount",
  status: "payouts-cell-status",
  payout: "payouts-cell-payout",
  provider: "payouts-cell-provider",
  createdAt: "payouts-cell-created-at",
  eligibleAt: "payouts-cell-eligible-at",
};

function SortHeader({
  label,
  sort,
  filter,
  onSort,
}: {
  label: string;
  sort: TPayoutSort;
  filter: TPayoutFilter;
  onSort: (sort: TPayoutSort, order: "asc" | "desc") => void;
}) {
  const active = filter.sort === sort;
  // First click: the natural direction for the column (newest, soonest due, largest).
  const first = sort === "eligibleAt" ? "asc" : "desc";
  const next = active ? (filter.order === "asc" ? "desc" : "asc") : first;
  return (
    <button
      type="button"
      onClick={() => onSort(sort, next)}
      className={`-mx-1.5 inline-flex items-center gap-1 rounded px-1.5 py-0.5 hover:bg-gray-100 hover:text-gray-900 ${active ? "text-gray-900" : ""}`}
    >
      {label}
      <svg aria-hidden viewBox="0 0 12 12" className={`size-3 ${active ? "text-indigo-600" : "text-gray-300"}`} fill="currentColor">
        {active && filter.order === "asc" ? (
          <path d="M6 3 10 8H2z" />
        ) : active ? (
          <path d="M6 9 2 4h8z" />
        ) : (
          <path d="M6 2 9 5H3zM6 10 3 7h6z" />
        )}
      </svg>
      <span className="sr-only">{active ? `, sorted ${filter.order === "asc" ? "ascending" : "descending"}` : ", not sorted"}</span>
    </button>
  );
}

/** A column: its id (for the cell classes and the sort), its header, and its cell for one row. */
type TColumn = { id: string; header: React.ReactNode; cell: (row: TPayoutListItem) => React.ReactNode };

/**
 * The list's table, rendered directly from the rows (one element per cell, no table library:
 * this page renders 50 rows on the server for every request). Selection: row-selection.ts.
 */
export function PayoutsTable({
  rows,
  filter,
  selectable,
  rowSelection,
  onRowSelectionChange,
  onSort,
  onFilterProvider,
  busy,
}: {
  rows: TPayoutListItem[];
  filter: TPayoutFilter;
  /** Operators and admins: rows have checkboxes for bulk actions. */
  selectable: boolean;
  rowSelection: TRowSelection;
  onRowSelectionChange: (updater: TRowSelectionUpdater) => void;
  onSort: (sort: TPayoutSort, order: "asc" | "desc") => void;
  onFilterProvider: (provider: string) => void;
  /** A newer page is loading: the rows shown are the previous ones. */
  busy: boolean;
}) {
  const hydrated = useHydrated();
  const rowIds = rows.map((row) => row.id);
  const { all: allSelected, some: someSelected } = selectionSummary(rowIds, rowSelection);
  const toggleAll = (value: boolean) => onRowSelectionChange((old) => withAllRows(old, rowIds, value));
  const toggleRow = (id: string, value: boolean) => onRowSelectionChange((old) => withRow(old, id, value));

  const columns: TColumn[] = [
    ...(selectable
      ? [
          {
            id: "select",
            header: (
              <input
                type="checkbox"
                aria-label="Select all payouts on this page"
                disabled={!hydrated}
                checked={allSelected}
                ref={(el) => {
                  if (el) el.indeterminate = someSelected;
                }}
                onChange={(event) => toggleAll(event.target.checked)}
                className="size-4 rounded border-gray-300 accent-indigo-600"
              />
            ),
            cell: (row: TPayoutListItem) => (
              <input
                type="checkbox"
                aria-label={`Select payout ${row.id.slice(0, 8)} (booking ${row.booking.externalId})`}
                disabled={!hydrated}
                checked={Boolean(rowSelection[row.id])}
                onChange={(event) => toggleRow(row.id, event.target.checked)}
                className="size-4 rounded border-gray-300 accent-indigo-600"
              />
            ),
          },
        ]
      : []),
    {
      id: "amount",
      header: <SortHeader label="Amount" sort="amount" filter={filter} onSort={onSort} />,
      cell: (row) => (
        <span className="inline-flex items-baseline gap-1.5">
          <Money amount={row.amount} currency={row.currency} className="font-semibold text-gray-900" />
          <span className="text-xs text-gray-400">{row.currency}</span>
        </span>
      ),
    },
    {
      id: "status",
      header: "Status",
      cell: (row) => (
        <div className="space-y-0.5">
          <PayoutStatusBadge status={row.status} />
          {row.status === "on_hold" && row.holdReason ? (
            <div className="text-xs text-gray-500 max-md:hidden">{HOLD_REASON_LABELS[row.holdReason]}</div>
          ) : null}
        </div>
      ),
    },
    {
      id: "payout",
      header: "Payout",
      cell: (row) => (
        <div className="min-w-0">
          <Link
            href={`/payouts/${row.id}`}
            prefetch={false}
            className="font-mono text-xs font-medium text-indigo-700 hover:text-indigo-500 hover:underline"
            title={row.id}
          >
            <span className="sr-only">Payout </span>
            {row.id.slice(0, 8)}
          </Link>
          <div className="truncate font-mono text-xs text-gray-500" title={`Booking ${row.booking.externalId}`}>
            <span className="sr-only">Booking </span>
            {row.booking.externalId}
          </div>
        </div>
      ),
    },
    {
      id: "provider",
      header: "Provider",
      cell: (row) => (
        <div className="min-w-0">
          <div className="truncate text-gray-900">{row.provider.name}</div>
          <a
            href={`?provider=${encodeURIComponent(row.provider.externalId)}`}
            onClick={(event) => {
              event.preventDefault();
              onFilterProvider(row.provider.externalId);
            }}
            title="Show only this provider's payouts"
            className="truncate font-mono text-xs text-gray-500 hover:text-indigo-700 hover:underline"
          >
            {row.provider.externalId}
          </a>
        </div>
      ),
    },
    {
      id: "createdAt",
      header: <SortHeader label="Created" sort="createdAt" filter={filter} onSort={onSort} />,
      cell: (row) => <CompactDateTime value={row.createdAt} />,
    },
    {
      id: "eligibleAt",
      header: <SortHeader label="Due" sort="eligibleAt" filter={filter} onSort={onSort} />,
      cell: (row) => <CompactDateTime value={row.eligibleAt} />,
    },
  ];

  const phoneLabels: Record<string, string> = { createdAt: "Created", eligibleAt: "Due" };
  const rowClass = selectable ? "payouts-row-selectable" : "payouts-row-plain";

  return (
    <div aria-busy={busy} className={`overflow-x-auto transition-opacity ${busy ? "opacity-60" : ""}`}>
      <table className="min-w-full text-sm max-md:block">
        <caption className="sr-only">
          Payouts, sorted by {SORT_CAPTION[filter.sort]} ({filter.order === "asc" ? "ascending" : "descending"})
        </caption>
        <thead className="border-b border-gray-200 bg-gray-50/80 max-md:hidden">
          <tr>
            {columns.map((column) => {
              const sort = SORTABLE[column.id];
              return (
                <th
                  key={column.id}
                  scope="col"
                  aria-sort={sort && filter.sort === sort ? (filter.order === "asc" ? "ascending" : "descending") : undefined}
                  className={`px-4 py-2.5 text-xs font-medium whitespace-nowrap text-gray-500 ${column.id === "amount" ? "text-right" : "text-left"} ${CELL[column.id] ?? ""}`}
                >
                  {column.header}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody className="divide-y divide-gray-100 max-md:block">
          {rows.map((row) => (
            <tr key={row.id} data-payout-id={row.id} data-selected={rowSelection[row.id] || undefined} className={rowClass}>
              {columns.map((column) => (
                <td key={column.id} data-label={phoneLabels[column.id]} className={CELL_CLASS[column.id]}>
                  {column.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const SORT_CAPTION: Record<TPayoutSort, string> = { createdAt: "creation date", eligibleAt: "due date", amount: "amount" };
