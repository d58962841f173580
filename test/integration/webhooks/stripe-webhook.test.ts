// POST /api/webhooks/stripe end to end: real signed payloads (constructEvent-valid, signed with
// generateTestHeaderString), the real database, the engine's services and its Inngest events.
import { randomUUID } from "node:crypto";

import Stripe from "stripe";
import { describe, expect, it } from "vitest";

import { POST } from "@/app/api/webhooks/stripe/route";
import { db } from "@/lib/db";
import { openDispute } from "@/lib/disputes/open-dispute";
import { resolveDispute } from "@/lib/disputes/resolve-dispute";
import { getEnv } from "@/lib/env";
import { applyDeferredFor } from "@/lib/ingest/process-delivery";
import { claimTransfer } from "@/lib/payouts/transfer-claim";
import { updateProviderAccount } from "@/lib/payouts/update-provider-account";
import { applyStripeDelivery } from "@/lib/stripe-webhooks/apply-stripe-delivery";
import { deferredStripeDeliveriesForCharges } from "@/lib/stripe-webhooks/booking-reference";
import { addTip } from "@/lib/tips/add-tip";
import { storeDelivery } from "@/lib/webhooks/store-delivery";

import { settleAfterTasks } from "../../support/after-tasks";
import { HOUR, payoutOf, type TEngineHarness, engineHarness } from "../../support/engine";

const h = engineHarness();

// ---- realistic Stripe payloads (field names and types from the stripe package) ----------

const API_VERSION = "2026-10-28.endive";
const now = () => Math.floor(Date.now() / 1000);
const stripeId = (prefix: string) => `${prefix}_${randomUUID().replaceAll("-", "").slice(0, 24)}`;

type TEventOf<T extends Stripe.Event.Type> = Extract<Stripe.Event, { type: T }>;

function stripeEvent<T extends Stripe.Event.Type>(
  type: T,
  object: unknown,
  extra: { id?: string; created?: number; account?: string; previous_attributes?: Record<string, unknown> } = {},
) {
  return {
    id: extra.id ?? stripeId("evt"),
    object: "event",
    api_version: API_VERSION,
    created: extra.created ?? now(),
    data: { object, ...(extra.previous_attributes ? { previous_attributes: extra.previous_attributes } : {}) },
    livemode: false,
    pending_webhooks: 1,
    request: { id: stripeId("req"), idempotency_key: randomUUID() },
    type,
    ...(extra.account ? { account: extra.account } : {}),
  } as unknown as TEventOf<T>;
}

type TChargeFields =
  | "id"
  | "object"
  | "amount"
  | "amount_captured"
  | "amount_refunded"
  | "balance_transaction"
  | "captured"
  | "created"
  | "currency"
  | "description"
  | "disputed"
  | "livemode"
  | "metadata"
  | "paid"
  | "payment_intent"
  | "refunded"
  | "status"
  | "transfer_group";

function charge(input: {
  id: string;
  amount: number;
  amountRefunded?: number;
  currency?: string;
  metadata?: Record<string, string>;
  transferGroup?: string | null;
}) {
  const refunded = input.amountRefunded ?? 0;
  return {
    id: input.id,
    object: "charge",
    amount: input.amount,
    amount_captured: input.amount,
    amount_refunded: refunded,
    balance_transaction: stripeId("txn"),
    captured: true,
    created: now() - 3 * 86_400,
    currency: input.currency ?? "usd",
    description: "Booking",
    disputed: false,
    livemode: false,
    metadata: input.metadata ?? {},
    paid: true,
    payment_intent: stripeId("pi"),
    refunded: refunded === input.amount,
    status: "succeeded",
    transfer_group: input.transferGroup ?? null,
  } satisfies Pick<Stripe.Charge, TChargeFields>;
}

type TDisputeFields =
  | "id"
  | "object"
  | "amount"
  | "balance_transactions"
  | "charge"
  | "created"
  | "currency"
  | "is_charge_refundable"
  | "livemode"
  | "metadata"
  | "payment_intent"
  | "reason"
  | "status";

function dispute(input: { id?: string; charge: string; amount: number; status: Stripe.Dispute.Status; currency?: string }) {
  return {
    id: input.id ?? stripeId("du"),
    object: "dispute",
    amount: input.amount,
    balance_transactions: [],
    charge: input.charge,
    created: now() - 60,
    currency: input.currency ?? "usd",
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: stripeId("pi"),
    reason: "product_not_received",
    status: input.status,
  } satisfies Pick<Stripe.Dispute, TDisputeFields>;
}

// ---- sending ---------------------------------------------------------------------------

const secret = () => getEnv().STRIPE_WEBHOOK_SECRET[0]!;

function signedRequest(payload: string, options: { secret?: string; timestamp?: number; signature?: string | null } = {}) {
  const header =
    options.signature === undefined
      ? Stripe.webhooks.generateTestHeaderString({
          payload,
          secret: options.secret ?? secret(),
          ...(options.timestamp ? { timestamp: options.timestamp } : {}),
        })
      : options.signature;
  return new Request("http://localhost/api/webhooks/stripe", {
    method: "POST",
    headers: { "content-type": "application/json; charset=utf-8", ...(header === null ? {} : { "stripe-signature": header }) },
    body: payload,
  });
}

async function send(event: { id: string }, options: Parameters<typeof signedRequest>[1] = {}) {
  const response = await POST(signedRequest(JSON.stringify(event), options), { params: Promise.resolve({}) });
  await settleAfterTasks();
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const deliveryOf = (event: { id: string }) =>
  db.webhookEvent.findUniqueOrThrow({ where: { source_externalId: { source: "stripe", externalId: event.id } } });

/** Everything the webhook may write, to show a request wrote nothing. */
async function snapshot() {
  const [deliveries, disputes, refunds, reversals, audit, outbox, alerts, payouts] = await Promise.all([
    db.webhookEvent.count(),
    db.dispute.findMany({ orderBy: { id: "asc" } }),
    db.chargeRefund.count(),
    db.transferReversal.findMany({ orderBy: { id: "asc" } }),
    db.auditLog.count(),
    db.outboxEvent.count(),
    db.alert.count(),
    db.payout.findMany({ orderBy: { id: "asc" } }),
  ]);
  return { deliveries, disputes, refunds, reversals, audit, outbox, alerts, payouts };
}

async function bookingWithCharge(providerShare = 8_000, overrides: Parameters<TEngineHarness["completeBooking"]>[0] = {}) {
  const chargeId = stripeId("ch");
  const { bookingId } = await h.completeBooking({ providerReady: true, providerShare, stripeChargeId: chargeId, ...overrides });
  const booking = await db.booking.findUniqueOrThrow({ where: { id: bookingId } });
  return { chargeId, bookingId, booking };
}

async function transferPayout(bookingId: string) {
  h.clock.advance(48 * HOUR + 1);
  const payout = await payoutOf(bookingId);
  expect(
    (await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "test" } })).result,
  ).toMatchObject({ kind: "transferred" });
  return payoutOf(bookingId);
}

// ---- tests -----------------------------------------------------------------------------

describe("signature", () => {
  it("refuses a bad, missing, tampered or stale signature with 400 and writes nothing", async () => {
    const { chargeId } = await bookingWithCharge();
    const event = stripeEvent("charge.dispute.created", dispute({ charge: chargeId, amount: 10_000, status: "needs_response" }));
    const payload = JSON.stringify(event);
    const before = await snapshot();

    const wrongSecret = await POST(signedRequest(payload, { secret: "whsec_not_the_endpoint_secret" }), { params: Promise.resolve({}) });
    expect(wrongSecret.status).toBe(400);
    expect(await wrongSecret.json()).toMatchObject({ error: { code: "invalid_signature" } });
    expect((await POST(signedRequest(payload, { signature: null }), { params: Promise.resolve({}) })).status).toBe(400);
    expect((await POST(signedRequest(payload, { signature: "t=1,v1=deadbeef" }), { params: Promise.resolve({}) })).status).toBe(400);
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: secret() });
    const tampered = payload.replace('"amount":10000', '"amount":1');
    expect((await POST(signedRequest(tampered, { signature: header }), { params: Promise.resolve({}) })).status).toBe(400);
    // Signed ten minutes ago: outside Stripe's five-minute tolerance (a replay).
    expect((await send(event, { timestamp: now() - 600 })).status).toBe(400);

    expect(await snapshot()).toEqual(before);
  });

  it("refuses a body over 512 KB with 413 before reading it all", async () => {
    const before = await db.webhookEvent.count();
    const big = JSON.stringify({ ...stripeEvent("customer.created", { id: stripeId("cus") }), padding: "x".repeat(600 * 1024) });
    const response = await POST(signedRequest(big), { params: Promise.resolve({}) });
    await settleAfterTasks();
    expect(response.status).toBe(413);
    expect(await db.webhookEvent.count()).toBe(before);
  });
});

describe("deliveries", () => {
  it("stores an event type it does not act on and answers 200 (ignored)", async () => {
    const event = stripeEvent("customer.created", { id: stripeId("cus"), object: "customer" });
    expect(await send(event)).toEqual({ status: 200, body: { received: true } });
    expect(await deliveryOf(event)).toMatchObject({ type: "customer.created", status: "ignored" });
  });

  it("a duplicate delivery of the same event id is answered 200 and changes nothing", async () => {
    const { chargeId, bookingId } = await bookingWithCharge();
    const event = stripeEvent("charge.dispute.created", dispute({ charge: chargeId, amount: 10_000, status: "needs_response" }));
    expect(await send(event)).toEqual({ status: 200, body: { received: true } });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "dispute_open" });
    const before = await snapshot();

    expect(await send(event)).toEqual({ status: 200, body: { received: true, duplicate: true } });
    // Stripe re-sends with a fresh signature: still the same event.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await send(event)).toEqual({ status: 200, body: { received: true, duplicate: true } });
    const concurrent = await Promise.all([send(event), send(event), send(event)]);
    expect(concurrent.map((r) => r.body)).toEqual([0, 1, 2].map(() => ({ received: true, duplicate: true })));
    expect(await snapshot()).toEqual(before);
  });

  it("answers 200 and keeps the failure on the delivery when applying fails", async () => {
    const { chargeId, bookingId } = await bookingWithCharge();
    // The transfer is in flight: the refund must wait until it settles.
    h.clock.advance(48 * HOUR + 1);
    expect((await claimTransfer({ ...h.ctx(), runId: "run_inflight" }, { payoutId: (await payoutOf(bookingId)).id })).kind).toBe("claimed");

    const event = stripeEvent("charge.refunded", charge({ id: chargeId, amount: 10_000, amountRefunded: 1_000 }));
    expect(await send(event)).toEqual({ status: 200, body: { received: true } });
    const delivery = await deliveryOf(event);
    expect(delivery).toMatchObject({ status: "failed", applyAttempts: 1 });
    expect(delivery.error).toMatch(/payout_busy/);
    expect(await db.chargeRefund.count({ where: { stripeChargeId: chargeId } })).toBe(0);
  });

  it("with Inngest unreachable the delivery is still applied and its events wait in the outbox for the sweep", async () => {
    const { chargeId, bookingId } = await bookingWithCharge();
    globalThis.inngestReceiver.setDown(true);
    const event = stripeEvent("charge.dispute.created", dispute({ charge: chargeId, amount: 10_000, status: "needs_response" }));
    expect((await send(event)).status).toBe(200);
    const delivery = await deliveryOf(event);
    expect(delivery.status).toBe("processed");
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold" });
    expect(await db.outboxEvent.findUniqueOrThrow({ where: { eventId: delivery.id } })).toMatchObject({
      name: "dispute/opened",
      sentAt: null,
    });

    globalThis.inngestReceiver.setDown(false);
    await h.run("reconcile", null);
    expect((await db.outboxEvent.findUniqueOrThrow({ where: { eventId: delivery.id } })).sentAt).not.toBeNull();
    expect(globalThis.inngestReceiver.events().filter((e) => e.id === delivery.id)).toHaveLength(1);
  });

  it("ignores charge events from a connected account: our charges live on the platform", async () => {
    const { chargeId, bookingId } = await bookingWithCharge();
    const event = stripeEvent("charge.refunded", charge({ id: chargeId, amount: 10_000, amountRefunded: 10_000 }), {
      account: stripeId("acct"),
    });
    expect((await send(event)).status).toBe(200);
    expect(await deliveryOf(event)).toMatchObject({ status: "ignored" });
    expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 0, amount: 8_000 });
  });
});

describe("charge.dispute.*", () => {
  it("created: opens a Stripe dispute on the booking of the charge, holds the payout, and sends dispute/opened with the delivery's id", async () => {
    const { chargeId, bookingId, booking } = await bookingWithCharge();
    const body = dispute({ charge: chargeId, amount: 10_000, status: "needs_response" });
    const event = stripeEvent("charge.dispute.created", body);
    expect(await send(event)).toEqual({ status: 200, body: { received: true } });

    expect(await db.dispute.findUniqueOrThrow({ where: { stripeDisputeId: body.id } })).toMatchObject({
      bookingId,
      externalId: null,
      scope: "booking",
      status: "open",
      currency: "USD",
      reason: "Stripe dispute: product_not_received",
    });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "dispute_open" });
    const delivery = await deliveryOf(event);
    expect(delivery).toMatchObject({ status: "processed", bookingExternalId: booking.externalId, type: "charge.dispute.created" });
    expect(delivery.payload).toEqual(JSON.parse(JSON.stringify(event)));
    const sent = globalThis.inngestReceiver.events().filter((e) => e.id === delivery.id);
    expect(sent).toMatchObject([{ name: "dispute/opened", data: { bookingId } }]);
    expect(
      await db.auditLog.findFirst({
        where: {
          action: "dispute.opened",
          actorType: "webhook",
          actorId: "stripe",
          actorLabel: "Stripe",
          requestId: `webhook:${delivery.id}`,
        },
      }),
    ).not.toBeNull();
  });

  it("updated: changes nothing until the dispute is decided; won resolves it for the provider and releases the payout", async () => {
    const { chargeId, bookingId } = await bookingWithCharge();
    const body = dispute({ charge: chargeId, amount: 10_000, status: "needs_response" });
    await send(stripeEvent("charge.dispute.created", body));
    const held = await snapshot();

    const review = stripeEvent(
      "charge.dispute.updated",
      { ...body, status: "under_review" },
      { previous_attributes: { status: "needs_response" } },
    );
    expect((await send(review)).status).toBe(200);
    expect(await deliveryOf(review)).toMatchObject({ status: "processed" });
    const afterReview = await snapshot();
    expect({ ...afterReview, deliveries: held.deliveries }).toEqual(held);

    const won = stripeEvent("charge.dispute.updated", { ...body, status: "won" }, { previous_attributes: { status: "under_review" } });
    await send(won);
    expect(await db.dispute.findUniqueOrThrow({ where: { stripeDisputeId: body.id } })).toMatchObject({
      status: "resolved",
      outcome: "provider_won",
      refundedAmount: 0,
    });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", amount: 8_000 });

    // The closed event that follows is a no-op.
    const closed = stripeEvent("charge.dispute.closed", { ...body, status: "won" });
    const beforeClosed = await snapshot();
    await send(closed);
    expect(await deliveryOf(closed)).toMatchObject({ status: "processed", error: expect.stringContaining("already resolved") });
    expect({ ...(await snapshot()), deliveries: beforeClosed.deliveries }).toEqual(beforeClosed);
  });

  it("closed lost, full chargeback: the provider bears their whole share; the payout is cancelled as fully refunded", async () => {
    const { chargeId, bookingId } = await bookingWithCharge(8_000);
    const body = dispute({ charge: chargeId, amount: 10_000, status: "needs_response" });
    await send(stripeEvent("charge.dispute.created", body));
    const closed = stripeEvent("charge.dispute.closed", { ...body, status: "lost" });
    await send(closed);
    expect(await db.dispute.findUniqueOrThrow({ where: { stripeDisputeId: body.id } })).toMatchObject({
      outcome: "customer_won",
      refundedAmount: 8_000,
    });
    // Nothing to pay; it is cancelled once no tip can join it any more (when it is due).
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", amount: 0 });
    await h.run("schedule", { name: "booking/completed", data: { bookingId } });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "cancelled", cancelReason: "fully refunded", amount: 0 });
    const delivery = await deliveryOf(closed);
    expect(globalThis.inngestReceiver.events().filter((e) => e.id === delivery.id)).toMatchObject([
      { name: "dispute/resolved", data: { refundedAmount: 8_000 } },
    ]);
  });

  it("closed lost, partial chargeback after a refund: the disputed amount, up to what the provider still has from the charge", async () => {
    const { chargeId, bookingId } = await bookingWithCharge(8_000);
    // 50.00 refunded first (provider's part 40.00), then a chargeback of the other 50.00: capped at the 40.00 left.
    await send(stripeEvent("charge.refunded", charge({ id: chargeId, amount: 10_000, amountRefunded: 5_000 })));
    const body = dispute({ charge: chargeId, amount: 5_000, status: "lost" });
    await send(stripeEvent("charge.dispute.closed", body));
    expect(await db.dispute.findUniqueOrThrow({ where: { stripeDisputeId: body.id } })).toMatchObject({
      outcome: "customer_won",
      refundedAmount: 4_000,
    });
    expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 8_000, amount: 0, status: "scheduled" });

    const other = await bookingWithCharge(8_000);
    const small = dispute({ charge: other.chargeId, amount: 3_000, status: "needs_response" });
    await send(stripeEvent("charge.dispute.created", small));
    await send(stripeEvent("charge.dispute.closed", { ...small, status: "lost" }));
    expect(await payoutOf(other.bookingId)).toMatchObject({ status: "scheduled", refundedAmount: 3_000, amount: 5_000 });
  });

  it("closed lost after the transfer: the provider's part is reversed once", async () => {
    const { chargeId, bookingId } = await bookingWithCharge(8_000);
    const payout = await transferPayout(bookingId);
    const body = dispute({ charge: chargeId, amount: 2_500, status: "needs_response" });
    await send(stripeEvent("charge.dispute.created", body));
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred" });
    await send(stripeEvent("charge.dispute.closed", { ...body, status: "lost" }));
    const stored = await db.dispute.findUniqueOrThrow({ where: { stripeDisputeId: body.id } });
    expect(stored).toMatchObject({ openedAfterTransfer: true, refundedAmount: 2_500 });
    const reversals = await db.transferReversal.findMany({ where: { payoutId: payout.id } });
    expect(reversals).toMatchObject([{ disputeId: stored.id, amount: 2_500, status: "pending" }]);
    await h.run("reverse", { name: "payout/reversal.requested", data: { reversalId: reversals[0]!.id, payoutId: payout.id } });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "partially_reversed", reversedAmount: 2_500 });
  });

  it("closed before created (any order): opened and resolved; the late created changes nothing", async () => {
    const { chargeId, bookingId } = await bookingWithCharge(8_000);
    const body = dispute({ charge: chargeId, amount: 10_000, status: "won" });
    await send(stripeEvent("charge.dispute.closed", body));
    expect(await db.dispute.findUniqueOrThrow({ where: { stripeDisputeId: body.id } })).toMatchObject({
      status: "resolved",
      outcome: "provider_won",
    });
    const before = await snapshot();
    const created = stripeEvent("charge.dispute.created", { ...body, status: "needs_response" });
    await send(created);
    expect(await deliveryOf(created)).toMatchObject({ status: "processed", error: expect.stringContaining("already recorded") });
    expect({ ...(await snapshot()), deliveries: before.deliveries }).toEqual(before);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", amount: 8_000 });
  });

  it("a Stripe dispute on a booking with an open platform dispute is its own dispute: released only when both are resolved", async () => {
    const { chargeId, bookingId } = await bookingWithCharge(8_000);
    const platform = await openDispute(h.ctx(), { bookingId, externalId: `dsp_${randomUUID()}`, openedAt: h.clock.now() });
    const body = dispute({ charge: chargeId, amount: 10_000, status: "needs_response" });
    await send(stripeEvent("charge.dispute.created", body));
    expect(await db.dispute.count({ where: { bookingId, status: "open" } })).toBe(2);

    await send(stripeEvent("charge.dispute.closed", { ...body, status: "won" }));
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "dispute_open" });
    await resolveDispute(h.ctx(), {
      disputeId: platform.dispute.id,
      outcome: "provider_won",
      refundedAmount: 0,
      resolvedAt: h.clock.now(),
    });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", amount: 8_000 });
  });

  it("a dispute on a tip's own charge has scope tip and takes only the tip", async () => {
    const { bookingId } = await bookingWithCharge(8_000);
    const tipCharge = stripeId("ch");
    await addTip(h.ctx(), {
      tipExternalId: `tip_${randomUUID()}`,
      bookingId,
      amount: 1_500,
      currency: "USD",
      tippedAt: h.clock.now(),
      stripeChargeId: tipCharge,
    });
    const body = dispute({ charge: tipCharge, amount: 1_500, status: "lost" });
    await send(stripeEvent("charge.dispute.closed", body));
    expect(await db.dispute.findUniqueOrThrow({ where: { stripeDisputeId: body.id } })).toMatchObject({
      scope: "tip",
      refundedAmount: 1_500,
    });
    expect(await payoutOf(bookingId)).toMatchObject({ tipAmount: 1_500, refundedAmount: 1_500, amount: 8_000, status: "scheduled" });
  });

  it("a dispute on a charge not known yet is deferred, and applied once its booking arrives", async () => {
    const chargeId = stripeId("ch");
    const body = dispute({ charge: chargeId, amount: 10_000, status: "needs_response" });
    const event = stripeEvent("charge.dispute.created", body);
    expect(await send(event)).toEqual({ status: 200, body: { received: true } });
    const delivery = await deliveryOf(event);
    expect(delivery).toMatchObject({ status: "deferred", bookingExternalId: null });
    expect(delivery.error).toContain(chargeId);

    const { bookingId } = await h.completeBooking({ providerReady: true, stripeChargeId: chargeId });
    // Stripe's dispute names only the charge: found by charge id once the booking names it.
    const waiting = await db.webhookEvent.findMany({ where: deferredStripeDeliveriesForCharges([chargeId]) });
    expect(waiting.map((w) => w.id)).toEqual([delivery.id]);
    // The booking's arrival re-applies what waits for it, by booking and by charge.
    const booking = await db.booking.findUniqueOrThrow({ where: { id: bookingId } });
    expect(await applyDeferredFor({ db, stripe: () => h.stripe }, booking.externalId)).toMatchObject({ applied: 1, stillDeferred: 0 });
    expect(await deliveryOf(event)).toMatchObject({ status: "processed" });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "dispute_open" });
  });

  it("refuses a dispute in another currency than its booking (failed, kept for re-drive)", async () => {
    const { chargeId } = await bookingWithCharge();
    const event = stripeEvent(
      "charge.dispute.created",
      dispute({ charge: chargeId, amount: 10_000, status: "needs_response", currency: "eur" }),
    );
    expect((await send(event)).status).toBe(200);
    expect(await deliveryOf(event)).toMatchObject({ status: "failed", error: expect.stringContaining("EUR") });
  });
});

describe("charge.refunded", () => {
  it("reduces the payout by the provider's proportional part of the refunded total, once per increase", async () => {
    const { chargeId, bookingId, booking } = await bookingWithCharge(8_000);
    const first = stripeEvent("charge.refunded", charge({ id: chargeId, amount: 10_000, amountRefunded: 2_500 }));
    expect(await send(first)).toEqual({ status: 200, body: { received: true } });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", refundedAmount: 2_000, amount: 6_000 });
    expect(await deliveryOf(first)).toMatchObject({ status: "processed", bookingExternalId: booking.externalId });

    // A second partial refund: amount_refunded is cumulative (2_500 + 1_500).
    const second = stripeEvent("charge.refunded", charge({ id: chargeId, amount: 10_000, amountRefunded: 4_000 }));
    await send(second);
    expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 3_200, amount: 4_800 });

    // A late re-delivery of the first event under its own id, and a duplicate: nothing changes.
    const before = await snapshot();
    expect((await send(first)).body).toEqual({ received: true, duplicate: true });
    const stale = stripeEvent("charge.refunded", charge({ id: chargeId, amount: 10_000, amountRefunded: 2_500 }), { created: now() - 120 });
    await send(stale);
    expect(await deliveryOf(stale)).toMatchObject({ status: "processed", error: expect.stringContaining("already recorded") });
    expect({ ...(await snapshot()), deliveries: before.deliveries }).toEqual(before);
  });

  it("after the transfer, the provider's part is recovered with a transfer reversal", async () => {
    const { chargeId, bookingId } = await bookingWithCharge(8_000);
    const payout = await transferPayout(bookingId);
    const event = stripeEvent("charge.refunded", charge({ id: chargeId, amount: 10_000, amountRefunded: 10_000 }));
    await send(event);
    const [reversal] = await db.transferReversal.findMany({ where: { payoutId: payout.id } });
    expect(reversal).toMatchObject({ amount: 8_000, status: "pending", initiatedBy: "platform", chargeRefundId: expect.any(String) });
    // The apply sends the event named by the delivery's id (charge/refunded) and, once its lane
    // is let go, the reversal request it wrote: no other run has to find it in the outbox.
    const delivery = await deliveryOf(event);
    const refunded = globalThis.inngestReceiver.events().find((e) => e.name === "charge/refunded" && e.id === delivery.id);
    expect(refunded?.data).toMatchObject({ bookingId: payout.bookingId });
    const requested = await db.outboxEvent.findUniqueOrThrow({ where: { eventId: `reversal:${reversal!.id}` } });
    expect(requested).toMatchObject({ name: "payout/reversal.requested", attempts: 1, lastError: null });
    expect(requested.sentAt).not.toBeNull();
    expect(globalThis.inngestReceiver.events().filter((e) => e.id === `reversal:${reversal!.id}`)).toHaveLength(1);
    await h.run("followUp", { name: refunded!.name, data: refunded!.data });
    expect(globalThis.inngestReceiver.events().filter((e) => e.id === `reversal:${reversal!.id}`)).toHaveLength(1);
    await h.run("reverse", { name: "payout/reversal.requested", data: { reversalId: reversal!.id, payoutId: payout.id } });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "reversed", reversedAmount: 8_000 });
  });

  it("a refund that arrives before its booking is deferred under the booking named on the charge, and applied when it arrives", async () => {
    const chargeId = stripeId("ch");
    const bookingExternalId = `bk_${randomUUID().slice(0, 8)}`;
    const event = stripeEvent(
      "charge.refunded",
      charge({ id: chargeId, amount: 10_000, amountRefunded: 5_000, metadata: { bookingId: bookingExternalId } }),
    );
    await send(event);
    expect(await deliveryOf(event)).toMatchObject({ status: "deferred", bookingExternalId });

    const { bookingId } = await h.completeBooking({
      providerReady: true,
      bookingExternalId,
      providerShare: 8_000,
      stripeChargeId: chargeId,
    });
    await applyDeferredFor({ db, stripe: () => h.stripe }, bookingExternalId);
    expect(await deliveryOf(event)).toMatchObject({ status: "processed" });
    expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 4_000, amount: 4_000 });
  });
});

describe("transfer.reversed", () => {
  async function reversedEvent(transferId: string, options: { created?: number } = {}) {
    const transfer = await h.stripe.transfers.retrieve(transferId);
    return stripeEvent("transfer.reversed", transfer, options);
  }

  it("records a reversal made outside the payout system, moves the payout, and alerts", async () => {
    const { bookingId } = await bookingWithCharge(8_000);
    const payout = await transferPayout(bookingId);
    // Someone reverses part of the transfer in the Stripe dashboard.
    const external = await h.stripe.transfers.createReversal(payout.stripeTransferId!, { amount: 3_000 });
    const event = await reversedEvent(payout.stripeTransferId!);
    expect(await send(event)).toEqual({ status: 200, body: { received: true } });

    expect(await db.transferReversal.findMany({ where: { payoutId: payout.id } })).toMatchObject([
      { stripeReversalId: external.id, amount: 3_000, currency: "USD", status: "succeeded", initiatedBy: "stripe", disputeId: null },
    ]);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "partially_reversed", reversedAmount: 3_000, amount: 8_000 });
    // (The charge these tests name lives only in their events, not at the fake Stripe: the engine warns about it.)
    expect(await db.alert.findMany({ where: { payoutId: payout.id, kind: { not: "charge_unknown_to_stripe" } } })).toMatchObject([
      { kind: "external_reversal", severity: "critical" },
    ]);
    // Amounts in the alert read as money, not minor units ("$30.00", never "3000 USD").
    const [alert] = await db.alert.findMany({ where: { payoutId: payout.id, kind: "external_reversal" } });
    expect(alert!.message).toMatch(/^\$30\.00 of transfer /);
    expect(alert!.message).toContain("The payout now shows $30.00 of $80.00 taken back.");
    expect(alert!.message).not.toMatch(/\b3000\b|\b8000\b/);
    expect(
      await db.auditLog.findFirst({ where: { entityId: payout.id, action: "payout.reversed_externally", actorId: "stripe" } }),
    ).not.toBeNull();

    // The rest, later: the payout is fully reversed; the first one is not counted again.
    await h.stripe.transfers.createReversal(payout.stripeTransferId!, { amount: 5_000 });
    await send(await reversedEvent(payout.stripeTransferId!));
    expect(await payoutOf(bookingId)).toMatchObject({ status: "reversed", reversedAmount: 8_000 });
    expect(await db.transferReversal.count({ where: { payoutId: payout.id } })).toBe(2);
    expect(await db.alert.count({ where: { payoutId: payout.id, kind: "external_reversal" } })).toBe(2);
  });

  it("a reversal the payout system made is already recorded: nothing changes, no alert", async () => {
    const { chargeId, bookingId } = await bookingWithCharge(8_000);
    const payout = await transferPayout(bookingId);
    const body = dispute({ charge: chargeId, amount: 2_000, status: "lost" });
    await send(stripeEvent("charge.dispute.closed", body));
    const [ours] = await db.transferReversal.findMany({ where: { payoutId: payout.id } });
    await h.run("reverse", { name: "payout/reversal.requested", data: { reversalId: ours!.id, payoutId: payout.id } });
    const before = await snapshot();

    const event = await reversedEvent(payout.stripeTransferId!);
    await send(event);
    expect(await deliveryOf(event)).toMatchObject({ status: "processed", error: expect.stringContaining("already recorded") });
    expect({ ...(await snapshot()), deliveries: before.deliveries }).toEqual(before);
  });

  it("confirms a reversal we requested whose answer was never recorded, without an alert", async () => {
    const { chargeId, bookingId } = await bookingWithCharge(8_000);
    const payout = await transferPayout(bookingId);
    await send(stripeEvent("charge.refunded", charge({ id: chargeId, amount: 10_000, amountRefunded: 5_000 })));
    const [pending] = await db.transferReversal.findMany({ where: { payoutId: payout.id } });
    expect(pending).toMatchObject({ status: "pending", amount: 4_000 });
    // Stripe made it, then the run died before recording the answer.
    const made = await h.stripe.transfers.createReversal(payout.stripeTransferId!, {
      amount: 4_000,
      metadata: { payoutId: payout.id, reversalId: pending!.id },
    });

    await send(await reversedEvent(payout.stripeTransferId!));
    expect(await db.transferReversal.findMany({ where: { payoutId: payout.id } })).toMatchObject([
      { id: pending!.id, status: "succeeded", stripeReversalId: made.id, initiatedBy: "platform" },
    ]);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "partially_reversed", reversedAmount: 4_000 });
    expect(await db.alert.count({ where: { payoutId: payout.id, kind: { not: "charge_unknown_to_stripe" } } })).toBe(0);
    // The reversal run that retries now finds it done.
    expect(
      (await h.run("reverse", { name: "payout/reversal.requested", data: { reversalId: pending!.id, payoutId: payout.id } })).result,
    ).toMatchObject({ kind: "already_done" });
    expect(h.fake.reversals().filter((r) => r.transfer === payout.stripeTransferId)).toHaveLength(1);
  });

  it("lists the rest of the reversals from Stripe when the event's list is truncated", async () => {
    const { bookingId } = await bookingWithCharge(8_000);
    const payout = await transferPayout(bookingId);
    for (const amount of [1_000, 1_500, 2_000]) await h.stripe.transfers.createReversal(payout.stripeTransferId!, { amount });
    const transfer = await h.stripe.transfers.retrieve(payout.stripeTransferId!);
    const truncated = stripeEvent("transfer.reversed", {
      ...transfer,
      reversals: { ...transfer.reversals, data: transfer.reversals.data.slice(0, 1), has_more: true },
    });
    const { delivery } = await storeDelivery(db, {
      source: "stripe",
      externalId: truncated.id,
      type: truncated.type,
      payload: JSON.parse(JSON.stringify(truncated)) as object,
    });
    expect(await applyStripeDelivery({ db, stripe: () => h.stripe, clock: h.clock }, delivery)).toMatchObject({ status: "processed" });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "partially_reversed", reversedAmount: 4_500 });
    expect(await db.transferReversal.count({ where: { payoutId: payout.id, initiatedBy: "stripe" } })).toBe(3);
  });

  it("a transfer that is not a payout of ours is ignored", async () => {
    const destination = h.account();
    const other = await h.stripe.transfers.create({ amount: 500, currency: "usd", destination });
    await h.stripe.transfers.createReversal(other.id, { amount: 500 });
    const event = await reversedEvent(other.id);
    const before = await snapshot();
    await send(event);
    expect(await deliveryOf(event)).toMatchObject({ status: "ignored" });
    expect({ ...(await snapshot()), deliveries: before.deliveries }).toEqual(before);
  });
});

describe("account.updated", () => {
  it("payouts disabled holds the provider's scheduled payouts; enabled again releases them", async () => {
    const accountId = h.account();
    const { bookingId } = await h.completeBooking({ providerReady: true, stripeAccountId: accountId });

    h.account({ id: accountId, payoutsEnabled: false, transfersCapability: "inactive" });
    const disabled = stripeEvent("account.updated", await h.stripe.accounts.retrieve(accountId), {
      account: accountId,
      previous_attributes: { payouts_enabled: true },
    });
    expect((await send(disabled)).status).toBe(200);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "provider_account_not_ready" });
    expect(await db.provider.findUniqueOrThrow({ where: { stripeAccountId: accountId } })).toMatchObject({ payoutsEnabled: false });

    h.account({ id: accountId, payoutsEnabled: true, transfersCapability: "active" });
    const enabled = stripeEvent("account.updated", await h.stripe.accounts.retrieve(accountId), {
      account: accountId,
      previous_attributes: { payouts_enabled: false },
    });
    await send(enabled);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", holdReason: null });
    expect(await deliveryOf(enabled)).toMatchObject({ status: "processed" });
  });

  it("payouts enabled without an active transfers capability is not ready", async () => {
    const accountId = h.account();
    const { bookingId } = await h.completeBooking({ providerReady: true, stripeAccountId: accountId });
    h.account({ id: accountId, payoutsEnabled: true, transfersCapability: "pending" });
    await send(stripeEvent("account.updated", await h.stripe.accounts.retrieve(accountId), { account: accountId }));
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "provider_account_not_ready" });
    // Held for the account, and also released by the engine's own look-up path: same service.
    await updateProviderAccount(h.ctx(), {
      stripeAccountId: accountId,
      payoutsEnabled: true,
      transfersActive: true,
      stateAt: new Date(h.clock.now().getTime() + 1000),
    });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled" });
  });

  it("an account no provider has yet is kept for the provider recorded with it", async () => {
    const accountId = h.account();
    const event = stripeEvent("account.updated", await h.stripe.accounts.retrieve(accountId), { account: accountId });
    await send(event);
    expect(await deliveryOf(event)).toMatchObject({ status: "processed" });
    expect(await db.stripeAccount.findUniqueOrThrow({ where: { id: accountId } })).toMatchObject({
      payoutsEnabled: true,
      transfersActive: true,
    });
    // (Applied when the provider arrives: engine-account-order.test.ts.)
  });
});
