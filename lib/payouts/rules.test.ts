import { describe, expect, it } from "vitest";

import type { PayoutStatus } from "@/generated/prisma/enums";

import { evaluateEligibility, type TEligibilityFacts } from "./eligibility";
import { canTransition, IllegalTransitionError, nextStatus, type TPayoutEvent } from "./state-machine";
import { fixedClock, isTipInWindow, payoutDueAt, tipWindowEndsAt } from "./timing";

const completedAt = new Date("2026-11-01T10:00:00.000Z");
const HOUR = 3600_000;

describe("timing", () => {
  it("makes a payout due 48 h after completion by default, configurable", () => {
    expect(payoutDueAt(completedAt).toISOString()).toBe("2026-11-03T10:00:00.000Z");
    expect(payoutDueAt(completedAt, { payoutDelayHours: 72, tipWindowHours: 24 }).toISOString()).toBe("2026-11-04T10:00:00.000Z");
  });

  it("accepts tips until completion + 24 h inclusive", () => {
    expect(tipWindowEndsAt(completedAt).toISOString()).toBe("2026-11-02T10:00:00.000Z");
    expect(isTipInWindow(completedAt, new Date(completedAt.getTime() + 23 * HOUR))).toBe(true);
    expect(isTipInWindow(completedAt, new Date(completedAt.getTime() + 24 * HOUR))).toBe(true);
    expect(isTipInWindow(completedAt, new Date(completedAt.getTime() + 25 * HOUR))).toBe(false);
    expect(isTipInWindow(completedAt, new Date(completedAt.getTime() + 25 * HOUR), { payoutDelayHours: 48, tipWindowHours: 36 })).toBe(
      true,
    );
  });

  it("has an injectable clock", () => {
    const clock = fixedClock(completedAt);
    const a = clock.now();
    a.setFullYear(2000);
    expect(clock.now().toISOString()).toBe(completedAt.toISOString());
  });
});

describe("eligibility", () => {
  const due = new Date(completedAt.getTime() + 48 * HOUR);
  const facts: TEligibilityFacts = {
    status: "scheduled",
    amount: 1000,
    eligibleAt: due,
    bookingCompletedAt: completedAt,
    bookingCancelledAt: null,
    openDisputes: 0,
    providerStripeAccountId: "acct_1",
    providerPayoutsEnabled: true,
  };

  it("is eligible when completed, due, undisputed, account ready, not cancelled", () => {
    expect(evaluateEligibility(facts, due)).toEqual({ eligible: true });
  });

  it("lists every reason it is not", () => {
    const result = evaluateEligibility(
      { ...facts, status: "on_hold", bookingCancelledAt: due, openDisputes: 1, providerPayoutsEnabled: false, amount: 0 },
      new Date(due.getTime() - 1),
    );
    expect(result).toEqual({
      eligible: false,
      reasons: ["not_scheduled", "booking_cancelled", "not_due", "dispute_open", "provider_account_not_ready", "nothing_to_pay"],
    });
  });

  it("lets a force release skip the wait but not a dispute", () => {
    const early = new Date(completedAt.getTime() + HOUR);
    expect(evaluateEligibility(facts, early, { ignoreDueTime: true })).toEqual({ eligible: true });
    expect(evaluateEligibility({ ...facts, openDisputes: 1 }, early, { ignoreDueTime: true })).toEqual({
      eligible: false,
      reasons: ["dispute_open"],
    });
  });
});

describe("payout state machine", () => {
  const legal: Array<[PayoutStatus, TPayoutEvent, PayoutStatus]> = [
    ["scheduled", "claim", "processing"],
    ["scheduled", "hold", "on_hold"],
    ["on_hold", "release", "scheduled"],
    ["processing", "transfer_succeeded", "transferred"],
    ["processing", "transfer_retry", "processing"],
    ["processing", "transfer_failed", "failed"],
    ["processing", "unclaim_to_hold", "on_hold"],
    ["failed", "retry", "scheduled"],
    ["scheduled", "cancel", "cancelled"],
    ["on_hold", "cancel", "cancelled"],
    ["failed", "cancel", "cancelled"],
    ["transferred", "reverse_partially", "partially_reversed"],
    ["partially_reversed", "reverse_fully", "reversed"],
    // A repayment gives back what reversals took when the refund behind them failed.
    ["reversed", "reverse_partially", "partially_reversed"],
    ["reversed", "unreverse", "transferred"],
    ["partially_reversed", "unreverse", "transferred"],
    // A payout closed as fully refunded is paid after all when a refund behind it failed.
    ["cancelled", "reopen", "scheduled"],
  ];

  it.each(legal)("%s --%s--> %s", (from, event, to) => {
    expect(nextStatus(from, event)).toBe(to);
  });

  it.each<[PayoutStatus, TPayoutEvent]>([
    ["transferred", "cancel"],
    ["processing", "cancel"],
    ["cancelled", "release"],
    ["transferred", "claim"],
    ["on_hold", "claim"],
    ["scheduled", "retry"],
    ["scheduled", "unreverse"],
    ["failed", "unreverse"],
    ["scheduled", "transfer_succeeded"],
    ["transferred", "reopen"],
  ])("refuses %s --%s--> with a typed error", (from, event) => {
    expect(canTransition(from, event)).toBe(false);
    const error = (() => {
      try {
        nextStatus(from, event);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(IllegalTransitionError);
    expect(error).toMatchObject({ status: 409, code: "illegal_transition", from, event });
  });
});
