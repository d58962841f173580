import { describe, expect, it } from "vitest";

import { assertMinorUnits, isZeroDecimal, lossTaken, normalizeCurrency, payoutAmount, refundGivenBack } from "./money";

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

describe("refundGivenBack", () => {
  const parts = (refundedAmount: number) => ({ providerShare: 16_000, tipAmount: 0, refundedAmount });

  it("gives back the whole fall while the losses stay within share + tips", () => {
    expect(refundGivenBack(parts(2_000), 5_000)).toBe(5_000);
    expect(refundGivenBack(parts(0), 16_000)).toBe(16_000);
  });

  it("gives back only what was really taken when the losses exceeded share + tips (seed 1279)", () => {
    // The platform's dispute refunded 78.49; a full refund (160.00) then failed: 81.51 comes back, not 160.00.
    expect(refundGivenBack(parts(7_849), 16_000)).toBe(8_151);
    // With a 17.00 tip and a 54.27 refund that stands, a failed 105.73 refund had taken only 44.24.
    expect(refundGivenBack({ providerShare: 16_000, tipAmount: 1_700, refundedAmount: 5_427 + 7_849 }, 10_573)).toBe(4_424);
  });

  it("gives nothing back when what is left still takes everything", () => {
    expect(refundGivenBack(parts(16_000), 3_000)).toBe(0);
    expect(refundGivenBack(parts(20_000), 3_000)).toBe(0);
  });
});

describe("lossTaken", () => {
  const parts = (refundedAmount: number) => ({ providerShare: 16_000, tipAmount: 0, refundedAmount });

  it("takes the whole loss while the losses stay within share + tips", () => {
    expect(lossTaken(parts(0), 16_000)).toBe(16_000);
    expect(lossTaken(parts(2_000), 5_000)).toBe(5_000);
  });

  it("takes only what is left of share + tips; the rest was never paid", () => {
    // A full refund took the 160.00; the platform's dispute refund of 50.00 then takes nothing.
    expect(lossTaken(parts(16_000), 5_000)).toBe(0);
    expect(lossTaken(parts(12_000), 5_000)).toBe(4_000);
  });

  it("mirrors refundGivenBack: a loss that comes and goes leaves the provider as before", () => {
    for (const [before, loss] of [
      [0, 5_000],
      [12_000, 5_000],
      [16_000, 5_000],
      [3_000, 20_000],
    ] as const) {
      expect(refundGivenBack(parts(before), loss)).toBe(lossTaken(parts(before), loss));
    }
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
