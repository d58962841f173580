import { describe, expect, it } from "vitest";

import type { PayoutStatus } from "@/generated/prisma/enums";

import { platformEventForPayoutChange } from "./event-types";

const s = (status: PayoutStatus, reversedAmount = 0, repaidAmount = 0) => ({ status, reversedAmount, repaidAmount });

describe("platformEventForPayoutChange", () => {
  it.each([
    [null, s("scheduled"), "payout.scheduled"],
    [s("failed"), s("scheduled"), "payout.scheduled"],
    [s("cancelled"), s("scheduled"), "payout.scheduled"],
    [s("on_hold"), s("scheduled"), "payout.released"],
    [s("scheduled"), s("on_hold"), "payout.held"],
    [s("processing"), s("on_hold"), "payout.held"],
    [s("processing"), s("transferred"), "payout.transferred"],
    [s("processing"), s("failed"), "payout.failed"],
    [s("scheduled"), s("cancelled"), "payout.cancelled"],
    [s("scheduled"), s("applied_to_debt"), "payout.applied_to_debt"],
    [s("transferred"), s("partially_reversed", 100), "payout.reversed"],
    [s("partially_reversed", 100), s("partially_reversed", 300), "payout.reversed"],
    [s("partially_reversed", 100), s("reversed", 1_000), "payout.reversed"],
    [s("partially_reversed", 100), s("transferred", 100, 100), "payout.transferred"],
  ] as const)("%o → %o: %s", (before, after, expected) => {
    expect(platformEventForPayoutChange(before, after)).toBe(expected);
  });

  it.each([
    [s("scheduled"), s("processing")],
    [s("processing"), s("processing")],
    [s("processing"), s("scheduled")],
    [s("scheduled"), s("scheduled")],
    [s("on_hold"), s("on_hold")],
    [s("transferred"), s("transferred")],
    [s("failed"), s("failed")],
    [s("applied_to_debt"), s("applied_to_debt")],
  ] as const)("%o → %o: nothing", (before, after) => {
    expect(platformEventForPayoutChange(before, after)).toBeNull();
  });
});
