// Review: the reconciliation sweep recovers Stripe events never delivered, walking Stripe's
// events API. Its first walk (or one started again after Stripe forgot the last event seen)
// looks back three days; with more events there than one walk takes, the oldest must still be
// recovered by the next walks, not skipped for good.
import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { recoverStripeEvents } from "@/lib/ingest/recover-stripe-events";

import { HOUR, payoutOf } from "../../support/engine";
import { fixture, stripeEvent, stripeId } from "../../support/stripe-fixtures";
import { stripeDeliveryOf, appEngineHarness } from "../../support/stripe-webhook";

const h = appEngineHarness();

describe("more undelivered events in the lookback than one walk takes", () => {
  it("the oldest, a dispute, is recovered by a later walk and holds its payout", async () => {
    const charge = h.fake.createCharge({ amount: 10_000, currency: "usd" });
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge.id });
    const now = Math.floor(h.clock.now().getTime() / 1000);

    // Two days ago a dispute was opened; its webhook never came.
    const disputed = h.fake.disputeCharge(charge.id);
    const dispute = stripeEvent({ type: "charge.dispute.created", object: disputed, created: now - 2 * 24 * 3600 });
    h.fake.addEvent(dispute);
    // Since then, 1,000 other events of the types Payouts reads (reversals of transfers not Payouts').
    for (let i = 0; i < 1_000; i++) {
      const transfer = { ...fixture<Record<string, unknown>>("transfer"), id: stripeId("tr_"), metadata: {} };
      h.fake.addEvent(stripeEvent({ type: "transfer.reversed", object: transfer, created: now - 24 * 3600 + i }));
    }

    // Two sweeps, a quarter of an hour apart.
    for (let run = 0; run < 2; run++) {
      h.clock.advance(HOUR / 4);
      await recoverStripeEvents(h.deps);
    }
    // Every one of them is stored, once.
    expect(await db.webhookEvent.count({ where: { source: "stripe" } })).toBe(1_001);

    expect(await stripeDeliveryOf(dispute)).toMatchObject({ status: "processed" });
    expect(await db.dispute.findUniqueOrThrow({ where: { stripeDisputeId: disputed.id } })).toMatchObject({ bookingId, status: "open" });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "dispute_open" });
  });
});
