// The payouts table's row selection (bulk hold and release), pure: a selection is a record of
// the selected payout ids (a row not selected has no key), as TanStack Table kept it before the
// table was written without it.

/** The selected rows of a page, by payout id. */
export type TRowSelection = Record<string, boolean>;

/** A new selection, or a function of the current one (as React's setState takes). */
export type TRowSelectionUpdater = TRowSelection | ((old: TRowSelection) => TRowSelection);

/** What the header box shows: every row selected (checked), or some but not all (indeterminate). */
export function selectionSummary(rowIds: readonly string[], selection: TRowSelection): { all: boolean; some: boolean } {
  const selected = Object.keys(selection).length;
  return {
    all: rowIds.length > 0 && selected > 0 && rowIds.every((id) => selection[id]),
    some: selected > 0 && selected < rowIds.length,
  };
}

/** The header box: selects every row of the page, or clears them all. */
export function withAllRows(selection: TRowSelection, rowIds: readonly string[], value: boolean): TRowSelection {
  const next = { ...selection };
  for (const id of rowIds) {
    if (value) next[id] = true;
    else delete next[id];
  }
  return next;
}

/** One row's box; the same selection when the row already is as asked. */
export function withRow(selection: TRowSelection, id: string, value: boolean): TRowSelection {
  if (Boolean(selection[id]) === value) return selection;
  const next = { ...selection };
  if (value) next[id] = true;
  else delete next[id];
  return next;
}
