import { describe, expect, it } from "vitest";

import { providerLossOnCharge, providerPartOfChargeback, providerPartOfRefunds } from "./provider-part";

describe("providerPartOfRefunds", () => {
  it("is the provider's proportion of the refunded total, rounded down", () => {
    // 80 % of the charge was the provider's.
    expect(providerPartOfRefunds({ chargeAmount: 10_000, providerPortion: 8_000, refundedTotal: 3_000 })).toBe(2_400);
    // 1/3 of 1000 = 333.33… → 333; the fraction stays with the platform.
    expect(providerPartOfRefunds({ chargeAmount: 3_000, providerPortion: 1_000, refundedTotal: 1_000 })).toBe(333);
    expect(providerPartOfRefunds({ chargeAmount: 10_000, providerPortion: 8_000, refundedTotal: 1 })).toBe(0);
  });

  it("a full refund is exactly the provider's portion; a tip-only charge is all the provider's", () => {
    expect(providerPartOfRefunds({ chargeAmount: 9_999, providerPortion: 7_777, refundedTotal: 9_999 })).toBe(7_777);
    expect(providerPartOfRefunds({ chargeAmount: 1_500, providerPortion: 1_500, refundedTotal: 700 })).toBe(700);
  });

  it("rounds once on the cumulative total, so partial refunds add up to the proportion", () => {
    const part = (refundedTotal: number) => providerPartOfRefunds({ chargeAmount: 3_000, providerPortion: 2_000, refundedTotal });
    // Three refunds of 1 unit: per refund each would round to 0; cumulatively 3 × 2/3 = 2.
    const steps = [1, 2, 3].map(part);
    expect(steps).toEqual([0, 1, 2]);
    expect(part(3_000)).toBe(2_000);
  });

  it("does not overflow with large amounts", () => {
    expect(providerPartOfRefunds({ chargeAmount: 2_000_000_000, providerPortion: 1_999_999_999, refundedTotal: 2_000_000_000 })).toBe(
      1_999_999_999,
    );
    expect(providerPartOfRefunds({ chargeAmount: 2_000_000_000, providerPortion: 1_500_000_000, refundedTotal: 1_000_000_001 })).toBe(
      750_000_000,
    );
  });

  it("refuses impossible inputs", () => {
    expect(() => providerPartOfRefunds({ chargeAmount: 0, providerPortion: 0, refundedTotal: 0 })).toThrow(/charge of 0/);
    expect(() => providerPartOfRefunds({ chargeAmount: 100, providerPortion: 80, refundedTotal: 101 })).toThrow(/more than the charge/);
    expect(() => providerPartOfRefunds({ chargeAmount: 100, providerPortion: 80.5, refundedTotal: 1 })).toThrow(/providerPortion/);
  });
});

describe("providerPartOfChargeback", () => {
  it("a full chargeback takes the provider's whole portion; the platform loses its commission", () => {
    expect(providerPartOfChargeback({ disputedAmount: 10_000, providerPortion: 8_000, alreadyBorne: 0 })).toBe(8_000);
  });

  it("a partial chargeback falls on the provider first", () => {
    expect(providerPartOfChargeback({ disputedAmount: 3_000, providerPortion: 8_000, alreadyBorne: 0 })).toBe(3_000);
  });

  it("never takes more than the provider still has from the charge after refunds", () => {
    expect(providerPartOfChargeback({ disputedAmount: 5_000, providerPortion: 8_000, alreadyBorne: 4_000 })).toBe(4_000);
    expect(providerPartOfChargeback({ disputedAmount: 5_000, providerPortion: 8_000, alreadyBorne: 8_000 })).toBe(0);
  });
});

describe("providerLossOnCharge", () => {
  it("is min(portion, the refunds' proportional part + what the lost chargebacks disputed)", () => {
    expect(providerLossOnCharge({ chargeAmount: 10_000, providerPortion: 8_000, refundedTotal: 5_000, disputed: 0 })).toBe(4_000);
    expect(providerLossOnCharge({ chargeAmount: 10_000, providerPortion: 8_000, refundedTotal: 2_000, disputed: 5_000 })).toBe(6_600);
    expect(providerLossOnCharge({ chargeAmount: 10_000, providerPortion: 8_000, refundedTotal: 5_000, disputed: 5_000 })).toBe(8_000);
    expect(providerLossOnCharge({ chargeAmount: 10_000, providerPortion: 8_000, refundedTotal: 0, disputed: 0 })).toBe(0);
  });

  it("goes down when a refund fails, and up when a tip enlarges the portion", () => {
    const before = providerLossOnCharge({ chargeAmount: 10_000, providerPortion: 8_000, refundedTotal: 5_000, disputed: 0 });
    expect(providerLossOnCharge({ chargeAmount: 10_000, providerPortion: 8_000, refundedTotal: 2_000, disputed: 0 })).toBeLessThan(before);
    expect(providerLossOnCharge({ chargeAmount: 10_000, providerPortion: 9_000, refundedTotal: 5_000, disputed: 0 })).toBe(4_500);
  });
});
