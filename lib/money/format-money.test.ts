import { describe, expect, it } from "vitest";

import { currencyMinorDigits, formatMoney } from "./format-money";

describe("formatMoney", () => {
  it("formats cents with two digits", () => {
    expect(formatMoney(1234, "USD")).toBe("$12.34");
    expect(formatMoney(5, "USD")).toBe("$0.05");
    expect(formatMoney(0, "USD")).toBe("$0.00");
    expect(formatMoney(100, "USD")).toBe("$1.00");
  });

  it("formats zero-decimal currencies without dividing", () => {
    expect(formatMoney(5000, "JPY")).toBe("¥5,000");
    expect(formatMoney(1, "JPY")).toBe("¥1");
  });

  it("uses three digits where the currency has them", () => {
    expect(formatMoney(1234, "KWD")).toMatch(/KWD\s1\.234/);
  });

  it("reads amounts with Stripe's minor units where Intl's display digits differ", () => {
    // Stripe counts ISK in hundredths; Intl shows whole krónur.
    expect(formatMoney(10_000, "ISK")).toMatch(/ISK\s100$/);
    expect(formatMoney(5_000, "KRW")).toBe("₩5,000");
  });

  it("groups thousands and keeps sums beyond 2^31 exact", () => {
    expect(formatMoney(4_000_000_000, "USD")).toBe("$40,000,000.00");
    expect(formatMoney(Number.MAX_SAFE_INTEGER, "USD")).toBe("$90,071,992,547,409.91");
  });

  it("formats negative amounts", () => {
    expect(formatMoney(-1234, "USD")).toBe("-$12.34");
    expect(formatMoney(-7, "EUR")).toBe("-€0.07");
  });

  it("accepts lower-case codes and other locales", () => {
    expect(formatMoney(1234, "eur")).toBe("€12.34");
    expect(formatMoney(123456, "EUR", "de-DE")).toBe("1.234,56\u00a0€");
  });

  it("rejects amounts that are not integer minor units", () => {
    expect(() => formatMoney(12.5, "USD")).toThrow(RangeError);
    expect(() => formatMoney(Number.NaN, "USD")).toThrow(RangeError);
    expect(() => formatMoney(2 ** 53, "USD")).toThrow(RangeError);
  });
});

describe("currencyMinorDigits", () => {
  it("knows each currency's minor unit", () => {
    expect(currencyMinorDigits("USD")).toBe(2);
    expect(currencyMinorDigits("JPY")).toBe(0);
    expect(currencyMinorDigits("KWD")).toBe(3);
    expect(currencyMinorDigits("ISK")).toBe(2);
    expect(currencyMinorDigits("eur")).toBe(2);
  });
});
