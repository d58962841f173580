import { describe, expect, it } from "vitest";

import { isTransferForLeg, MAX_IDEMPOTENCY_KEY_LENGTH, reversalIdempotencyKey, transferIdempotencyKey } from "./transfers";

describe("transferIdempotencyKey", () => {
  it("is derived from the payout and its amount version only", () => {
    expect(transferIdempotencyKey("pay_123", 1)).toBe("payout:pay_123:v1");
    expect(transferIdempotencyKey("pay_123", 1)).toBe(transferIdempotencyKey("pay_123", 1));
    expect(transferIdempotencyKey("pay_123", 2)).not.toBe(transferIdempotencyKey("pay_123", 1));
    expect(transferIdempotencyKey("pay_124", 1)).not.toBe(transferIdempotencyKey("pay_123", 1));
  });

  it("changes only after a refusal Stripe stores under the key", () => {
    expect(transferIdempotencyKey("pay_123", 1, 0)).toBe("payout:pay_123:v1");
    expect(transferIdempotencyKey("pay_123", 1, 2)).toBe("payout:pay_123:v1:r2");
    expect(() => transferIdempotencyKey("pay_123", 1, -1)).toThrow(RangeError);
  });

  it("stays within Stripe's 255 characters for realistic ids", () => {
    const uuid = "0b3c5f0e-8d0a-4f7e-9a51-3a8c1f2e7b6d";
    expect(transferIdempotencyKey(uuid, Number.MAX_SAFE_INTEGER).length).toBeLessThanOrEqual(MAX_IDEMPOTENCY_KEY_LENGTH);
    expect(MAX_IDEMPOTENCY_KEY_LENGTH).toBe(255);
  });

  it("refuses input that would give an ambiguous or oversized key", () => {
    expect(() => transferIdempotencyKey("", 1)).toThrow(RangeError);
    expect(() => transferIdempotencyKey(" pay_1", 1)).toThrow(RangeError);
    expect(() => transferIdempotencyKey("pay_1", -1)).toThrow(RangeError);
    expect(() => transferIdempotencyKey("pay_1", 1.5)).toThrow(RangeError);
    expect(() => transferIdempotencyKey("x".repeat(300), 1)).toThrow(/255/);
  });
});

describe("reversalIdempotencyKey", () => {
  it("is one key per dispute, distinct from transfer keys", () => {
    expect(reversalIdempotencyKey("dp_1")).toBe("reversal:dispute:dp_1");
    expect(reversalIdempotencyKey("dp_1")).toBe(reversalIdempotencyKey("dp_1"));
    expect(reversalIdempotencyKey("dp_2")).not.toBe(reversalIdempotencyKey("dp_1"));
    expect(() => reversalIdempotencyKey("")).toThrow(RangeError);
  });

  it("is one key per reversed transfer: a repayment's differs from the payout transfer with the same leg number", () => {
    expect(reversalIdempotencyKey("dp_1", 2)).toBe("reversal:dispute:dp_1:l2");
    expect(reversalIdempotencyKey("dp_1", 1, "repayment")).toBe("reversal:dispute:dp_1:rp1");
    expect(reversalIdempotencyKey("dp_1", 1, "repayment")).not.toBe(reversalIdempotencyKey("dp_1", 1));
  });
});

describe("isTransferForLeg", () => {
  const leg = { leg: 2, amountVersion: 3, amount: 8_700, currency: "USD" };
  const transfer = (metadata: Record<string, string>, amount = 8_700, currency = "usd") => ({
    amount,
    currency,
    metadata: { payoutId: "pay_1", ...metadata },
  });

  it("matches the leg number, the amount version and the amount in the leg's currency", () => {
    expect(isTransferForLeg(transfer({ leg: "2", amountVersion: "3" }), leg)).toBe(true);
  });

  it("never takes a transfer made for another amount of the payout under the same leg number", () => {
    expect(isTransferForLeg(transfer({ leg: "2", amountVersion: "2" }), leg)).toBe(false);
    expect(isTransferForLeg(transfer({ leg: "2", amountVersion: "3" }, 8_000), leg)).toBe(false);
    expect(isTransferForLeg(transfer({ leg: "2", amountVersion: "3" }, 8_700, "eur"), leg)).toBe(false);
    expect(isTransferForLeg(transfer({ leg: "1", amountVersion: "3" }), leg)).toBe(false);
  });

  it("reads a transfer without a leg as the first, and one without a version by its amount", () => {
    expect(isTransferForLeg(transfer({}), { ...leg, leg: 1 })).toBe(true);
    expect(isTransferForLeg(transfer({}), leg)).toBe(false);
    expect(isTransferForLeg(transfer({}, 100), { ...leg, leg: 1 })).toBe(false);
  });
});
