// Found in review, now fixed: the sweep picks payouts "stuck" in processing with one query, then settles each one
// later (settleProcessingPayout), after a Stripe list call per payout. settleProcessingPayout
// never re-checks that the payout is still stale: a run that re-claimed it meanwhile (the
// balance retry fires after exactly the 1 h the sweep waits) has its in-flight transfer undone.
import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { settleProcessingPayout } from "@/lib/payouts/settle-processing-payout";
import { claimTransfer } from "@/lib/payouts/transfer-claim";
import { executeTransfer } from "@/lib/payouts/transfer-execute";
import { recordTransferOutcome } from "@/lib/payouts/transfer-outcome";

import { HOUR, payoutOf, transferEvent, engineHarness } from "../../support/engine";

const h = engineHarness();

describe("the sweep settling a payout whose run is transferring it right now", () => {
  it("does not put the payout back to scheduled while the run's transfer is in flight", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    h.clock.advance(48 * HOUR + 1000);
    const payout = await payoutOf(bookingId);

    // Attempt 1 at T0: Stripe keeps answering 429 (rate limited); Inngest retries the step later.
    h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "rate_limit" }, 6);
    const runId = "run_rate_limited";
    const first = await h.run("transfer", transferEvent(payout.id), { runId });
    expect(first.error).toMatchObject({ name: "RetryAfterError" });
    // Turned away unprocessed: the attempt does not count, the claim stays this run's.
    expect(await payoutOf(bookingId)).toMatchObject({ status: "processing", attempts: 0 });

    // T0 + 61 min: the reconcile sweep selects the payout as stuck (processingStartedAt = T0) ...
    h.clock.advance(HOUR + 60_000);
    const stuck = await db.payout.findMany({
      where: { status: "processing", processingStartedAt: { lt: new Date(h.clock.now().getTime() - HOUR) } },
      select: { id: true },
    });
    expect(stuck.map((p) => p.id)).toContain(payout.id);

    // ... meanwhile Inngest's retry of the run re-claims it (fresh lease) and calls Stripe, which is slow.
    const ctx = { ...h.ctx(), runId };
    const claimed = await claimTransfer(ctx, { payoutId: payout.id });
    if (claimed.kind !== "claimed") throw new Error(`expected a claim, got ${JSON.stringify(claimed)}`);
    h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "delay", ms: 700 });
    const inFlight = executeTransfer(ctx, h.stripe, claimed.claim);
    while (
      !h.fake
        .requests()
        .some(
          (r) => r.method === "POST" && r.path === "/v1/transfers" && r.params["metadata[payoutId]"] === payout.id && r.fault === "delay",
        )
    ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    // The sweep reaches this payout in its loop: Stripe has no transfer yet.
    const settled = await settleProcessingPayout({ ...h.ctx(), runId: "run_sweep" }, h.stripe, {
      payoutId: payout.id,
      staleBefore: new Date(h.clock.now().getTime() - HOUR),
    });

    const outcome = await inFlight;
    expect(outcome.result.kind).toBe("succeeded");
    const recorded = await recordTransferOutcome(ctx, claimed.claim, outcome);

    expect(h.transfersFor(payout.id)).toHaveLength(1);
    const after = await payoutOf(bookingId);
    // Left alone by the sweep, the run records its transfer.
    expect({ settled, recorded: recorded.kind, status: after.status, stripeTransferId: after.stripeTransferId }).toEqual({
      settled: "unchanged",
      recorded: "transferred",
      status: "transferred",
      stripeTransferId: h.transfersFor(payout.id)[0]!.id,
    });
  });
});
