import { describe, expect, it } from "vitest";

import { auditFilterSearch, canReadAuditEntityType, ZAuditFilter } from "./list-audit-filter";

const USER = "9a9d4043-4904-4e59-9701-98e325135550";

describe("ZAuditFilter", () => {
  it("accepts every filter, with empty form fields as not given", () => {
    expect(
      ZAuditFilter.parse({
        actor: `user:${USER}`,
        action: "payout.held",
        entityType: "payout",
        entityId: "abc",
        from: "2026-11-01",
        to: "2026-11-30",
        after: "",
        before: "",
      }),
    ).toEqual({
      actor: `user:${USER}`,
      action: "payout.held",
      entityType: "payout",
      entityId: "abc",
      from: "2026-11-01",
      to: "2026-11-30",
    });
    expect(ZAuditFilter.parse({ after: `2026-11-24T08:49:14.836Z_${USER}` })).toEqual({ after: `2026-11-24T08:49:14.836Z_${USER}` });
  });

  it.each([
    [{ actor: "root" }],
    [{ actor: "user:123" }],
    [{ from: "2026-13-01" }],
    [{ from: "2026-02-29" }],
    [{ from: "2026-11-02", to: "2026-11-01" }],
    [{ after: "yesterday" }],
    [{ after: `2026-13-45T99:99:99.999Z_${USER}` }],
    [{ before: `2026-02-30T08:49:14.836Z_${USER}` }],
    [{ after: `0000-01-01T00:00:00.000Z_${USER}` }],
    [{ after: `2026-11-24T08:49:14.836Z_${USER}`, before: `2026-11-24T08:49:14.836Z_${USER}` }],
    [{ entityType: "Payout; DROP" }],
    [{ page: "2" }],
  ])("refuses %j", (input) => {
    expect(ZAuditFilter.safeParse(input).success).toBe(false);
  });
});

describe("auditFilterSearch", () => {
  it("builds a search string from the non-empty values, in a stable order", () => {
    expect(auditFilterSearch({ to: "2026-11-30", actor: "system", action: "" })).toBe("?actor=system&to=2026-11-30");
    expect(auditFilterSearch({})).toBe("");
  });
});

describe("canReadAuditEntityType", () => {
  it("keeps entries about dashboard accounts for admins", () => {
    expect(canReadAuditEntityType("admin", "admin_user")).toBe(true);
    expect(canReadAuditEntityType("operator", "admin_user")).toBe(false);
    expect(canReadAuditEntityType("viewer", "admin_user")).toBe(false);
    expect(canReadAuditEntityType("viewer", "payout")).toBe(true);
  });
});
