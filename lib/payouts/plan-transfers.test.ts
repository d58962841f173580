import { describe, expect, it } from "vitest";

import type { TFundingCharge } from "@/lib/charges/funding-charge";

import { mulDivFloor, owedByCharge, planTransfers } from "./plan-transfers";

const usdCharge = (id: string, amount: number): TFundingCharge => ({
  id,
  amount,
  currency: "USD",
  settlementCurrency: "USD",
  settledAmount: amount,
  exchangeRate: null,
});

describe("owedByCharge", () => {
  it("the booking's charge carries the share and the tips paid with it or with none; a tip charge its tips", () => {
    expect(
      owedByCharge({
        bookingChargeId: "ch_b",
        providerShare: 8_000,
        tips: [
          { amount: 500, stripeChargeId: null },
          { amount: 700, stripeChargeId: "ch_b" },
          { amount: 1_500, stripeChargeId: "ch_t" },
        ],
        chargeLosses: new Map(),
        unattributedRefunds: 0,
        amount: 10_700,
      }),
    ).toEqual([
      { chargeId: "ch_b", owed: 9_200 },
      { chargeId: "ch_t", owed: 1_500 },
    ]);
  });

  it("a charge's refunds and chargebacks come off its own part; the platform's charge-less refunds off the booking's first", () => {
    expect(
      owedByCharge({
        bookingChargeId: "ch_b",
        providerShare: 8_000,
        tips: [{ amount: 1_500, stripeChargeId: "ch_t" }],
        chargeLosses: new Map([["ch_t", 1_000]]),
        unattributedRefunds: 8_200,
        amount: 300,
      }),
    ).toEqual([{ chargeId: "ch_t", owed: 300 }]);
  });

  it("always adds up to the payout's amount (share without any charge: one part with none)", () => {
    expect(
      owedByCharge({
        bookingChargeId: null,
        providerShare: 5_000,
        tips: [],
        chargeLosses: new Map(),
        unattributedRefunds: 0,
        amount: 5_000,
      }),
    ).toEqual([{ chargeId: null, owed: 5_000 }]);
  });
});

describe("planTransfers", () => {
  const base = {
    payoutCurrency: "USD",
    transferredFrom: new Map<string, number>(),
    paidFrom: new Map<string | null, number>(),
    platformCurrencies: ["USD"],
  };

  it("one transfer per charge, each funded by its charge", () => {
    const plan = planTransfers({
      ...base,
      remaining: 9_500,
      owed: [
        { chargeId: "ch_b", owed: 8_000 },
        { chargeId: "ch_t", owed: 1_500 },
      ],
      charges: new Map([
        ["ch_b", usdCharge("ch_b", 10_000)],
        ["ch_t", usdCharge("ch_t", 1_500)],
      ]),
    });
    expect(plan).toEqual({
      kind: "plan",
      legs: [
        { sourceChargeId: "ch_b", payoutAmount: 8_000, amount: 8_000, currency: "USD", exchangeRate: null },
        { sourceChargeId: "ch_t", payoutAmount: 1_500, amount: 1_500, currency: "USD", exchangeRate: null },
      ],
    });
  });

  it("never more from a charge than the charge less what was already transferred from it; the rest from the balance", () => {
    const plan = planTransfers({
      ...base,
      remaining: 12_000,
      owed: [{ chargeId: "ch_b", owed: 12_000 }],
      charges: new Map([["ch_b", usdCharge("ch_b", 10_000)]]),
      transferredFrom: new Map([["ch_b", 1_000]]),
    });
    expect(plan).toEqual({
      kind: "plan",
      legs: [
        { sourceChargeId: "ch_b", payoutAmount: 9_000, amount: 9_000, currency: "USD", exchangeRate: null },
        { sourceChargeId: null, payoutAmount: 3_000, amount: 3_000, currency: "USD", exchangeRate: null },
      ],
    });
  });

  it("a charge settled in another currency is transferred in it, at its own rate, rounded down", () => {
    const eur: TFundingCharge = {
      id: "ch_e",
      amount: 10_000,
      currency: "EUR",
      settlementCurrency: "USD",
      settledAmount: 10_867,
      exchangeRate: "1.0867",
    };
    const plan = planTransfers({
      ...base,
      payoutCurrency: "EUR",
      remaining: 8_001,
      owed: [{ chargeId: "ch_e", owed: 8_001 }],
      charges: new Map([["ch_e", eur]]),
    });
    // 8,001 × 10,867 / 10,000 = 8,694.69 → 8,694 cents.
    expect(plan).toEqual({
      kind: "plan",
      legs: [{ sourceChargeId: "ch_e", payoutAmount: 8_001, amount: 8_694, currency: "USD", exchangeRate: "1.0867" }],
    });
  });

  it("states the rate in main units when the currencies' decimals differ", () => {
    const jpy: TFundingCharge = {
      id: "ch_j",
      amount: 10_000,
      currency: "JPY",
      settlementCurrency: "USD",
      settledAmount: 6_700,
      exchangeRate: null,
    };
    const plan = planTransfers({
      ...base,
      payoutCurrency: "JPY",
      remaining: 5_000,
      owed: [{ chargeId: "ch_j", owed: 5_000 }],
      charges: new Map([["ch_j", jpy]]),
    });
    expect(plan).toEqual({
      kind: "plan",
      legs: [{ sourceChargeId: "ch_j", payoutAmount: 5_000, amount: 3_350, currency: "USD", exchangeRate: "0.0067" }],
    });
  });

  it("what only the balance can carry, in a currency the platform does not hold, cannot be planned", () => {
    const plan = planTransfers({
      ...base,
      payoutCurrency: "EUR",
      remaining: 5_000,
      owed: [{ chargeId: null, owed: 5_000 }],
      charges: new Map(),
    });
    expect(plan).toMatchObject({ kind: "currency_unsupported", reason: expect.stringMatching(/holds no EUR \(it holds USD\)/) });
    // Unknown currencies: the transfer is tried.
    expect(
      planTransfers({
        ...base,
        payoutCurrency: "EUR",
        remaining: 5_000,
        owed: [{ chargeId: null, owed: 5_000 }],
        charges: new Map(),
        platformCurrencies: null,
      }),
    ).toMatchObject({
      kind: "plan",
    });
  });

  it("a charge Stripe did not describe, or in another presentment currency, leaves its part to the balance", () => {
    const plan = planTransfers({
      ...base,
      remaining: 3_000,
      owed: [
        { chargeId: "ch_unknown", owed: 1_000 },
        { chargeId: "ch_gbp", owed: 2_000 },
      ],
      charges: new Map([["ch_gbp", { ...usdCharge("ch_gbp", 5_000), currency: "GBP", settlementCurrency: "GBP" }]]),
    });
    expect(plan).toEqual({
      kind: "plan",
      legs: [{ sourceChargeId: null, payoutAmount: 3_000, amount: 3_000, currency: "USD", exchangeRate: null }],
    });
  });

  it("after transfers kept from an earlier plan, only what is left of each part", () => {
    const plan = planTransfers({
      ...base,
      remaining: 1_500,
      owed: [
        { chargeId: "ch_b", owed: 8_000 },
        { chargeId: "ch_t", owed: 1_500 },
      ],
      charges: new Map([
        ["ch_b", usdCharge("ch_b", 10_000)],
        ["ch_t", usdCharge("ch_t", 1_500)],
      ]),
      paidFrom: new Map([["ch_b", 8_000]]),
      transferredFrom: new Map([["ch_b", 8_000]]),
    });
    expect(plan).toEqual({
      kind: "plan",
      legs: [{ sourceChargeId: "ch_t", payoutAmount: 1_500, amount: 1_500, currency: "USD", exchangeRate: null }],
    });
  });
});

describe("mulDivFloor", () => {
  it("rounds down exactly, also when the product is beyond 2^53", () => {
    // 2e9 × (2e9 − 1) does not fit a double exactly; the quotient does.
    expect(mulDivFloor(2_000_000_000, 1_999_999_999, 2_000_000_000)).toBe(1_999_999_999);
    expect(mulDivFloor(2_147_483_647, 2_147_483_646, 2_147_483_647)).toBe(2_147_483_646);
    expect(mulDivFloor(7, 3, 2)).toBe(10);
    expect(() => mulDivFloor(1, 1, 0)).toThrow(RangeError);
  });
});
