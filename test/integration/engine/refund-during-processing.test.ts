// Found in review, now fixed: a Stripe refund (or a dispute resolution) that arrives while the payout is `processing`
// is refused as busy and the whole delivery is rolled back; only the webhook delivery remembers it.
// The sweep re-applies a failed delivery MAX_AUTO_APPLY_ATTEMPTS (5) times, every 15 minutes, and
// a payout stays `processing` for 1 h+ when the platform balance is short (retry after 1 h). The
// refund is then never applied: the payout is transferred in full and nothing is reversed.
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { processDelivery } from "@/lib/ingest/process-delivery";
import { reapplyStaleDeliveries } from "@/lib/ingest/reapply-stale-deliveries";
import { storeDelivery } from "@/lib/webhooks/store-delivery";

import { HOUR, payoutOf, transferEvent, engineHarness } from "../../support/engine";

const h = engineHarness();

function chargeRefundedEvent(chargeId: string, amount: number, refunded: number) {
  return {
    id: `evt_${randomUUID().replaceAll("-", "").slice(0, 24)}`,
    object: "event",
    api_version: "2026-10-28.endive",
    created: Math.floor(h.clock.now().getTime() / 1000),
    livemode: false,
    pending_webhooks: 1,
    type: "charge.refunded",
    data: {
      object: {
        id: chargeId,
        object: "charge",
        amount,
        amount_captured: amount,
        amount_refunded: refunded,
        currency: "usd",
        captured: true,
        paid: true,
        refunded: refunded === amount,
        status: "succeeded",
        metadata: {},
      },
    },
  };
}

describe("a refund reported while the transfer is in flight", () => {
  it("is still taken from the provider once the payout settles", async () => {
    const chargeId = `ch_${randomUUID().replaceAll("-", "").slice(0, 24)}`;
    const { bookingId } = await h.completeBooking({ providerReady: true, stripeChargeId: chargeId });
    const booking = await db.booking.findUniqueOrThrow({ where: { id: bookingId } });
    h.clock.advance(48 * HOUR + 1000);
    const payout = await payoutOf(bookingId);

    // T0: attempt 1 is turned away by Stripe's rate limit (429s); the run retries later.
    h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "rate_limit" }, 6);
    const runId = "run_rate_limited";
    await h.run("transfer", transferEvent(payout.id), { runId });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "processing" });

    // T0 + 1 min: Stripe reports a half refund of the 10,000 charge (provider's part 4,000).
    h.clock.advance(60_000);
    const event = chargeRefundedEvent(chargeId, 10_000, 5_000);
    const { delivery } = await storeDelivery(db, {
      source: "stripe",
      externalId: event.id,
      type: event.type,
      payload: event,
      bookingExternalId: booking.externalId,
    });
    expect(await processDelivery(h.deps, delivery)).toMatchObject({ status: "failed" });

    // The sweep re-applies it every 15 minutes while the payout is still processing.
    for (let i = 0; i < 4; i++) {
      h.clock.advance(14 * 60_000);
      await reapplyStaleDeliveries(h.deps, { now: h.clock.now() });
    }
    expect(await db.webhookEvent.findUniqueOrThrow({ where: { id: delivery.id } })).toMatchObject({ status: "failed", applyAttempts: 5 });

    // T0 + 1 h: Inngest retries the run: transferred.
    h.clock.advance(5 * 60_000);
    expect((await h.run("transfer", transferEvent(payout.id), { runId })).result).toMatchObject({ kind: "transferred" });

    // The sweeps go on.
    for (let i = 0; i < 4; i++) {
      h.clock.advance(15 * 60_000);
      await h.run("reconcile", null);
    }

    const transferred = h.transfersFor(payout.id).reduce((sum, t) => sum + t.amount, 0);
    const reversals = await db.transferReversal.findMany({ where: { payoutId: payout.id } });
    const recovering = reversals.reduce((sum, r) => sum + r.amount, 0);
    const refunds = await db.chargeRefund.count({ where: { stripeChargeId: chargeId } });
    // The refund is recorded and recovered: the provider keeps 4,000.
    expect({ refunds, net: transferred - recovering }).toEqual({ refunds: 1, net: 4_000 });
  });
});
