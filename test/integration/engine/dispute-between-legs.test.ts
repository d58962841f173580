// Review: a payout paid with several transfers (one per charge) was checked for open disputes only
// once, before the write gate. A dispute opened after the first transfer was made, while the next
// waited for its slot (seconds when many payouts are due, or after a 429), did not stop it.
import { beforeEach, describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { openDispute } from "@/lib/disputes/open-dispute";
import { resolveDispute } from "@/lib/disputes/resolve-dispute";
import { transferPayout } from "@/lib/payouts/transfer-payout";
import type { TStripeWriteGate } from "@/lib/stripe/write-gate";
import { addTip } from "@/lib/tips/add-tip";

import { HOUR, payoutOf, transferEvent, engineHarness } from "../../support/engine";

const DAY = 24 * HOUR;

const h = engineHarness();

beforeEach(() => {
  h.fake.setBalance("usd", 0);
});

const secondsFromNow = (ms: number) => new Date(Math.floor((h.clock.now().getTime() + ms) / 1000) * 1000);

/** The harness's gate, awaiting `arm` just before the `n`th write takes its slot. */
function armBeforeWrite(n: number, arm: () => Promise<void>): TStripeWriteGate {
  const gate = h.deps.stripeWrites!;
  let writes = 0;
  return {
    acquire: async () => {
      writes += 1;
      if (writes === n) await arm();
      await gate.acquire();
    },
    backoffMs: (retry, failure) => gate.backoffMs(retry, failure),
    sleep: (ms) => gate.sleep(ms),
  };
}

describe("a dispute opened between a payout's transfers", () => {
  it("stops the transfers not yet sent: the payout waits on hold for the dispute, and is completed once after it", async () => {
    const bookingCharge = h.fake.createCharge({ amount: 10_000, currency: "usd", availableOn: secondsFromNow(3 * DAY) });
    const tipCharge = h.fake.createCharge({ amount: 1_500, currency: "usd", availableOn: secondsFromNow(3 * DAY) });
    const { bookingId } = await h.completeBooking({ providerReady: true, stripeChargeId: bookingCharge.id, providerShare: 8_000 });
    await addTip(h.ctx(), {
      tipExternalId: `tip_${bookingId}`,
      bookingId,
      amount: 1_500,
      currency: "USD",
      tippedAt: h.clock.now(),
      stripeChargeId: tipCharge.id,
    });
    h.clock.advance(48 * HOUR + 1000);
    const payout = await payoutOf(bookingId);

    // The customer disputes the booking after the share's transfer was made, while the tip's waits for its slot.
    let disputeId = "";
    const ctx = {
      ...h.ctx(),
      runId: "run_dispute_between_legs",
      stripeWrites: armBeforeWrite(2, async () => {
        disputeId = (await openDispute(h.ctx(), { bookingId, externalId: `dsp_${bookingId}`, openedAt: h.clock.now() })).dispute.id;
      }),
    };
    const result = await transferPayout(ctx, h.stripe, { payoutId: payout.id });

    // The share's transfer was already on its way; the tip's must not be sent while the dispute is open.
    expect(h.transfersFor(payout.id).map((t) => [t.amount, t.source_transaction])).toEqual([[8_000, bookingCharge.id]]);
    expect(result).toMatchObject({ kind: "held_for_dispute" });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "dispute_open", attempts: 0 });
    const legs = await db.payoutTransfer.findMany({ where: { payoutId: payout.id }, orderBy: { leg: "asc" } });
    expect(legs.map((l) => [l.leg, l.status])).toEqual([
      [1, "succeeded"],
      [2, "pending"],
    ]);

    // The dispute is won: released, and only the tip's transfer is made.
    await resolveDispute(h.ctx(), { disputeId, outcome: "provider_won", refundedAmount: 0, resolvedAt: h.clock.now() });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled" });
    const run = await h.run("transfer", transferEvent(payout.id));
    expect(run.result).toMatchObject({ kind: "transferred" });
    expect(h.transfersFor(payout.id).map((t) => [t.amount, t.source_transaction])).toEqual([
      [8_000, bookingCharge.id],
      [1_500, tipCharge.id],
    ]);
  });
});
