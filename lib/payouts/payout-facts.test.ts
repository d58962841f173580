import { describe, expect, it } from "vitest";

import { evaluateEligibility } from "./eligibility";
import { eligibilityFacts, tipsMayStillJoin } from "./payout-facts";
import { payoutDueAt } from "./timing";

const HOUR = 3600_000;
const completedAt = new Date("2026-11-01T10:00:00.000Z");
const at = (hours: number) => new Date(completedAt.getTime() + hours * HOUR);
const timing = { payoutDelayHours: 48, tipWindowHours: 24 };

describe("tipsMayStillJoin", () => {
  const payout = { eligibleAt: payoutDueAt(completedAt, timing) };

  it("lets tips join while the payout is not due, even after the tip window", () => {
    expect(tipsMayStillJoin(payout, { completedAt }, at(10), timing)).toBe(true);
    expect(tipsMayStillJoin(payout, { completedAt }, at(30), timing)).toBe(true);
    expect(tipsMayStillJoin(payout, { completedAt }, new Date(at(48).getTime() - 1), timing)).toBe(true);
  });

  it("closes once the payout is due and the tip window has closed", () => {
    expect(tipsMayStillJoin(payout, { completedAt }, at(48), timing)).toBe(false);
    expect(tipsMayStillJoin(payout, { completedAt }, at(100), timing)).toBe(false);
  });

  it("keeps a due payout open to tips while the tip window is (a window longer than the delay), to its last instant", () => {
    const long = { payoutDelayHours: 48, tipWindowHours: 72 };
    const early = { eligibleAt: payoutDueAt(completedAt, long) };
    expect(tipsMayStillJoin(early, { completedAt }, at(60), long)).toBe(true);
    expect(tipsMayStillJoin(early, { completedAt }, at(72), long)).toBe(true);
    expect(tipsMayStillJoin(early, { completedAt }, new Date(at(72).getTime() + 1), long)).toBe(false);
  });

  it("lets tips join a booking not completed yet", () => {
    expect(tipsMayStillJoin({ eligibleAt: at(-1000) }, { completedAt: null }, at(1000), timing)).toBe(true);
  });
});

describe("eligibilityFacts", () => {
  const payout = { status: "scheduled" as const, amount: 1_234, eligibleAt: at(48) };
  const booking = {
    completedAt,
    cancelledAt: null,
    provider: { stripeAccountId: "acct_1", payoutsEnabled: true },
  };

  it("reads the payout, its booking, its provider and the open disputes", () => {
    expect(eligibilityFacts(payout, booking, 2)).toEqual({
      status: "scheduled",
      amount: 1_234,
      eligibleAt: at(48),
      bookingCompletedAt: completedAt,
      bookingCancelledAt: null,
      openDisputes: 2,
      providerStripeAccountId: "acct_1",
      providerPayoutsEnabled: true,
    });
  });

  it("decides eligibility with what it read", () => {
    const reasons = (facts: ReturnType<typeof eligibilityFacts>, now: Date) => {
      const result = evaluateEligibility(facts, now);
      return result.eligible ? [] : result.reasons;
    };
    expect(reasons(eligibilityFacts(payout, booking, 0), at(48))).toEqual([]);
    expect(reasons(eligibilityFacts(payout, booking, 1), at(48))).toEqual(["dispute_open"]);
    expect(reasons(eligibilityFacts(payout, { ...booking, cancelledAt: at(1) }, 0), at(48))).toEqual(["booking_cancelled"]);
    const noAccount = { ...booking, provider: { stripeAccountId: null, payoutsEnabled: true } };
    expect(reasons(eligibilityFacts(payout, noAccount, 0), at(48))).toEqual(["provider_account_not_ready"]);
    expect(reasons(eligibilityFacts(payout, booking, 0), at(47))).toEqual(["not_due"]);
    expect(reasons(eligibilityFacts({ ...payout, status: "on_hold", amount: 0 }, booking, 0), at(48))).toEqual([
      "not_scheduled",
      "nothing_to_pay",
    ]);
  });
});
