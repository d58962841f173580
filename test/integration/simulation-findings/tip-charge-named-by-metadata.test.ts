// Found by the simulation (seeds 7, 20, 30, 38: I1; 215: I6): a booking that records no
// payment, a tip paid on its own charge that carries the booking in metadata.bookingId (as
// docs/webhooks.md asks platforms to do), and a refund or lost chargeback of that tip's charge
// arriving before the tip. The charge was taken as the booking's own (learned by its metadata),
// so the refund was priced against the provider's share: a 5.08 refund of a 15.50 tip took
// 51.22 from a 109.00 share. A charge smaller than the share cannot have paid the booking: it now
// waits for the tip that names it, and the same facts end the same in either order.
import { randomUUID } from "node:crypto";

import type Stripe from "stripe";
import { expect, it } from "vitest";

import { db } from "@/lib/db";

import { bookingCompletedEvent, sendBookingEvent } from "../../support/booking-webhook";
import { payoutOf } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { appEngineHarness, sendStripeEvent, stripeDeliveryOf } from "../../support/stripe-webhook";

const h = appEngineHarness();

async function scenario(
  order: "refund_first" | "tip_first",
  kind: "refund" | "chargeback",
  booking: "no_payment" | "intent" = "no_payment",
) {
  const bookingId = `bk_${randomUUID().slice(0, 8)}`;
  const stripeAccountId = h.account();
  const tipCharge = h.fake.createCharge({ amount: 1_550, currency: "usd", metadata: { bookingId } });
  // No chargeId or paymentIntentId: the booking records no payment (or only its own PaymentIntent).
  const bookingCharge = booking === "intent" ? h.fake.createCharge({ amount: 13_000, currency: "usd", metadata: { bookingId } }) : null;
  const completed = bookingCompletedEvent({
    bookingId,
    providerId: `prov_${randomUUID().slice(0, 8)}`,
    stripeAccountId,
    providerShare: 10_900,
    ...(bookingCharge ? { paymentIntentId: bookingCharge.payment_intent as string } : {}),
  });
  expect((await sendBookingEvent(completed)).status).toBe(200);

  let event: Stripe.Event;
  if (kind === "refund") {
    h.fake.refundCharge(tipCharge.id, { amount: 508 });
    event = stripeEvent({ type: "charge.refunded", object: h.fake.charge(tipCharge.id) });
  } else {
    const dispute = h.fake.disputeCharge(tipCharge.id, { amount: 1_550 });
    event = stripeEvent({ type: "charge.dispute.closed", object: h.fake.setDisputeStatus(dispute.id, "lost") });
  }
  const tip = {
    id: `evt_${randomUUID()}`,
    type: "tip.created",
    createdAt: h.clock.now().toISOString(),
    data: {
      tipId: `tip_${randomUUID().slice(0, 8)}`,
      bookingId,
      amount: 1_550,
      currency: "USD",
      createdAt: h.clock.now().toISOString(),
      chargeId: tipCharge.id,
    },
  };
  if (order === "refund_first") {
    expect((await sendStripeEvent(event)).status).toBe(200);
    // Not the booking's charge (15.50 cannot have paid a 109.00 share): it waits for its tip.
    expect(await stripeDeliveryOf(event)).toMatchObject({ status: "deferred" });
    expect(await payoutOf((await db.booking.findUniqueOrThrow({ where: { externalId: bookingId } })).id)).toMatchObject({
      amount: 10_900,
      refundedAmount: 0,
    });
    expect((await sendBookingEvent(tip)).status).toBe(200);
  } else {
    expect((await sendBookingEvent(tip)).status).toBe(200);
    expect((await sendStripeEvent(event)).status).toBe(200);
  }
  expect(await stripeDeliveryOf(event)).toMatchObject({ status: "processed" });
  const recorded = await db.booking.findUniqueOrThrow({ where: { externalId: bookingId } });
  expect(recorded.stripeChargeId).not.toBe(tipCharge.id);
  return payoutOf(recorded.id);
}

it("a refund of a tip's charge named only by metadata is the tip's, whichever arrives first", async () => {
  // The tip's part of a 5.08 refund of its 15.50 charge is all of it: 5.08.
  const tipFirst = await scenario("tip_first", "refund");
  expect(tipFirst).toMatchObject({ providerShare: 10_900, tipAmount: 1_550, refundedAmount: 508, amount: 11_942 });
  const refundFirst = await scenario("refund_first", "refund");
  expect(refundFirst).toMatchObject({ tipAmount: 1_550, refundedAmount: 508, amount: 11_942 });
});

it("a lost chargeback of a tip's charge named only by metadata takes the tip, not the share, whichever arrives first", async () => {
  const tipFirst = await scenario("tip_first", "chargeback");
  expect(tipFirst).toMatchObject({ tipAmount: 1_550, refundedAmount: 1_550, amount: 10_900 });
  const chargebackFirst = await scenario("refund_first", "chargeback");
  expect(chargebackFirst).toMatchObject({ tipAmount: 1_550, refundedAmount: 1_550, amount: 10_900 });
});

// Seed 215: the booking recorded its own PaymentIntent; the tip's charge (another PaymentIntent)
// was held for review when its refund came first, and applied to the tip when the tip came first.
it("the same when the booking records its own PaymentIntent: the tip's charge waits for its tip instead of a review hold", async () => {
  const tipFirst = await scenario("tip_first", "refund", "intent");
  expect(tipFirst).toMatchObject({ tipAmount: 1_550, refundedAmount: 508, amount: 11_942, holdReason: null });
  const refundFirst = await scenario("refund_first", "refund", "intent");
  expect(refundFirst).toMatchObject({ tipAmount: 1_550, refundedAmount: 508, amount: 11_942, holdReason: null });
});
