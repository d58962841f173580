// The reconciliation sweep over stored deliveries (lib/webhooks/reapply-stale-deliveries.ts) is
// what catches a lost wake-up: a delivery deferred for a booking that has arrived since is
// re-applied, whether it names the booking or, as Stripe's disputes do, only a charge the booking
// or one of its tips was paid with. Deliveries that may wait forever (a dispute on a charge that
// is no booking's) never crowd out those that can go through. A delivery's request never fails
// because re-applying what waited for it failed: that is left to the sweep. And a failure that
// only waits for a payout's transfer to settle is re-applied until it goes through, beyond the
// attempts that bound other failures.
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { POST as postBooking } from "@/app/api/webhooks/booking/route";
import { resolveContext } from "@/lib/context";
import { db } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { reapplyStaleDeliveries } from "@/lib/ingest/reapply-stale-deliveries";
import { cancelPayout } from "@/lib/payouts/cancel-payout";
import { settleProcessingPayout } from "@/lib/payouts/settle-processing-payout";
import { claimTransfer } from "@/lib/payouts/transfer-claim";
import { markFailed } from "@/lib/payouts/transfer-complete";
import { addTip } from "@/lib/tips/add-tip";
import { signBookingWebhook } from "@/lib/webhooks/booking-signature";

import { settleAfterTasks } from "../../support/after-tasks";
import { ADMIN_ACTOR, HOUR, payoutOf, engineHarness } from "../../support/engine";
import { sendStripeEvent, stripeId } from "../../support/stripe-webhook";

const h = engineHarness();

const now = () => Math.floor(Date.now() / 1000);
/** When the sweep runs: late enough that every delivery of the test counts as left behind. */
const sweepTime = () => new Date(Date.now() + 10 * 60 * 1000);
const sweep = (options: { limit?: number } = {}) =>
  reapplyStaleDeliveries({ db, stripe: () => h.stripe, clock: h.clock }, { now: sweepTime(), ...options });

function stripeEvent(type: string, object: unknown) {
  return {
    id: stripeId("evt"),
    object: "event",
    api_version: "2026-10-28.endive",
    created: now(),
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: stripeId("req"), idempotency_key: randomUUID() },
    type,
  };
}

function disputeCreated(chargeId: string) {
  return stripeEvent("charge.dispute.created", {
    id: stripeId("du"),
    object: "dispute",
    amount: 10_000,
    charge: chargeId,
    created: now() - 60,
    currency: "usd",
    reason: "fraudulent",
    status: "needs_response",
  });
}

async function sendBooking(body: { id: string }) {
  const raw = JSON.stringify(body);
  const response = await postBooking(
    new Request("http://localhost/api/webhooks/booking", {
      method: "POST",
      headers: { "content-type": "application/json", "payouts-signature": signBookingWebhook(raw, getEnv().BOOKING_WEBHOOK_SECRETS[0]!) },
      body: raw,
    }),
    undefined,
  );
  await settleAfterTasks();
  return response.status;
}

function tipCreated(bookingExternalId: string, amount = 1_500) {
  const at = new Date(Date.now() - HOUR / 2).toISOString();
  return {
    id: stripeId("evt"),
    type: "tip.created",
    createdAt: at,
    data: { tipId: stripeId("tip"), bookingId: bookingExternalId, amount, currency: "USD", createdAt: at },
  };
}

function bookingCompleted(bookingExternalId: string, stripeAccountId: string) {
  const at = new Date(Date.now() - HOUR).toISOString();
  return {
    id: stripeId("evt"),
    type: "booking.completed",
    createdAt: at,
    data: {
      bookingId: bookingExternalId,
      completedAt: at,
      currency: "USD",
      providerShare: 8_000,
      provider: { id: `prov_${bookingExternalId}`, name: "Sweep Provider", email: `${bookingExternalId}@example.test`, stripeAccountId },
    },
  };
}

const stripeDelivery = (event: { id: string }) =>
  db.webhookEvent.findUniqueOrThrow({ where: { source_externalId: { source: "stripe", externalId: event.id } } });
const bookingDelivery = (event: { id: string }) =>
  db.webhookEvent.findUniqueOrThrow({ where: { source_externalId: { source: "booking_platform", externalId: event.id } } });

describe("deferred deliveries whose booking has arrived", () => {
  it("re-applies a deferred refund that names its booking, after a lost wake-up", async () => {
    const chargeId = stripeId("ch");
    const bookingExternalId = `bk_${randomUUID().slice(0, 8)}`;
    const refunded = stripeEvent("charge.refunded", {
      id: chargeId,
      object: "charge",
      amount: 10_000,
      amount_captured: 10_000,
      amount_refunded: 5_000,
      captured: true,
      currency: "usd",
      metadata: { bookingId: bookingExternalId },
      paid: true,
      refunded: false,
      status: "succeeded",
      transfer_group: null,
    });
    expect((await sendStripeEvent(refunded)).status).toBe(200);
    expect(await stripeDelivery(refunded)).toMatchObject({ status: "deferred", bookingExternalId });

    // Recorded through the service, which does not run the wake-up: as if the process died
    // between committing the booking and re-applying what waited for it.
    const { bookingId } = await h.completeBooking({
      providerReady: true,
      bookingExternalId,
      providerShare: 8_000,
      stripeChargeId: chargeId,
    });
    await sweep();

    expect(await stripeDelivery(refunded)).toMatchObject({ status: "processed" });
    expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 4_000 });
  });

  it("re-applies a deferred dispute that names only the booking's charge, after a lost wake-up", async () => {
    const chargeId = stripeId("ch");
    const created = disputeCreated(chargeId);
    expect((await sendStripeEvent(created)).status).toBe(200);
    expect(await stripeDelivery(created)).toMatchObject({ status: "deferred", bookingExternalId: null });

    const { bookingId } = await h.completeBooking({ providerReady: true, stripeChargeId: chargeId });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled" });
    await sweep();

    expect(await stripeDelivery(created)).toMatchObject({ status: "processed" });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "dispute_open" });
  });

  it("re-applies a deferred dispute that names only the charge a tip was paid with, after a lost wake-up", async () => {
    const tipCharge = stripeId("ch");
    const created = disputeCreated(tipCharge);
    expect((await sendStripeEvent(created)).status).toBe(200);
    expect(await stripeDelivery(created)).toMatchObject({ status: "deferred", bookingExternalId: null });

    const { bookingId } = await h.completeBooking({ providerReady: true, stripeChargeId: stripeId("ch") });
    await addTip(h.ctx(), {
      tipExternalId: `tip_${randomUUID()}`,
      bookingId,
      amount: 1_500,
      currency: "USD",
      tippedAt: h.clock.now(),
      stripeChargeId: tipCharge,
    });
    await sweep();

    expect(await stripeDelivery(created)).toMatchObject({ status: "processed" });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "dispute_open" });
  });

  it("deliveries that are still waiting (their booking or charge unknown) do not crowd out one that can go through", async () => {
    // Older than the one that can go through, and more of them than the sweep takes at once.
    const stuck = [disputeCreated(stripeId("ch")), disputeCreated(stripeId("ch"))];
    for (const event of stuck) expect((await sendStripeEvent(event)).status).toBe(200);
    const stuckTips = [tipCreated(`bk_${randomUUID().slice(0, 8)}`), tipCreated(`bk_${randomUUID().slice(0, 8)}`)];
    for (const event of stuckTips) expect(await sendBooking(event)).toBe(200);

    const chargeId = stripeId("ch");
    const created = disputeCreated(chargeId);
    expect((await sendStripeEvent(created)).status).toBe(200);
    const { bookingId } = await h.completeBooking({ providerReady: true, stripeChargeId: chargeId });

    const result = await sweep({ limit: 2 });

    expect(result.unblocked).toBe(1);
    expect(await stripeDelivery(created)).toMatchObject({ status: "processed" });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "dispute_open" });
    // The ones still waiting were not re-applied (nor counted as attempts).
    for (const event of stuck) expect(await stripeDelivery(event)).toMatchObject({ status: "deferred", applyAttempts: 1 });
    for (const event of stuckTips) expect(await bookingDelivery(event)).toMatchObject({ status: "deferred", applyAttempts: 1 });
  });

  it("a refund whose charge names the booking but is not the booking's: held for review once the booking arrives, re-tried a bounded number of times", async () => {
    // A refund of a charge that names the booking in its metadata, while the booking was paid
    // with another charge and no tip names this one: which part of the booking it refunds
    // cannot be told.
    const bookingExternalId = `bk_${randomUUID().slice(0, 8)}`;
    const refunded = stripeEvent("charge.refunded", {
      id: stripeId("ch"),
      object: "charge",
      amount: 10_000,
      amount_captured: 10_000,
      amount_refunded: 5_000,
      captured: true,
      currency: "usd",
      metadata: { bookingId: bookingExternalId },
      paid: true,
      refunded: false,
      status: "succeeded",
      transfer_group: null,
    });
    expect((await sendStripeEvent(refunded)).status).toBe(200);
    expect(await stripeDelivery(refunded)).toMatchObject({ status: "deferred" });
    const { bookingId } = await h.completeBooking({ providerReady: true, bookingExternalId, stripeChargeId: stripeId("ch") });

    for (let i = 0; i < 12; i++) await sweep();
    const delivery = await stripeDelivery(refunded);
    expect(delivery).toMatchObject({ status: "failed", applyAttempts: 5 });
    expect(delivery?.error).toMatch(/^needs_review: charge ch_\w+ names booking/);
    const payout = await db.payout.findUniqueOrThrow({ where: { bookingId } });
    expect(payout).toMatchObject({ status: "on_hold", holdReason: "review_required", refundedAmount: 0 });
    expect(await db.alert.findMany({ where: { payoutId: payout.id } })).toMatchObject([
      { kind: "stripe_refund_unapplied", severity: "critical" },
    ]);
  });
});

describe("re-applying what waited for a delivery fails", () => {
  it("the delivery is still answered 200 and recorded; the sweep re-applies what waited for it", async () => {
    const bookingExternalId = `bk_${randomUUID().slice(0, 8)}`;
    const tip = tipCreated(bookingExternalId);
    expect(await sendBooking(tip)).toBe(200);
    const waiting = await bookingDelivery(tip);
    expect(waiting).toMatchObject({ status: "deferred" });

    // The database refuses to record the tip delivery's next outcome: re-applying it, once
    // its booking arrives, fails after the booking's own delivery was recorded.
    await db.$executeRawUnsafe(`
      CREATE FUNCTION refuse_waiting_delivery() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused for the test'; END $$`);
    await db.$executeRawUnsafe(`
      CREATE TRIGGER refuse_waiting_delivery BEFORE UPDATE ON "WebhookEvent"
      FOR EACH ROW WHEN (OLD.id = '${waiting.id}') EXECUTE FUNCTION refuse_waiting_delivery()`);
    const completed = bookingCompleted(bookingExternalId, h.account());
    try {
      expect(await sendBooking(completed)).toBe(200);
    } finally {
      await db.$executeRawUnsafe(`DROP TRIGGER refuse_waiting_delivery ON "WebhookEvent"`);
      await db.$executeRawUnsafe(`DROP FUNCTION refuse_waiting_delivery()`);
    }
    expect(await bookingDelivery(completed)).toMatchObject({ status: "processed" });
    expect(await bookingDelivery(tip)).toMatchObject({ status: "deferred" });

    await sweep();
    expect(await bookingDelivery(tip)).toMatchObject({ status: "processed" });
    const booking = await db.booking.findUniqueOrThrow({ where: { externalId: bookingExternalId } });
    expect(await payoutOf(booking.id)).toMatchObject({ tipAmount: 1_500, amount: 9_500 });
  });
});

describe("failures that wait for a payout's transfer to settle", () => {
  /**
   * A payout claimed for its transfer whose outcome we never recorded (the answer was lost),
   * while at Stripe the transfer was made and then partly reversed by someone else; and
   * Stripe's transfer.reversed for it, delivered.
   */
  async function reversalBeforeTheTransferIsRecorded() {
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000 });
    h.clock.advance(48 * HOUR + 1);
    const payout = await payoutOf(bookingId);
    const booking = await db.booking.findUniqueOrThrow({ where: { id: bookingId }, include: { provider: true } });
    expect((await claimTransfer({ ...h.ctx(), runId: "run_lost" }, { payoutId: payout.id })).kind).toBe("claimed");
    const transfer = await h.stripe.transfers.create({
      amount: 8_000,
      currency: "usd",
      destination: booking.provider.stripeAccountId!,
      transfer_group: `booking_${booking.externalId}`,
      metadata: { payoutId: payout.id },
    });
    await h.stripe.transfers.createReversal(transfer.id, { amount: 3_000 });
    const event = stripeEvent("transfer.reversed", await h.stripe.transfers.retrieve(transfer.id));
    expect((await sendStripeEvent(event)).status).toBe(200);
    return { bookingId, payoutId: payout.id, transfer, event };
  }

  /** Sweeps 15 minutes apart, as the reconciliation cron runs. */
  async function sweepsEveryQuarterHour(count: number, from = 1) {
    for (let i = from; i < from + count; i++) {
      await reapplyStaleDeliveries({ db, stripe: () => h.stripe, clock: h.clock }, { now: new Date(Date.now() + i * 15 * 60 * 1000) });
    }
  }

  it("a transfer.reversed that arrives before its payout recorded the transfer is re-applied until it has, then recorded", async () => {
    const { bookingId, payoutId, transfer, event } = await reversalBeforeTheTransferIsRecorded();
    expect(await stripeDelivery(event)).toMatchObject({ status: "failed", error: expect.stringMatching(/^transfer_not_recorded: /) });

    // More sweeps than the attempts that bound other failures, while the transfer's outcome is unknown.
    await sweepsEveryQuarterHour(6);
    expect(await stripeDelivery(event)).toMatchObject({
      status: "failed",
      applyAttempts: 7,
      error: expect.stringMatching(/^transfer_not_recorded: /),
    });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "processing" });

    // The sweep settles the stuck payout against Stripe: the transfer is found and recorded.
    expect(await settleProcessingPayout(h.ctx(), h.stripe, { payoutId, staleBefore: new Date(h.clock.now().getTime() + 2 * HOUR) })).toBe(
      "transferred",
    );
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", stripeTransferId: transfer.id });

    // The next sweep applies the waiting transfer.reversed: the reversal made at Stripe is recorded.
    await sweepsEveryQuarterHour(1, 7);
    expect(await stripeDelivery(event)).toMatchObject({ status: "processed" });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "partially_reversed", reversedAmount: 3_000 });
  });

  it("one whose payout was cancelled without recording the transfer is an ordinary failure, left for an operator after the attempts", async () => {
    const { payoutId, transfer, event } = await reversalBeforeTheTransferIsRecorded();
    // The run recorded a failure, and an admin cancelled the payout: nothing will record the transfer now.
    await db.$transaction(async (tx) => {
      const payout = await tx.payout.findUniqueOrThrow({ where: { id: payoutId } });
      await markFailed(tx, resolveContext(h.ctx()), payout, "test: the transfer failed", 1);
    });
    await cancelPayout(h.ctx(ADMIN_ACTOR(randomUUID())), { payoutId, reason: "cancelled after the transfer failed" });

    await sweepsEveryQuarterHour(6);
    expect(await stripeDelivery(event)).toMatchObject({
      status: "failed",
      applyAttempts: 5,
      error: expect.stringContaining(`payout ${payoutId} is cancelled, yet Stripe reports reversals of transfer ${transfer.id}`),
    });
  });

  it("one whose payout is left failed (nothing will record the transfer) is an ordinary failure too", async () => {
    const { payoutId, transfer, event } = await reversalBeforeTheTransferIsRecorded();
    await db.$transaction(async (tx) => {
      const payout = await tx.payout.findUniqueOrThrow({ where: { id: payoutId } });
      await markFailed(tx, resolveContext(h.ctx()), payout, "test: the transfer failed", 1);
    });

    await sweepsEveryQuarterHour(6);
    expect(await stripeDelivery(event)).toMatchObject({
      status: "failed",
      applyAttempts: 5,
      error: expect.stringContaining(`payout ${payoutId} is failed, yet Stripe reports reversals of transfer ${transfer.id}`),
    });
  });
});
