import { describe, expect, it } from "vitest";

import { formatDateTimeUtc, formatDateUtc, formatTimeUtc } from "./date-time";

// The texts written from the UTC fields must be Intl's en-US ones, to the character.
const INTL_DATE_TIME = new Intl.DateTimeFormat("en-US", {
  timeZone: "UTC",
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});
const INTL_DAY = new Intl.DateTimeFormat("en-US", { timeZone: "UTC", year: "numeric", month: "short", day: "numeric" });
const INTL_TIME = new Intl.DateTimeFormat("en-US", { timeZone: "UTC", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

function expectIntlText(date: Date): void {
  expect(formatDateTimeUtc(date)).toBe(`${INTL_DATE_TIME.format(date)} UTC`);
  expect(formatDateUtc(date)).toBe(INTL_DAY.format(date));
  expect(formatTimeUtc(date)).toBe(INTL_TIME.format(date));
}

describe("UTC dates and times", () => {
  it("write Intl's en-US text", () => {
    expect(formatDateTimeUtc("2026-12-03T07:47:18.452Z")).toBe("Dec 3, 2026, 07:47 UTC");
    expect(formatDateUtc(new Date("2026-01-01T00:00:00Z"))).toBe("Jan 1, 2026");
    expect(formatTimeUtc("2026-05-09T23:59:59.999Z")).toBe("23:59");
  });

  it("agree with Intl on every day from 1970 to 2100, at a minute that moves through the day", () => {
    const day = 86_400_000;
    for (let t = Date.UTC(1970, 0, 1), i = 0; t < Date.UTC(2100, 0, 1); t += day, i++) {
      expectIntlText(new Date(t + ((i * 7919) % 1440) * 60_000 + (i % 1000)));
    }
  });

  it("agree with Intl at the edges: midnight, the last millisecond of a day, leap days, years before 1000 and BC", () => {
    for (const iso of [
      "2024-02-29T00:00:00.000Z",
      "2023-12-31T23:59:59.999Z",
      "2000-02-29T12:00:00Z",
      "0999-03-01T10:00:00Z",
      "0001-01-01T00:00:00Z",
      "0000-06-15T08:30:00Z",
      "-000010-03-01T10:00:00Z",
      "+012345-03-01T10:00:00Z",
    ]) {
      expectIntlText(new Date(iso));
    }
  });

  it("refuse an invalid date as Intl does", () => {
    expect(() => formatDateTimeUtc("not a date")).toThrow(RangeError);
    expect(() => formatDateUtc("not a date")).toThrow(RangeError);
    expect(() => formatTimeUtc("not a date")).toThrow(RangeError);
  });
});
