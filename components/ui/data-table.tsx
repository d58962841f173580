import type { ReactNode } from "react";

import { EmptyState } from "./empty-state";
import { STACKED, stackedCell } from "./stacked-table";

export type TColumn<T> = {
  key: string;
  header: ReactNode;
  cell: (row: T) => ReactNode;
  align?: "left" | "right";
  /** Extra classes for the column's cells (e.g. widths, wrapping). */
  className?: string;
  /** The cell's label when rows are stacked on a phone; defaults to a text header. */
  label?: string;
};

/**
 * A read-only table: on a phone each row stacks into labelled lines (stacked-table.ts), so
 * nothing scrolls sideways; numbers right-aligned and tabular. `caption` names the table for
 * screen readers.
 */
export function DataTable<T>({
  caption,
  columns,
  rows,
  rowKey,
  empty,
  bordered = true,
}: {
  caption: string;
  columns: ReadonlyArray<TColumn<T>>;
  rows: ReadonlyArray<T>;
  rowKey: (row: T) => string;
  empty: ReactNode;
  /** False when the table sits inside a card that already draws the border. */
  bordered?: boolean;
}) {
  const frame = bordered ? "rounded-xl border border-gray-200 bg-white shadow-xs" : "";
  if (rows.length === 0) {
    return <div className={frame}>{typeof empty === "string" ? <EmptyState title={empty} /> : empty}</div>;
  }
  return (
    <div className={`overflow-x-auto ${frame}`}>
      <table className={`min-w-full divide-y divide-gray-200 text-sm ${STACKED.table}`}>
        <caption className="sr-only">{caption}</caption>
        <thead className={`bg-gray-50/80 ${STACKED.head}`}>
          <tr>
            {columns.map((column) => (
              <th
                key={column.key}
                scope="col"
                className={`px-4 py-2.5 text-xs font-medium whitespace-nowrap text-gray-500 ${column.align === "right" ? "text-right" : "text-left"}`}
              >
                {column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody className={`divide-y divide-gray-100 ${STACKED.body}`}>
          {rows.map((row) => (
            <tr key={rowKey(row)} className={`hover:bg-gray-50/60 ${STACKED.row}`}>
              {columns.map((column) => {
                const stacked = stackedCell(column.label ?? (typeof column.header === "string" ? column.header : undefined));
                return (
                  <td
                    key={column.key}
                    data-label={stacked["data-label"]}
                    className={`px-4 py-2.5 align-top text-gray-700 ${column.align === "right" ? "text-right tabular-nums" : ""} ${column.className ?? ""} ${stacked.className}`}
                  >
                    {column.cell(row)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
