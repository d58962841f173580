// Tables that become stacked rows on a phone (below Tailwind's `sm`, 640 px): each row a block,
// each cell a line "label … value" with the column's header as its label (from `data-label`),
// so nothing — the actions least of all — sits off-screen in a sideways scroll. One DOM for
// both layouts; from `sm` up it is an ordinary table.

export const STACKED = {
  table: "max-sm:block",
  head: "max-sm:sr-only",
  body: "max-sm:block",
  row: "max-sm:block max-sm:px-4 max-sm:py-2",
  cell: "max-sm:flex max-sm:min-w-0 max-sm:items-baseline max-sm:justify-between max-sm:gap-4 max-sm:px-0 max-sm:py-1 max-sm:text-right",
  /** Adds the label before the value (only for cells whose column has a text header). */
  labelled:
    "max-sm:before:shrink-0 max-sm:before:text-left max-sm:before:text-xs max-sm:before:font-medium max-sm:before:text-gray-500 max-sm:before:content-[attr(data-label)]",
  /** A cell without a label (actions): its content on the right. */
  unlabelled: "max-sm:justify-end",
} as const;

/** The classes and label attribute of one stacked cell. */
export function stackedCell(label: string | undefined): { className: string; "data-label"?: string } {
  return label
    ? { className: `${STACKED.cell} ${STACKED.labelled}`, "data-label": label }
    : { className: `${STACKED.cell} ${STACKED.unlabelled}` };
}
