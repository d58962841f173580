import { describe, expect, it } from "vitest";
import { z } from "zod";

import { hrefWith, parseListSearchParams } from "./search-params";

const ZFilter = z.object({ status: z.enum(["all", "open"]).default("all"), page: z.coerce.number().int().min(1).default(1) }).strict();

describe("parseListSearchParams", () => {
  it("reads only the filter's keys, the first value of repeated ones", () => {
    expect(
      parseListSearchParams(
        ZFilter,
        ["status", "page"],
        { status: ["open", "all"], page: "2", utm_source: "mail" },
        { status: "all", page: 1 },
      ),
    ).toEqual({
      filter: { status: "open", page: 2 },
      problems: [],
    });
  });

  it("falls back to the default and says why when a value is invalid", () => {
    const result = parseListSearchParams(ZFilter, ["status", "page"], { status: "closed" }, { status: "all", page: 1 });
    expect(result.filter).toEqual({ status: "all", page: 1 });
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(/^status: /);
  });
});

describe("hrefWith", () => {
  it("leaves out empty values", () => {
    expect(hrefWith("/alerts", { state: undefined, page: 2, q: "" })).toBe("/alerts?page=2");
    expect(hrefWith("/alerts", {})).toBe("/alerts");
  });
});
