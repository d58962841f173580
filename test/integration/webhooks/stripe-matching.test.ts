// Issue 9: every Stripe money event reaches its payout, or a person hears about it.
// How a Stripe dispute (charge.dispute.created holds the payout) and a refund (charge.refunded
// lowers the amount) find their booking: by the charge id, by the PaymentIntent the booking
// recorded, by the charge's metadata.bookingId, by its transfer group "booking_<id>". A dispute
// that matches nothing waits and is alerted after STRIPE_UNMATCHED_GRACE_MINUTES; one in another
// currency than its booking holds the payout for review. The Stripe objects live at the fake
// Stripe (which the webhook route's own client talks to), the events are built from them.
import { randomUUID } from "node:crypto";

import type Stripe from "stripe";
import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { redriveDelivery } from "@/lib/ingest/redrive-delivery";

import { bookingCompletedEvent, sendBookingEvent } from "../../support/booking-webhook";
import { ADMIN_ACTOR, payoutOf } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { sendStripeEvent, stripeDeliveryOf, appEngineHarness } from "../../support/stripe-webhook";

const h = appEngineHarness();

const MINUTE = 60 * 1000;
const key = () => randomUUID().slice(0, 8);

/** A charge of 100.00 at Stripe, of which 80.00 is the provider's share of the booking. */
function stripeCharge(input: { metadata?: Record<string, string>; transferGroup?: string; currency?: string } = {}): Stripe.Charge {
  return h.fake.createCharge({
    amount: 10_000,
    currency: input.currency ?? "usd",
    metadata: input.metadata ?? {},
    transferGroup: input.transferGroup ?? null,
  });
}

/** A provider whose connected account can receive payouts (as the booking platform names it). */
async function readyProvider() {
  const stripeAccountId = h.account();
  const provider = await db.provider.create({
    data: { externalId: `prov_${key()}`, name: "Pat Provider", email: `pat-${key()}@example.test`, stripeAccountId, payoutsEnabled: true },
  });
  return { providerId: provider.externalId, stripeAccountId };
}

/** Completes a booking through the booking platform's webhook; its payout. */
async function bookingByWebhook(payment: { chargeId?: string; paymentIntentId?: string }) {
  const bookingExternalId = `bk_${key()}`;
  const event = bookingCompletedEvent({ bookingId: bookingExternalId, ...(await readyProvider()), providerShare: 8_000, ...payment });
  expect(await sendBookingEvent(event)).toEqual({ status: 200, body: { received: true } });
  return db.booking.findUniqueOrThrow({ where: { externalId: bookingExternalId } });
}

const disputeCreated = (dispute: Stripe.Dispute) => stripeEvent({ type: "charge.dispute.created", object: dispute });
const chargeRefunded = (chargeId: string) => stripeEvent({ type: "charge.refunded", object: h.fake.charge(chargeId) });

/** The requests the fake Stripe got for one path since `since` (an index into requests()). */
const requestsTo = (path: string, since = 0) =>
  h.fake
    .requests()
    .slice(since)
    .filter((r) => r.method === "GET" && r.path === path);
const refundListsOf = (chargeId: string, since = 0) => requestsTo("/v1/refunds", since).filter((r) => r.query.charge === chargeId);

async function learnedAudits(bookingId: string) {
  return db.auditLog.findMany({ where: { entityType: "booking", entityId: bookingId, action: "booking.charge_learned" } });
}

/** What a dispute that reached its booking did: one open Stripe dispute, the payout held, nothing deducted. */
async function expectHeldByDispute(bookingId: string, dispute: Stripe.Dispute, event: { id: string }) {
  expect(await stripeDeliveryOf(event)).toMatchObject({ status: "processed" });
  expect(await db.dispute.findMany({ where: { bookingId } })).toMatchObject([
    { stripeDisputeId: dispute.id, stripeChargeId: String(dispute.charge), scope: "booking", status: "open", currency: "USD" },
  ]);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "dispute_open", amount: 8_000, refundedAmount: 0 });
}

/** What a refund of 25.00 of the 100.00 charge did: 80 % of it (20.00) taken from the payout, once. */
async function expectLoweredByRefund(bookingId: string, chargeId: string, event: { id: string }) {
  expect(await stripeDeliveryOf(event)).toMatchObject({ status: "processed" });
  expect(await db.chargeRefund.findMany({ where: { bookingId } })).toMatchObject([
    {
      stripeChargeId: chargeId,
      chargeAmount: 10_000,
      providerPortion: 8_000,
      customerRefundedTotal: 2_500,
      providerRefundedTotal: 2_000,
      amount: 2_000,
      cause: "refund",
    },
  ]);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", refundedAmount: 2_000, amount: 6_000 });
}

describe("a dispute reaches its booking", () => {
  it("by the charge id the booking recorded", async () => {
    const charge = stripeCharge();
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge.id });
    const dispute = h.fake.disputeCharge(charge.id);
    const event = disputeCreated(dispute);
    expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true } });
    await expectHeldByDispute(bookingId, dispute, event);
    expect(await stripeDeliveryOf(event)).toMatchObject({
      bookingExternalId: (await db.booking.findUniqueOrThrow({ where: { id: bookingId } })).externalId,
    });
    // Matched by its id: nothing to learn.
    expect(await learnedAudits(bookingId)).toHaveLength(0);
  });

  it("by the PaymentIntent the booking recorded (completeBooking); the booking then knows its charge", async () => {
    const charge = stripeCharge();
    const paymentIntentId = String(charge.payment_intent);
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripePaymentIntentId: paymentIntentId });
    expect(await db.booking.findUniqueOrThrow({ where: { id: bookingId } })).toMatchObject({
      stripeChargeId: null,
      stripePaymentIntentId: paymentIntentId,
    });

    const dispute = h.fake.disputeCharge(charge.id);
    expect(dispute.payment_intent).toBe(paymentIntentId);
    const event = disputeCreated(dispute);
    await sendStripeEvent(event);
    await expectHeldByDispute(bookingId, dispute, event);
    expect(await db.booking.findUniqueOrThrow({ where: { id: bookingId } })).toMatchObject({
      stripeChargeId: charge.id,
      stripePaymentIntentId: paymentIntentId,
    });
    expect(await learnedAudits(bookingId)).toMatchObject([
      { actorType: "webhook", actorId: "stripe", reason: expect.stringContaining(paymentIntentId) },
    ]);
  });

  it("by a PaymentIntent the booking platform sent as chargeId (pi_…)", async () => {
    const charge = stripeCharge();
    const paymentIntentId = String(charge.payment_intent);
    const booking = await bookingByWebhook({ chargeId: paymentIntentId });
    expect(booking).toMatchObject({ stripeChargeId: null, stripePaymentIntentId: paymentIntentId });

    const dispute = h.fake.disputeCharge(charge.id);
    const event = disputeCreated(dispute);
    await sendStripeEvent(event);
    // Stored under its booking already (by the PaymentIntent), then applied.
    expect(await stripeDeliveryOf(event)).toMatchObject({ bookingExternalId: booking.externalId });
    await expectHeldByDispute(booking.id, dispute, event);
    expect(await db.booking.findUniqueOrThrow({ where: { id: booking.id } })).toMatchObject({
      stripeChargeId: charge.id,
      stripePaymentIntentId: paymentIntentId,
    });
  });

  it("by the charge's metadata.bookingId: a dispute carries none, so the engine asks Stripe for the charge", async () => {
    const bookingExternalId = `bk_${key()}`;
    const charge = stripeCharge({ metadata: { bookingId: bookingExternalId } });
    const { bookingId } = await h.completeBooking({ providerReady: true, bookingExternalId, providerShare: 8_000 });
    const dispute = h.fake.disputeCharge(charge.id);
    expect(dispute).not.toHaveProperty("metadata.bookingId");
    const since = h.fake.requests().length;
    const event = disputeCreated(dispute);
    await sendStripeEvent(event);
    await expectHeldByDispute(bookingId, dispute, event);
    expect(requestsTo(`/v1/charges/${charge.id}`, since).length).toBeGreaterThanOrEqual(1);
    expect(await db.booking.findUniqueOrThrow({ where: { id: bookingId } })).toMatchObject({
      stripeChargeId: charge.id,
      stripePaymentIntentId: charge.payment_intent,
    });
    expect(await learnedAudits(bookingId)).toHaveLength(1);
  });

  it("by the charge's transfer group booking_<id>", async () => {
    const bookingExternalId = `bk_${key()}`;
    const charge = stripeCharge({ transferGroup: `booking_${bookingExternalId}` });
    const { bookingId } = await h.completeBooking({ providerReady: true, bookingExternalId, providerShare: 8_000 });
    const dispute = h.fake.disputeCharge(charge.id);
    const since = h.fake.requests().length;
    const event = disputeCreated(dispute);
    await sendStripeEvent(event);
    await expectHeldByDispute(bookingId, dispute, event);
    expect(requestsTo(`/v1/charges/${charge.id}`, since).length).toBeGreaterThanOrEqual(1);
    expect(await db.booking.findUniqueOrThrow({ where: { id: bookingId } })).toMatchObject({ stripeChargeId: charge.id });
  });
});

describe("a refund reaches its booking", () => {
  it("by the charge id the booking recorded; the charge's refunds are asked of Stripe afresh", async () => {
    const charge = stripeCharge();
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge.id });
    h.fake.refundCharge(charge.id, { amount: 2_500 });
    const since = h.fake.requests().length;
    const event = chargeRefunded(charge.id);
    expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true } });
    await expectLoweredByRefund(bookingId, charge.id, event);
    expect(refundListsOf(charge.id, since)).toHaveLength(1);
    // The same event again, and a second delivery of the same facts: nothing more is taken.
    expect((await sendStripeEvent(event)).body).toEqual({ received: true, duplicate: true });
    await sendStripeEvent(chargeRefunded(charge.id));
    await expectLoweredByRefund(bookingId, charge.id, event);
  });

  it("by the PaymentIntent the booking recorded (completeBooking); the booking then knows its charge", async () => {
    const charge = stripeCharge();
    const paymentIntentId = String(charge.payment_intent);
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripePaymentIntentId: paymentIntentId });
    h.fake.refundCharge(charge.id, { amount: 2_500 });
    const event = chargeRefunded(charge.id);
    await sendStripeEvent(event);
    await expectLoweredByRefund(bookingId, charge.id, event);
    expect(await db.booking.findUniqueOrThrow({ where: { id: bookingId } })).toMatchObject({
      stripeChargeId: charge.id,
      stripePaymentIntentId: paymentIntentId,
    });
    expect(await learnedAudits(bookingId)).toHaveLength(1);
  });

  it("by the booking platform's paymentIntentId field", async () => {
    const charge = stripeCharge();
    const paymentIntentId = String(charge.payment_intent);
    const booking = await bookingByWebhook({ paymentIntentId });
    expect(booking).toMatchObject({ stripeChargeId: null, stripePaymentIntentId: paymentIntentId });
    h.fake.refundCharge(charge.id, { amount: 2_500 });
    const event = chargeRefunded(charge.id);
    await sendStripeEvent(event);
    await expectLoweredByRefund(booking.id, charge.id, event);
    expect(await db.booking.findUniqueOrThrow({ where: { id: booking.id } })).toMatchObject({ stripeChargeId: charge.id });
  });

  it("by the charge's metadata.bookingId (the booking recorded no payment id)", async () => {
    const bookingExternalId = `bk_${key()}`;
    const charge = stripeCharge({ metadata: { bookingId: bookingExternalId } });
    const { bookingId } = await h.completeBooking({ providerReady: true, bookingExternalId, providerShare: 8_000 });
    h.fake.refundCharge(charge.id, { amount: 2_500 });
    const event = chargeRefunded(charge.id);
    await sendStripeEvent(event);
    expect(await stripeDeliveryOf(event)).toMatchObject({ bookingExternalId });
    await expectLoweredByRefund(bookingId, charge.id, event);
    expect(await db.booking.findUniqueOrThrow({ where: { id: bookingId } })).toMatchObject({
      stripeChargeId: charge.id,
      stripePaymentIntentId: charge.payment_intent,
    });
    expect(await learnedAudits(bookingId)).toHaveLength(1);
  });

  it("by the charge's transfer group booking_<id>", async () => {
    const bookingExternalId = `bk_${key()}`;
    const charge = stripeCharge({ transferGroup: `booking_${bookingExternalId}` });
    const { bookingId } = await h.completeBooking({ providerReady: true, bookingExternalId, providerShare: 8_000 });
    h.fake.refundCharge(charge.id, { amount: 2_500 });
    const event = chargeRefunded(charge.id);
    await sendStripeEvent(event);
    expect(await stripeDeliveryOf(event)).toMatchObject({ bookingExternalId });
    await expectLoweredByRefund(bookingId, charge.id, event);
    expect(await db.booking.findUniqueOrThrow({ where: { id: bookingId } })).toMatchObject({ stripeChargeId: charge.id });
  });
});

describe("a dispute that matches no booking", () => {
  it("is deferred, alerted once after the grace period, stays re-drivable, and is applied when its booking arrives", async () => {
    const charge = stripeCharge();
    const dispute = h.fake.disputeCharge(charge.id, { amount: 7_350 });
    const event = disputeCreated(dispute);
    expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true } });
    const delivery = (await stripeDeliveryOf(event))!;
    expect(delivery).toMatchObject({ status: "deferred", bookingExternalId: null, error: expect.stringContaining(charge.id) });
    expect(await db.dispute.count({ where: { stripeDisputeId: dispute.id } })).toBe(0);
    const alertsOf = () => db.alert.findMany({ where: { dedupeKey: `stripe_unmatched:${delivery.id}` } });

    // Within the grace period (15 minutes by default): nobody is told yet.
    h.clock.set(new Date(delivery.receivedAt.getTime() + 14 * MINUTE));
    await h.run("reconcile", null);
    expect(await alertsOf()).toEqual([]);
    expect(await stripeDeliveryOf(event)).toMatchObject({ status: "deferred" });

    // Past it: one critical alert with the amount, the currency and the Stripe ids.
    h.clock.set(new Date(delivery.receivedAt.getTime() + 16 * MINUTE));
    await h.run("reconcile", null);
    const alerts = await alertsOf();
    expect(alerts).toMatchObject([{ kind: "stripe_event_unmatched", severity: "critical", title: "Stripe dispute matches no booking" }]);
    expect(alerts[0]!.message).toContain("$73.50");
    expect(alerts[0]!.message).toContain(`dispute ${dispute.id}`);
    expect(alerts[0]!.message).toContain(`charge ${charge.id}`);
    expect(alerts[0]!.message).toContain(`PaymentIntent ${String(charge.payment_intent)}`);
    expect(alerts[0]!.message).toContain(event.id);

    // Still deferred; later sweeps and a re-drive do not alert again.
    h.clock.set(new Date(delivery.receivedAt.getTime() + 45 * MINUTE));
    await h.run("reconcile", null);
    const operator = await db.adminUser.create({
      data: { email: `op-${key()}@payouts.test`, name: "Oscar Operator", role: "operator", passwordHash: "x" },
    });
    const redriven = await redriveDelivery(
      { db, stripe: () => h.stripe, clock: h.clock },
      { id: delivery.id, actor: ADMIN_ACTOR(operator.id, "Oscar Operator"), reason: "checked in Stripe" },
    );
    expect(redriven.outcome).toMatchObject({ status: "deferred" });
    expect(await stripeDeliveryOf(event)).toMatchObject({ status: "deferred" });
    expect(await alertsOf()).toHaveLength(1);
    expect(await db.alert.count({ where: { kind: "stripe_event_unmatched", message: { contains: dispute.id } } })).toBe(1);

    // The booking paid with that charge arrives: the dispute is applied and holds its payout.
    const booking = await bookingByWebhook({ chargeId: charge.id });
    expect(await stripeDeliveryOf(event)).toMatchObject({ status: "processed" });
    await expectHeldByDispute(booking.id, dispute, event);
    expect(await db.dispute.findUniqueOrThrow({ where: { stripeDisputeId: dispute.id } })).toMatchObject({ bookingId: booking.id });
    expect(await alertsOf()).toHaveLength(1);
  });
});

describe("a dispute in another currency than its booking", () => {
  it("holds the payout for review and alerts; nothing else changes", async () => {
    // The booking is in USD, but the charge it names (and so its dispute) is in EUR.
    const charge = stripeCharge({ currency: "eur" });
    const { bookingId } = await h.completeBooking({
      providerReady: true,
      currency: "USD",
      providerShare: 8_000,
      stripeChargeId: charge.id,
    });
    const before = await payoutOf(bookingId);
    expect(before).toMatchObject({ status: "scheduled", amount: 8_000 });
    const dispute = h.fake.disputeCharge(charge.id, { amount: 10_000 });
    expect(dispute.currency).toBe("eur");
    const auditBefore = new Set((await db.auditLog.findMany({ select: { id: true } })).map((a) => a.id));

    const event = disputeCreated(dispute);
    expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true } });
    expect(await stripeDeliveryOf(event)).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/^needs_review: the dispute is in EUR, booking .* in USD/),
    });
    const held = await payoutOf(bookingId);
    expect(held).toMatchObject({ status: "on_hold", holdReason: "review_required", holdNote: expect.stringContaining(dispute.id) });
    // Only the hold: the amounts are untouched, no dispute recorded, nothing refunded or reversed.
    const unchanged = (p: typeof held) => ({
      amount: p.amount,
      refundedAmount: p.refundedAmount,
      tipAmount: p.tipAmount,
      reversedAmount: p.reversedAmount,
      amountVersion: p.amountVersion,
    });
    expect(unchanged(held)).toEqual(unchanged(before));
    expect(await db.dispute.count({ where: { bookingId } })).toBe(0);
    expect(await db.chargeRefund.count({ where: { bookingId } })).toBe(0);
    expect(await db.transferReversal.count({ where: { payoutId: held.id } })).toBe(0);
    const written = (await db.auditLog.findMany({ select: { id: true, action: true, entityId: true } })).filter(
      (a) => !auditBefore.has(a.id),
    );
    expect(written).toEqual([{ id: expect.any(String), action: "payout.held", entityId: held.id }]);
    const alerts = await db.alert.findMany({ where: { payoutId: held.id } });
    expect(alerts).toMatchObject([
      { kind: "stripe_dispute_unapplied", severity: "critical", dedupeKey: `stripe_dispute_unapplied:${dispute.id}` },
    ]);
    expect(alerts[0]!.message).toContain("€100.00");

    // Stripe delivering it again, or an operator re-driving it, neither alerts twice nor records it.
    expect((await sendStripeEvent(event)).body).toEqual({ received: true, duplicate: true });
    const delivery = (await stripeDeliveryOf(event))!;
    const operator = await db.adminUser.create({
      data: { email: `op-${key()}@payouts.test`, name: "Oscar Operator", role: "operator", passwordHash: "x" },
    });
    await redriveDelivery(
      { db, stripe: () => h.stripe, clock: h.clock },
      { id: delivery.id, actor: ADMIN_ACTOR(operator.id, "Oscar Operator") },
    );
    expect(await db.alert.count({ where: { payoutId: held.id } })).toBe(1);
    expect(await db.dispute.count({ where: { bookingId } })).toBe(0);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "review_required", amount: 8_000 });
  });
});
