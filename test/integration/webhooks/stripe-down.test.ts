// Review: refund events applied while Stripe cannot be asked about the charge (its events' own
// figures are used). A refund reported failed that the recorded total never counted (its
// charge.refunded not applied yet) must not give back another refund's part.
import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { reapplyStaleDeliveries } from "@/lib/ingest/reapply-stale-deliveries";

import { HOUR, payoutOf } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { sendProcessed, sendStripeEvent, stripeDeliveryOf, appEngineHarness } from "../../support/stripe-webhook";

const h = appEngineHarness();

const send = sendProcessed;

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

describe("Stripe unreachable", () => {
  for (const first of ["refund.failed", "refund.created"] as const) {
    it(`a second refund that failed, reported (${first} first) before its charge.refunded, gives nothing of the first refund back`, async () => {
      const charge = h.fake.createCharge({ amount: 10_000, currency: "usd" });
      const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge.id });
      // A first refund of 25.00, applied with Stripe reachable: 20.00 of it is the provider's.
      h.fake.refundCharge(charge.id, { amount: 2_500 });
      await send(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
      expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 2_000, amount: 6_000 });

      // An hour later a second refund of 10.00 is made; Stripe's charge.refunded then says 35.00.
      h.clock.advance(HOUR);
      const second = h.fake.refundCharge(charge.id, { amount: 1_000, status: "pending" });
      const refunded = stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id), created: seconds(h.clock.now()) });
      const created = stripeEvent({ type: "refund.created", object: second, created: seconds(h.clock.now()) });
      // It fails a minute later.
      h.clock.advance(60_000);
      const failed = stripeEvent({
        type: "refund.failed",
        object: h.fake.setRefundStatus(second.id, "failed", "expired_or_canceled_card"),
        created: seconds(h.clock.now()),
      });

      // Stripe cannot be asked while these arrive, the failure (or the creation, then the failure) first.
      h.fake.failNext({ method: "GET", path: `/v1/charges/${charge.id}` }, { kind: "status", status: 503 }, 3);
      await send(first === "refund.created" ? created : failed);
      await send(first === "refund.created" ? failed : created);
      // charge.refunded's own figures (35.00) still count the failed refund: not used.
      expect(await sendStripeEvent(refunded)).toEqual({ status: 200, body: { received: true } });
      expect(await stripeDeliveryOf(refunded)).toMatchObject({ status: "failed", error: expect.stringMatching(/^stripe_unreachable: /) });

      // 25.00 stays refunded: the provider still bears 20.00, no more and no less.
      const stillBorne = async () => {
        expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 2_000, amount: 6_000 });
        const steps = await db.chargeRefund.findMany({ where: { bookingId }, orderBy: { sequence: "asc" } });
        expect(steps.reduce((sum, s) => sum + s.amount, 0)).toBe(2_000);
      };
      await stillBorne();

      // Once Stripe answers, the sweep applies it from Stripe's current state: nothing changes.
      h.clock.advance(15 * 60_000);
      expect(await reapplyStaleDeliveries(h.deps)).toMatchObject({ processed: 1, failed: 0 });
      expect(await stripeDeliveryOf(refunded)).toMatchObject({ status: "processed" });
      await stillBorne();
    });
  }

  it("a refund reported failed before its charge.refunded, both while Stripe is unreachable, never lowers the payout", async () => {
    const charge = h.fake.createCharge({ amount: 10_000, currency: "usd" });
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge.id });
    const refund = h.fake.refundCharge(charge.id, { amount: 2_500, status: "pending" });
    // The charge.refunded Stripe sent when the refund was made (25.00 refunded), delivered late.
    const refunded = stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id), created: seconds(h.clock.now()) });
    h.clock.advance(60_000);
    const failed = stripeEvent({
      type: "refund.failed",
      object: h.fake.setRefundStatus(refund.id, "failed", "expired_or_canceled_card"),
      created: seconds(h.clock.now()),
    });

    h.fake.failNext({ method: "GET", path: `/v1/charges/${charge.id}` }, { kind: "status", status: 503 }, 2);
    await send(failed);
    expect(await sendStripeEvent(refunded)).toEqual({ status: 200, body: { received: true } });
    expect(await stripeDeliveryOf(refunded)).toMatchObject({ status: "failed", error: expect.stringMatching(/^stripe_unreachable: /) });
    expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 0, amount: 8_000 });

    // Once Stripe answers, the sweep applies it from Stripe's current state: nothing is refunded.
    h.clock.advance(15 * 60_000);
    expect(await reapplyStaleDeliveries(h.deps)).toMatchObject({ processed: 1, failed: 0 });
    expect(await stripeDeliveryOf(refunded)).toMatchObject({ status: "processed" });
    expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 0, amount: 8_000, amountVersion: 1 });
    expect(await db.chargeRefund.count({ where: { bookingId } })).toBe(0);
  });

  it("a dispute on a charge known only by its metadata, arriving while Stripe cannot be asked, holds the payout once Stripe answers", async () => {
    // The booking platform names neither the charge nor the PaymentIntent: the charge names the booking.
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000 });
    const booking = await db.booking.findUniqueOrThrow({ where: { id: bookingId } });
    const charge = h.fake.createCharge({
      amount: 10_000,
      currency: "usd",
      metadata: { bookingId: booking.externalId },
      paymentIntent: false,
    });
    const dispute = h.fake.disputeCharge(charge.id);

    // Stripe cannot tell what the charge paid for when the dispute arrives.
    h.fake.failNext({ method: "GET", path: `/v1/charges/${charge.id}` }, { kind: "status", status: 503 }, 2);
    const created = stripeEvent({ type: "charge.dispute.created", object: dispute });
    expect(await sendStripeEvent(created)).toEqual({ status: 200, body: { received: true } });
    expect(await stripeDeliveryOf(created)).toMatchObject({ status: "deferred", error: expect.stringMatching(/^stripe_unreachable: /) });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled" });

    // Stripe answers again; the sweep runs before the payout is due.
    h.clock.advance(20 * 60_000);
    await h.run("reconcile", null);
    expect(await stripeDeliveryOf(created)).toMatchObject({ status: "processed" });
    expect(await db.dispute.findUniqueOrThrow({ where: { stripeDisputeId: dispute.id } })).toMatchObject({ bookingId, status: "open" });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "dispute_open" });
    expect(await db.alert.count({ where: { kind: "stripe_event_unmatched" } })).toBe(0);
  });
});
