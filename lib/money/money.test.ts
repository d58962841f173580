import { describe, expect, it } from "vitest";

import { assertMinorUnits, isZeroDecimal, normalizeCurrency, payoutAmount, withRefund } from "./money";

describe("payoutAmount", () => {
  it("is share + tips - refunded", () => {
    expect(payoutAmount({ providerShare: 8000, tipAmount: 1500, refundedAmount: 2000 })).toBe(7500);
  });

  it("never goes below zero", () => {
    expect(payoutAmount({ providerShare: 1000, tipAmount: 0, refundedAmount: 5000 })).toBe(0);
  });

  it("passes zero-decimal currencies through unchanged (JPY 5000 pays 5000)", () => {
    expect(isZeroDecimal("jpy")).toBe(true);
    expect(payoutAmount({ providerShare: 5000, tipAmount: 0, refundedAmount: 0 })).toBe(5000);
  });

  it.each([1.5, -1, Number.NaN, 2 ** 31])("rejects %s as an amount", (bad) => {
    expect(() => payoutAmount({ providerShare: bad, tipAmount: 0, refundedAmount: 0 })).toThrow(/providerShare/);
  });
});

describe("withRefund", () => {
  it("caps a refund at what is left, so the amount stops at zero", () => {
    expect(withRefund({ providerShare: 1000, tipAmount: 200, refundedAmount: 0 }, 5000)).toEqual({
      providerShare: 1000,
      tipAmount: 200,
      refundedAmount: 1200,
      amount: 0,
      appliedRefund: 1200,
    });
  });

  it("accumulates refunds", () => {
    const once = withRefund({ providerShare: 1000, tipAmount: 0, refundedAmount: 0 }, 300);
    expect(withRefund(once, 200)).toMatchObject({ refundedAmount: 500, amount: 500 });
  });
});

describe("currency and amount validation", () => {
  it("normalizes ISO codes and rejects others", () => {
    expect(normalizeCurrency(" usd ")).toBe("USD");
    expect(() => normalizeCurrency("US")).toThrow(/not an ISO 4217/);
  });

  it("accepts integer minor units only", () => {
    expect(assertMinorUnits(0)).toBe(0);
    expect(() => assertMinorUnits(0.1, "tip")).toThrow(/tip must be an integer/);
    expect(() => assertMinorUnits(-5, "tip")).toThrow(/tip must not be negative/);
  });
});
