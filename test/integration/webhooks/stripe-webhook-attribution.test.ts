// Which booking a Stripe event concerns is stored with it as a hint (to wake it when the booking
// arrives, to list it with the booking). Not being able to tell must never refuse the event:
// it is stored without a booking reference and answered 200, and whatever stops it from being
// applied is kept on the delivery, visible to operators and re-drivable.
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { addTip } from "@/lib/tips/add-tip";

import { engineHarness } from "../../support/engine";
import { sendStripeEvent, stripeDeliveryOf, stripeId } from "../../support/stripe-webhook";

const h = engineHarness();

const now = () => Math.floor(Date.now() / 1000);
function chargeRefundedEvent(input: { chargeId: string; amount: number; amountRefunded: number }) {
  return {
    id: stripeId("evt"),
    object: "event",
    api_version: "2026-10-28.endive",
    created: now(),
    data: {
      object: {
        id: input.chargeId,
        object: "charge",
        amount: input.amount,
        amount_captured: input.amount,
        amount_refunded: input.amountRefunded,
        captured: true,
        created: now() - 3 * 86_400,
        currency: "usd",
        metadata: {},
        paid: true,
        refunded: input.amountRefunded === input.amount,
        status: "succeeded",
        transfer_group: null,
      },
    },
    livemode: false,
    pending_webhooks: 1,
    request: { id: stripeId("req"), idempotency_key: randomUUID() },
    type: "charge.refunded",
  };
}

describe("a Stripe event whose booking cannot be told", () => {
  it("a refund of a charge named by tips of two bookings is stored without a booking reference, answered 200, and failed with the conflict", async () => {
    // The booking platform sent two tips of different bookings naming the same charge.
    const sharedCharge = stripeId("ch");
    const bookingIds: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { bookingId } = await h.completeBooking({ providerReady: true, stripeChargeId: stripeId("ch") });
      bookingIds.push(bookingId);
      await addTip(h.ctx(), {
        tipExternalId: `tip_${randomUUID()}`,
        bookingId,
        amount: 500,
        currency: "USD",
        tippedAt: h.clock.now(),
        stripeChargeId: sharedCharge,
      });
    }
    const before = await db.payout.findMany({ where: { bookingId: { in: bookingIds } }, orderBy: { id: "asc" } });

    const event = chargeRefundedEvent({ chargeId: sharedCharge, amount: 1_000, amountRefunded: 1_000 });
    expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true } });

    // Stored first; applying meets the same ambiguity and keeps it on the delivery.
    expect(await stripeDeliveryOf(event)).toMatchObject({
      status: "failed",
      bookingExternalId: null,
      applyAttempts: 1,
      error: expect.stringMatching(new RegExp(`^conflict: .*${sharedCharge}`)),
    });
    // Neither booking's payout was touched.
    expect(await db.payout.findMany({ where: { bookingId: { in: bookingIds } }, orderBy: { id: "asc" } })).toEqual(before);

    // Stripe's retry of the same event is a duplicate of the stored one.
    expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true, duplicate: true } });
  });
});
