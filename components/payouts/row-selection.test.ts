import { describe, expect, it } from "vitest";

import { selectionSummary, withAllRows, withRow } from "./row-selection";

const rows = ["a", "b", "c"];

describe("row selection", () => {
  it("summarises the header box: all, some, or none of the page's rows", () => {
    expect(selectionSummary(rows, {})).toEqual({ all: false, some: false });
    expect(selectionSummary(rows, { b: true })).toEqual({ all: false, some: true });
    expect(selectionSummary(rows, { a: true, b: true, c: true })).toEqual({ all: true, some: false });
    expect(selectionSummary([], {})).toEqual({ all: false, some: false });
  });

  it("selects every row of the page from the header box, and clears them", () => {
    expect(withAllRows({ b: true }, rows, true)).toEqual({ a: true, b: true, c: true });
    expect(withAllRows({ a: true, b: true, c: true }, rows, false)).toEqual({});
  });

  it("toggles one row, leaving the selection as it is when the row already is as asked", () => {
    const selection = { a: true };
    expect(withRow(selection, "b", true)).toEqual({ a: true, b: true });
    expect(withRow(selection, "a", false)).toEqual({});
    expect(withRow(selection, "a", true)).toBe(selection);
    expect(withRow(selection, "c", false)).toBe(selection);
  });
});
