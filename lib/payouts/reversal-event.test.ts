import { describe, expect, it } from "vitest";

import { reversalEvent } from "./reversal-event";
import { nextStatus } from "./state-machine";

describe("reversalEvent", () => {
  const payout = { amount: 10_000 };

  it("unreverses when nothing is lost after the transfer (or repayments gave back all of it)", () => {
    expect(reversalEvent(payout, 0, 0)).toBe("unreverse");
    expect(reversalEvent(payout, 4_000, 4_000)).toBe("unreverse");
    expect(reversalEvent(payout, 4_000, 5_000)).toBe("unreverse");
  });

  it("reverses partially while less than the amount is lost", () => {
    expect(reversalEvent(payout, 1, 0)).toBe("reverse_partially");
    expect(reversalEvent(payout, 12_000, 3_000)).toBe("reverse_partially");
  });

  it("reverses fully once the whole amount is lost", () => {
    expect(reversalEvent(payout, 10_000, 0)).toBe("reverse_fully");
    expect(reversalEvent(payout, 15_000, 5_000)).toBe("reverse_fully");
  });

  it("names events the state machine takes from a transferred payout", () => {
    expect(nextStatus("transferred", reversalEvent(payout, 2_500, 0))).toBe("partially_reversed");
    expect(nextStatus("transferred", reversalEvent(payout, 10_000, 0))).toBe("reversed");
    expect(nextStatus("reversed", reversalEvent(payout, 10_000, 10_000))).toBe("transferred");
  });
});
