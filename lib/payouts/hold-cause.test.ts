import { describe, expect, it } from "vitest";

import { presentHoldCause } from "./hold-cause";

const ready = { provider: { payoutsEnabled: true, accountCheckedAt: new Date("2026-11-01T00:00:00.000Z") } };
const notReady = { provider: { payoutsEnabled: false, accountCheckedAt: new Date("2026-11-01T00:00:00.000Z") } };
const neverChecked = { provider: { payoutsEnabled: false, accountCheckedAt: null } };

describe("presentHoldCause", () => {
  it("is null when no dispute is open and the account is ready", () => {
    expect(presentHoldCause(ready, 0)).toBeNull();
  });

  it("holds for open disputes first, counting them in the note", () => {
    expect(presentHoldCause(ready, 1)).toEqual({
      holdReason: "dispute_open",
      holdNote: "1 open dispute",
      reason: "a dispute on the booking is open",
    });
    expect(presentHoldCause(notReady, 3)).toMatchObject({ holdReason: "dispute_open", holdNote: "3 open disputes" });
  });

  it("holds for an account Stripe said cannot receive payouts", () => {
    expect(presentHoldCause(notReady, 0)).toEqual({
      holdReason: "provider_account_not_ready",
      holdNote: "Stripe account cannot receive payouts",
      reason: "the provider's Stripe account cannot receive payouts",
    });
  });

  it("does not hold for an account Stripe never described (the claim checks it instead)", () => {
    expect(presentHoldCause(neverChecked, 0)).toBeNull();
  });
});
