import { describe, expect, it } from "vitest";

import { refundClaimsOf } from "./refund-claim";

describe("refundClaimsOf", () => {
  it("makes a claim per dispute refund, then per charge step, in order", () => {
    const claims = refundClaimsOf(
      [
        { id: "d1", refundedAmount: 2_000, externalId: "dsp_platform", stripeDisputeId: null, stripeChargeId: "ch_ignored" },
        { id: "d2", refundedAmount: 700, externalId: null, stripeDisputeId: "du_1", stripeChargeId: "ch_1" },
      ],
      [
        { id: "r1", amount: 1_500, stripeChargeId: "ch_1" },
        { id: "r2", amount: -500, stripeChargeId: "ch_1" },
      ],
    );
    expect(claims).toEqual([
      { amount: 2_000, link: { disputeId: "d1" }, stripeChargeId: null, afterTransferReason: "dispute dsp_platform lost after transfer" },
      { amount: 700, link: { disputeId: "d2" }, stripeChargeId: "ch_1", afterTransferReason: "dispute du_1 lost after transfer" },
      {
        amount: 1_500,
        link: { chargeRefundId: "r1" },
        stripeChargeId: "ch_1",
        afterTransferReason: "Stripe refund on charge ch_1 after transfer",
      },
      {
        amount: -500,
        link: { chargeRefundId: "r2" },
        stripeChargeId: "ch_1",
        afterTransferReason: "Stripe refund on charge ch_1 failed or was cancelled after transfer",
      },
    ]);
  });

  it("names a dispute by its id when it has no external or Stripe id", () => {
    const [claim] = refundClaimsOf([{ id: "d3", refundedAmount: 100, externalId: null, stripeDisputeId: null, stripeChargeId: null }], []);
    expect(claim?.afterTransferReason).toBe("dispute d3 lost after transfer");
  });

  it("makes no claim without facts", () => {
    expect(refundClaimsOf([], [])).toEqual([]);
  });
});
