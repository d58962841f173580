"use client";

import {
  createColumnHelper,
  flexRender,
  getCoreRowModel,
  useReactTable,
  type OnChangeFn,
  type RowSelectionState,
} from "@tanstack/react-table";
import Link from "next/link";

import { formatDateTimeUtc } from "@/components/ui/date-time";
import { HOLD_REASON_LABELS } from "@/components/ui/labels";
import { Money } from "@/components/ui/money";
import { PayoutStatusBadge } from "@/components/ui/status-badge";
import type { TPayoutListItem } from "@/lib/payouts/list-payouts";
import type { TPayoutFilter, TPayoutSort } from "@/lib/payouts/payout-filter";

import { useHydrated } from "./use-hydrated";

const column = createColumnHelper<TPayoutListItem>();

const DAY = new Intl.DateTimeFormat("en-US", { timeZone: "UTC", year: "numeric", month: "short", day: "numeric" });
const TIME = new Intl.DateTimeFormat("en-US", { timeZone: "UTC", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

/** A date on one line and its UTC time below (narrower than one long line); one line on phones. */
function CompactDateTime({ value }: { value: string }) {
  const date = new Date(value);
  return (
    <time dateTime={value} title={formatDateTimeUtc(date)} className="whitespace-nowrap tabular-nums">
      <span className="text-gray-700">{DAY.format(date)}</span>
      <span className="block text-xs text-gray-500 max-md:ml-1 max-md:inline">{TIME.format(date)} UTC</span>
    </time>
  );
}

const SORTABLE: Partial<Record<string, TPayoutSort>> = { amount: "amount", createdAt: "createdAt", eligibleAt: "eligibleAt" };

/**
 * Cell classes per column. From `md` up it is a table; below, each row is a card (one DOM
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

const phoneLabel = "max-md:before:mr-1 max-md:before:text-gray-500 max-md:before:content-[attr(data-label)]";

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
  rowSelection: RowSelectionState;
  onRowSelectionChange: OnChangeFn<RowSelectionState>;
  onSort: (sort: TPayoutSort, order: "asc" | "desc") => void;
  onFilterProvider: (provider: string) => void;
  /** A newer page is loading: the rows shown are the previous ones. */
  busy: boolean;
}) {
  const hydrated = useHydrated();
  const columns = [
    ...(selectable
      ? [
          column.display({
            id: "select",
            header: ({ table }) => (
              <input
                type="checkbox"
                aria-label="Select all payouts on this page"
                disabled={!hydrated}
                checked={table.getIsAllRowsSelected()}
                ref={(el) => {
                  if (el) el.indeterminate = table.getIsSomeRowsSelected();
                }}
                onChange={table.getToggleAllRowsSelectedHandler()}
                className="size-4 rounded border-gray-300 accent-indigo-600"
              />
            ),
            cell: ({ row }) => (
              <input
                type="checkbox"
                aria-label={`Select payout ${row.original.id.slice(0, 8)} (booking ${row.original.booking.externalId})`}
                disabled={!hydrated}
                checked={row.getIsSelected()}
                onChange={row.getToggleSelectedHandler()}
                className="size-4 rounded border-gray-300 accent-indigo-600"
              />
            ),
          }),
        ]
      : []),
    column.accessor("amount", {
      header: () => <SortHeader label="Amount" sort="amount" filter={filter} onSort={onSort} />,
      cell: ({ row }) => (
        <span className="inline-flex items-baseline gap-1.5">
          <Money amount={row.original.amount} currency={row.original.currency} className="font-semibold text-gray-900" />
          <span className="text-xs text-gray-400">{row.original.currency}</span>
        </span>
      ),
    }),
    column.accessor("status", {
      header: "Status",
      cell: ({ row }) => (
        <div className="space-y-0.5">
          <PayoutStatusBadge status={row.original.status} />
          {row.original.status === "on_hold" && row.original.holdReason ? (
            <div className="text-xs text-gray-500 max-md:hidden">{HOLD_REASON_LABELS[row.original.holdReason]}</div>
          ) : null}
        </div>
      ),
    }),
    column.display({
      id: "payout",
      header: "Payout",
      cell: ({ row }) => (
        <div className="min-w-0">
          <Link
            href={`/payouts/${row.original.id}`}
            prefetch={false}
            className="font-mono text-xs font-medium text-indigo-700 hover:text-indigo-500 hover:underline"
            title={row.original.id}
          >
            <span className="sr-only">Payout </span>
            {row.original.id.slice(0, 8)}
          </Link>
          <div className="truncate font-mono text-xs text-gray-500" title={`Booking ${row.original.booking.externalId}`}>
            <span className="sr-only">Booking </span>
            {row.original.booking.externalId}
          </div>
        </div>
      ),
    }),
    column.display({
      id: "provider",
      header: "Provider",
      cell: ({ row }) => (
        <div className="min-w-0">
          <div className="truncate text-gray-900">{row.original.provider.name}</div>
          <a
            href={`?provider=${encodeURIComponent(row.original.provider.externalId)}`}
            onClick={(event) => {
              event.preventDefault();
              onFilterProvider(row.original.provider.externalId);
            }}
            title="Show only this provider's payouts"
            className="truncate font-mono text-xs text-gray-500 hover:text-indigo-700 hover:underline"
          >
            {row.original.provider.externalId}
          </a>
        </div>
      ),
    }),
    column.accessor("createdAt", {
      header: () => <SortHeader label="Created" sort="createdAt" filter={filter} onSort={onSort} />,
      cell: ({ row }) => <CompactDateTime value={row.original.createdAt} />,
    }),
    column.accessor("eligibleAt", {
      header: () => <SortHeader label="Due" sort="eligibleAt" filter={filter} onSort={onSort} />,
      cell: ({ row }) => <CompactDateTime value={row.original.eligibleAt} />,
    }),
  ];

  // The React Compiler is not enabled in this app, and the table is rebuilt from props on
  // every render anyway; the rule only warns that the compiler would skip this component.
  // eslint-disable-next-line react-hooks/incompatible-library
  const table = useReactTable({
    data: rows,
    columns,
    getRowId: (row) => row.id,
    getCoreRowModel: getCoreRowModel(),
    enableRowSelection: selectable,
    state: { rowSelection },
    onRowSelectionChange,
    manualSorting: true,
  });

  const phoneLabels: Record<string, string> = { createdAt: "Created", eligibleAt: "Due" };

  return (
    <div aria-busy={busy} className={`overflow-x-auto transition-opacity ${busy ? "opacity-60" : ""}`}>
      <table className="min-w-full text-sm max-md:block">
        <caption className="sr-only">
          Payouts, sorted by {SORT_CAPTION[filter.sort]} ({filter.order === "asc" ? "ascending" : "descending"})
        </caption>
        <thead className="border-b border-gray-200 bg-gray-50/80 max-md:hidden">
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => {
                const sort = SORTABLE[header.column.id];
                return (
                  <th
                    key={header.id}
                    scope="col"
                    aria-sort={sort && filter.sort === sort ? (filter.order === "asc" ? "ascending" : "descending") : undefined}
                    className={`px-4 py-2.5 text-xs font-medium whitespace-nowrap text-gray-500 ${header.column.id === "amount" ? "text-right" : "text-left"} ${CELL[header.column.id] ?? ""}`}
                  >
                    {flexRender(header.column.columnDef.header, header.getContext())}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody className="divide-y divide-gray-100 max-md:block">
          {table.getRowModel().rows.map((row) => (
            <tr
              key={row.id}
              data-payout-id={row.id}
              data-selected={row.getIsSelected() || undefined}
              className={`hover:bg-gray-50/70 data-selected:bg-indigo-50/60 max-md:grid max-md:gap-x-3 max-md:gap-y-1 max-md:px-4 max-md:py-3 ${
                selectable ? "max-md:grid-cols-[auto_minmax(0,1fr)_auto]" : "max-md:grid-cols-[0_minmax(0,1fr)_auto] max-md:gap-x-0"
              }`}
            >
              {row.getVisibleCells().map((cell) => (
                <td
                  key={cell.id}
                  data-label={phoneLabels[cell.column.id]}
                  className={`px-4 py-3 align-top text-gray-700 max-md:flex max-md:p-0 max-md:text-xs ${cell.column.id === "select" ? "" : "max-md:items-center"} ${
                    cell.column.id === "amount" ? "tabular-nums max-md:justify-end" : ""
                  } ${phoneLabels[cell.column.id] ? phoneLabel : ""} ${CELL[cell.column.id] ?? ""}`}
                >
                  {flexRender(cell.column.columnDef.cell, cell.getContext())}
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
