"use client";

import { flexRender, getCoreRowModel, getExpandedRowModel, useReactTable, type ColumnDef, type ExpandedState } from "@tanstack/react-table";
import { Fragment, useId, useState } from "react";

import { EmptyState } from "@/components/ui/empty-state";
import { STACKED, stackedCell } from "@/components/ui/stacked-table";

/** `label`: the cell's label when rows are stacked on a phone; defaults to a text header. */
export type TColumnMeta = { align?: "left" | "right"; className?: string; label?: string };

/**
 * A read-only table whose rows open a detail panel below them (TanStack Table's expanded
 * row model). The toggle is a real button with aria-expanded / aria-controls, so it works
 * from the keyboard and screen readers announce it. On a phone each row stacks into labelled
 * lines (stacked-table.ts), so nothing — its actions least of all — is off-screen.
 */
export function ExpandableTable<T>({
  caption,
  columns,
  rows,
  rowId,
  renderDetail,
  toggleLabel,
  empty,
  rowTestId,
}: {
  caption: string;
  columns: ColumnDef<T>[];
  rows: T[];
  rowId: (row: T) => string;
  renderDetail: (row: T) => React.ReactNode;
  /** The toggle's accessible name for a row, e.g. "Details of payout.held at …". */
  toggleLabel: (row: T) => string;
  empty: React.ReactNode;
  rowTestId?: string;
}) {
  const [expanded, setExpanded] = useState<ExpandedState>({});
  const baseId = useId();
  // eslint-disable-next-line react-hooks/incompatible-library -- the table instance is used in this render only.
  const table = useReactTable({
    data: rows,
    columns,
    getRowId: rowId,
    state: { expanded },
    onExpandedChange: setExpanded,
    getRowCanExpand: () => true,
    getCoreRowModel: getCoreRowModel(),
    getExpandedRowModel: getExpandedRowModel(),
  });

  if (rows.length === 0)
    return <div className="rounded-xl border border-gray-200 bg-white shadow-xs">{empty ?? <EmptyState title="Nothing here" />}</div>;

  const columnCount = table.getVisibleLeafColumns().length + 1;
  return (
    <div className="overflow-x-auto rounded-xl border border-gray-200 bg-white shadow-xs">
      <table className={`min-w-full divide-y divide-gray-200 text-sm ${STACKED.table}`}>
        <caption className="sr-only">{caption}</caption>
        <thead className={`bg-gray-50/80 ${STACKED.head}`}>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              <th scope="col" className="w-10 py-2.5 pr-0 pl-3">
                <span className="sr-only">Details</span>
              </th>
              {group.headers.map((header) => {
                const meta = header.column.columnDef.meta as TColumnMeta | undefined;
                return (
                  <th
                    key={header.id}
                    scope="col"
                    className={`px-4 py-2.5 text-xs font-medium whitespace-nowrap text-gray-500 ${meta?.align === "right" ? "text-right" : "text-left"}`}
                  >
                    {header.isPlaceholder ? null : flexRender(header.column.columnDef.header, header.getContext())}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody className={`divide-y divide-gray-100 ${STACKED.body}`}>
          {table.getRowModel().rows.map((row) => {
            const open = row.getIsExpanded();
            const detailId = `${baseId}-${row.id}`;
            return (
              <Fragment key={row.id}>
                <tr
                  data-testid={rowTestId}
                  data-row-id={row.id}
                  className={`${open ? "bg-indigo-50/30" : "hover:bg-gray-50/60"} ${STACKED.row}`}
                >
                  <td className="w-10 py-2 pr-0 pl-3 align-top max-sm:float-right max-sm:w-auto max-sm:p-0">
                    <button
                      type="button"
                      onClick={row.getToggleExpandedHandler()}
                      aria-expanded={open}
                      aria-controls={open ? detailId : undefined}
                      aria-label={toggleLabel(row.original)}
                      title={open ? "Hide details" : "Show details"}
                      className="inline-flex size-7 items-center justify-center rounded-md text-gray-500 hover:bg-gray-100 hover:text-gray-900"
                    >
                      <svg
                        aria-hidden
                        viewBox="0 0 20 20"
                        className={`size-4 transition-transform ${open ? "rotate-90" : ""}`}
                        fill="currentColor"
                      >
                        <path d="M7.2 4.2a.75.75 0 0 1 1.06 0l5.25 5.27a.75.75 0 0 1 0 1.06L8.26 15.8a.75.75 0 1 1-1.06-1.06L11.92 10 7.2 5.27a.75.75 0 0 1 0-1.06Z" />
                      </svg>
                    </button>
                  </td>
                  {row.getVisibleCells().map((cell) => {
                    const meta = cell.column.columnDef.meta as TColumnMeta | undefined;
                    const header = cell.column.columnDef.header;
                    const stacked = stackedCell(meta?.label ?? (typeof header === "string" ? header : undefined));
                    return (
                      <td
                        key={cell.id}
                        data-label={stacked["data-label"]}
                        className={`px-4 py-2.5 align-top text-gray-700 ${meta?.align === "right" ? "text-right tabular-nums" : ""} ${meta?.className ?? ""} ${stacked.className}`}
                      >
                        {flexRender(cell.column.columnDef.cell, cell.getContext())}
                      </td>
                    );
                  })}
                </tr>
                {open ? (
                  <tr id={detailId} className="bg-gray-50/60 max-sm:block">
                    <td colSpan={columnCount} className="px-4 py-3 max-sm:block max-sm:min-w-0">
                      {renderDetail(row.original)}
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
