import { describe, expect, it } from "vitest";

import type { Payout } from "@/generated/prisma/client";
import { payoutSnapshot } from "@/lib/payouts/payout-snapshot";

import { readPayoutSnapshot } from "./audit-snapshots";

const payout = {
  status: "on_hold",
  currency: "USD",
  providerShare: 16_000,
  tipAmount: 1_700,
  debtRecoveredAmount: 0,
  refundedAmount: 5_427,
  amount: 12_273,
  amountVersion: 3,
  reversedAmount: 0,
  holdReason: "dispute_open",
  eligibleAt: new Date("2026-11-24T10:17:00.000Z"),
  attempts: 1,
  stripeTransferId: null,
} satisfies Partial<Payout>;

/** What a JSON column gives back of what was written. */
const stored = (value: unknown) => JSON.parse(JSON.stringify(value)) as Parameters<typeof readPayoutSnapshot>[0];

describe("readPayoutSnapshot", () => {
  it("reads back every field payoutSnapshot wrote, typed", () => {
    const written = payoutSnapshot(payout);
    expect(readPayoutSnapshot(stored(written))).toEqual(written);
    expect(written.eligibleAt).toBe("2026-11-24T10:17:00.000Z");
  });

  it("reads the details of a change beside the snapshot, and leaves out the ones it does not know", () => {
    const after = { ...payoutSnapshot({ ...payout, status: "reversed" }), stripeReversalId: "trr_1", reversalAmount: 500 };
    expect(readPayoutSnapshot(stored(after))).toMatchObject({ status: "reversed", stripeReversalId: "trr_1" });
    expect(readPayoutSnapshot(stored(after))).not.toHaveProperty("reversalAmount");
  });

  it("leaves out fields an older or other entry lacks or has with another type, and keeps the rest", () => {
    expect(readPayoutSnapshot(stored({ status: "resolved", amount: "12.00", stripeTransferId: "tr_1", tipAmount: 300 }))).toEqual({
      stripeTransferId: "tr_1",
      tipAmount: 300,
    });
    expect(readPayoutSnapshot(stored({ amount: 1.5, holdReason: "not_a_reason" }))).toEqual({});
  });

  it("reads nothing from what is not an object", () => {
    for (const value of [null, undefined, 5, "on_hold", [{ status: "on_hold" }]])
      expect(readPayoutSnapshot(stored(value ?? null))).toEqual({});
  });
});
