// Found in review, now fixed: executeTransfer checks for open disputes outside any transaction; recordTransferOutcome
// then holds the payout for "dispute_open" without checking again under the lock. A dispute opened
// and resolved (won) in between leaves the payout on_hold for a dispute that no longer exists: the
// resolution's follow-up ran while the payout was still processing (a no-op), and the sweep never
// looks at on_hold payouts. Nothing transfers it until a person notices.
import { describe, expect, it } from "vitest";

import { openDispute } from "@/lib/disputes/open-dispute";
import { resolveDispute } from "@/lib/disputes/resolve-dispute";
import { refreshPayout } from "@/lib/payouts/refresh-payout";
import { claimTransfer } from "@/lib/payouts/transfer-claim";
import { executeTransfer } from "@/lib/payouts/transfer-execute";
import { recordTransferOutcome } from "@/lib/payouts/transfer-outcome";

import { HOUR, payoutOf, engineHarness } from "../../support/engine";

const h = engineHarness();

describe("a dispute opened and won between the pre-send check and the record", () => {
  it("does not leave the payout held for a dispute that is already resolved", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    h.clock.advance(48 * HOUR + 1000);
    const payout = await payoutOf(bookingId);
    const ctx = { ...h.ctx(), runId: "run_window" };
    const claimed = await claimTransfer(ctx, { payoutId: payout.id });
    if (claimed.kind !== "claimed") throw new Error("expected a claim");

    const opened = await openDispute(h.ctx(), { bookingId, externalId: `dsp_window_${bookingId}`, openedAt: h.clock.now() });
    const outcome = await executeTransfer(ctx, h.stripe, claimed.claim);
    expect(outcome).toEqual({ made: [], result: { kind: "deferred_for_dispute" } });

    // Before the run records its outcome, the dispute is won and its follow-up runs (payout still processing: no-op).
    await resolveDispute(h.ctx(), { disputeId: opened.dispute.id, outcome: "provider_won", refundedAmount: 0, resolvedAt: h.clock.now() });
    await refreshPayout({ ...h.ctx(), runId: "run_follow_up" }, { bookingId });

    await recordTransferOutcome(ctx, claimed.claim, outcome);
    // Later sweeps.
    for (let i = 0; i < 3; i++) {
      h.clock.advance(15 * 60 * 1000);
      await h.run("reconcile", null);
    }
    const after = await payoutOf(bookingId);
    // Not on_hold / dispute_open with no open dispute, forever.
    expect(h.transfersFor(payout.id).length).toBeLessThanOrEqual(1);
    expect({ status: after.status, holdReason: after.holdReason }).not.toEqual({ status: "on_hold", holdReason: "dispute_open" });
  });
});
