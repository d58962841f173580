import { describe, expect, it } from "vitest";

import { shareToReverse, stillTaken } from "./reversal-share";

describe("stillTaken", () => {
  it("counts a reversal made or being made in full, in both currencies", () => {
    expect(stillTaken({ amount: 1_000, transferAmount: 900, status: "succeeded", debt: null })).toEqual({
      amount: 1_000,
      transferAmount: 900,
    });
    expect(stillTaken({ amount: 1_000, transferAmount: null, status: "pending", debt: null })).toEqual({
      amount: 1_000,
      transferAmount: 1_000,
    });
  });

  it("counts a refused reversal for its debt as it stands, what was given back rounded down in the transfer's currency", () => {
    expect(stillTaken({ amount: 1_000, transferAmount: 900, status: "failed", debt: { amount: 1_000 } })).toEqual({
      amount: 1_000,
      transferAmount: 900,
    });
    // 333 of 1000 given back is 299.7 of 900: 299 counted as given back, so 601 still taken.
    expect(stillTaken({ amount: 1_000, transferAmount: 900, status: "failed", debt: { amount: 667 } })).toEqual({
      amount: 667,
      transferAmount: 601,
    });
    expect(stillTaken({ amount: 1_000, transferAmount: null, status: "failed", debt: { amount: 400 } })).toEqual({
      amount: 400,
      transferAmount: 400,
    });
  });

  it("never counts a debt above the reversal", () => {
    expect(stillTaken({ amount: 500, transferAmount: 500, status: "failed", debt: { amount: 800 } })).toEqual({
      amount: 500,
      transferAmount: 500,
    });
  });
});

describe("shareToReverse", () => {
  const nothing = { amount: 0, transferAmount: 0 };

  it("takes what is wanted when the transfer has it", () => {
    expect(shareToReverse({ amount: 5_000, payoutAmount: 5_000 }, nothing, 1_200)).toEqual({ amount: 1_200, transferAmount: 1_200 });
  });

  it("takes no more than is left of the transfer", () => {
    expect(shareToReverse({ amount: 5_000, payoutAmount: 5_000 }, { amount: 4_000, transferAmount: 4_000 }, 3_000)).toEqual({
      amount: 1_000,
      transferAmount: 1_000,
    });
  });

  it("converts into the transfer's currency rounding down, and never past what is left of it there", () => {
    // 10,000 of the payout's currency paid as 9,000 of the transfer's.
    const converted = { amount: 9_000, payoutAmount: 10_000 };
    expect(shareToReverse(converted, nothing, 1_001)).toEqual({ amount: 1_001, transferAmount: 900 });
    expect(shareToReverse(converted, { amount: 9_000, transferAmount: 8_500 }, 5_000)).toEqual({ amount: 1_000, transferAmount: 500 });
  });

  it("is null when nothing is left to reverse, in either currency", () => {
    expect(shareToReverse({ amount: 5_000, payoutAmount: 5_000 }, { amount: 5_000, transferAmount: 5_000 }, 100)).toBeNull();
    expect(shareToReverse({ amount: 9_000, payoutAmount: 10_000 }, { amount: 9_999, transferAmount: 9_000 }, 100)).toBeNull();
    expect(shareToReverse({ amount: 9_000, payoutAmount: 10_000 }, nothing, 1)).toBeNull();
    expect(shareToReverse({ amount: 5_000, payoutAmount: 5_000 }, nothing, 0)).toBeNull();
  });
});
