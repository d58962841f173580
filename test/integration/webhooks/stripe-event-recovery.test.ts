// Issue 9: a Stripe event that was never delivered is recovered from Stripe's events API by the
// reconciliation sweep, through the same path as a webhook (stored by its id, then applied), on
// the platform and on the providers' connected accounts; the same event arriving by webhook
// later is a duplicate. An event rendered in an API version Payouts does not read is stored with
// its version, and one warning alert is raised per version.
import type Stripe from "stripe";
import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";

import { HOUR, payoutOf, transferEvent } from "../../support/engine";
import { PINNED_STRIPE_API_VERSION, stripeEvent } from "../../support/stripe-fixtures";
import { sendStripeEvent, stripeDeliveryOf, appEngineHarness } from "../../support/stripe-webhook";

const h = appEngineHarness();

type TRecovery = { walks: number; seen: number; recovered: number; errors: string[] };

async function reconcile(): Promise<TRecovery> {
  const run = await h.run("reconcile", null);
  return (run.result as { recovered: TRecovery }).recovered;
}

/** Everything applying a booking's events may write, to show a second arrival wrote nothing. */
async function bookingState(bookingId: string, event: { id: string }) {
  const payout = await payoutOf(bookingId);
  const [deliveries, disputes, audit, outbox] = await Promise.all([
    db.webhookEvent.findMany({ where: { source: "stripe", externalId: event.id } }),
    db.dispute.findMany({ where: { bookingId }, orderBy: { id: "asc" } }),
    db.auditLog.findMany({ where: { entityId: { in: [bookingId, payout.id] } }, orderBy: { id: "asc" } }),
    db.outboxEvent.count(),
  ]);
  return { payout, deliveries, disputes, audit, outbox };
}

describe("an event never delivered", () => {
  it("a dispute on the platform is recovered by the sweep and holds the payout; the late webhook is a duplicate", async () => {
    const charge = h.fake.createCharge({ amount: 10_000, currency: "usd" });
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge.id });
    const booking = await db.booking.findUniqueOrThrow({ where: { id: bookingId } });
    const dispute = h.fake.disputeCharge(charge.id);
    // Stripe created the event, but its webhook never reached us.
    const event = stripeEvent({ type: "charge.dispute.created", object: dispute });
    h.fake.addEvent(event);
    expect(await stripeDeliveryOf(event)).toBeNull();

    const recovery = await reconcile();
    expect(recovery).toMatchObject({ recovered: 1, errors: [] });
    const delivery = await stripeDeliveryOf(event);
    expect(delivery).toMatchObject({
      status: "processed",
      type: "charge.dispute.created",
      apiVersion: PINNED_STRIPE_API_VERSION,
      account: null,
      eventCreatedAt: new Date(event.created * 1000),
      bookingExternalId: booking.externalId,
    });
    expect(delivery!.payload).toMatchObject(JSON.parse(JSON.stringify(event)) as object);
    expect(await db.dispute.findMany({ where: { bookingId } })).toMatchObject([{ stripeDisputeId: dispute.id, status: "open" }]);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "dispute_open", amount: 8_000 });
    // Its Inngest event went out with the delivery's id, as a webhook's would.
    expect(globalThis.inngestReceiver.events().filter((e) => e.id === delivery!.id)).toMatchObject([
      { name: "dispute/opened", data: { bookingId } },
    ]);
    const recovered = await bookingState(bookingId, event);

    // The webhook arrives after all (Stripe's retries): a duplicate, nothing changes.
    expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true, duplicate: true } });
    expect(await bookingState(bookingId, event)).toEqual(recovered);
    // Nor does the next sweep see anything new.
    expect(await reconcile()).toMatchObject({ recovered: 0, errors: [] });
    expect(await bookingState(bookingId, event)).toEqual(recovered);
    expect(await db.auditLog.count({ where: { entityId: recovered.payout.id, action: "payout.held" } })).toBe(1);
    expect(await db.auditLog.count({ where: { action: "dispute.opened", requestId: `webhook:${recovered.deliveries[0]!.id}` } })).toBe(1);
  });

  it("an event that did arrive by webhook is skipped by the sweep", async () => {
    const charge = h.fake.createCharge({ amount: 10_000, currency: "usd" });
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge.id });
    h.fake.refundCharge(charge.id, { amount: 5_000 });
    const event = stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) });
    expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true } });
    h.fake.addEvent(event);
    const before = await bookingState(bookingId, event);
    expect(before.payout).toMatchObject({ refundedAmount: 4_000, amount: 4_000 });

    expect(await reconcile()).toMatchObject({ recovered: 0, errors: [] });
    expect(await bookingState(bookingId, event)).toEqual(before);
    expect(await db.chargeRefund.count({ where: { bookingId } })).toBe(1);
  });

  it("a connected account's account.updated is recovered by the account walk", async () => {
    const accountId = h.account();
    const { bookingId } = await h.completeBooking({ providerReady: true, stripeAccountId: accountId });
    h.account({ id: accountId, payoutsEnabled: false, transfersCapability: "inactive" });
    const event = stripeEvent({ type: "account.updated", object: await h.stripe.accounts.retrieve(accountId), account: accountId });
    h.fake.addEvent(event);
    const since = h.fake.requests().length;

    expect(await reconcile()).toMatchObject({ recovered: 1, errors: [] });
    // Found by listing the account's own events.
    expect(
      h.fake
        .requests()
        .slice(since)
        .filter((r) => r.path === "/v1/events" && r.account === accountId && r.status === 200).length,
    ).toBeGreaterThanOrEqual(1);
    const delivery = (await stripeDeliveryOf(event))!;
    expect(delivery).toMatchObject({ status: "processed", type: "account.updated", account: accountId });
    expect(await db.provider.findUniqueOrThrow({ where: { stripeAccountId: accountId } })).toMatchObject({ payoutsEnabled: false });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "provider_account_not_ready" });
    // Applied by the recovered event, not by some other look-up.
    const provider = await db.provider.findUniqueOrThrow({ where: { stripeAccountId: accountId } });
    expect(await db.auditLog.findMany({ where: { entityId: provider.id, action: "provider.account_not_ready" } })).toMatchObject([
      { actorId: "stripe", requestId: `webhook:${delivery.id}` },
    ]);

    expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true, duplicate: true } });
    expect(await db.webhookEvent.count({ where: { externalId: event.id } })).toBe(1);
  });

  it("a connected account's payout.failed is recovered by the account walk and alerts", async () => {
    const accountId = h.account();
    const { bookingId } = await h.completeBooking({ providerReady: true, stripeAccountId: accountId });
    h.clock.advance(48 * HOUR + 1);
    const payout = await payoutOf(bookingId);
    expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });
    // Stripe paid the transfer out to the provider's bank, and the bank refused it.
    const bankPayout: Stripe.Payout = h.fake.payoutAccount(accountId, { status: "failed", failureCode: "account_closed" });
    expect(bankPayout).toMatchObject({ amount: 8_000, status: "failed" });
    const event = stripeEvent({ type: "payout.failed", object: bankPayout, account: accountId });
    h.fake.addEvent(event);

    expect(await reconcile()).toMatchObject({ recovered: 1, errors: [] });
    expect(await stripeDeliveryOf(event)).toMatchObject({ status: "processed", type: "payout.failed", account: accountId });
    const recorded = await db.providerBankPayout.findUniqueOrThrow({ where: { stripePayoutId: bankPayout.id } });
    expect(recorded).toMatchObject({ status: "failed", amount: 8_000, currency: "USD", failureCode: "account_closed" });
    expect(await db.payoutTransfer.findMany({ where: { payoutId: payout.id } })).toMatchObject([
      { kind: "payout", bankPayoutId: recorded.id },
    ]);
    expect(
      await db.alert.findMany({ where: { kind: "bank_payout_failed", dedupeKey: `bank_payout_failed:${bankPayout.id}` } }),
    ).toMatchObject([{ severity: "critical", payoutId: payout.id }]);

    expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true, duplicate: true } });
    expect(await reconcile()).toMatchObject({ recovered: 0, errors: [] });
    expect(await db.alert.count({ where: { kind: "bank_payout_failed", dedupeKey: `bank_payout_failed:${bankPayout.id}` } })).toBe(1);
  });
});

describe("an event in an API version Payouts does not read", () => {
  it("is stored with its api_version; one warning alert per version, however many events", async () => {
    const OLD = "2020-08-27";
    const charge = h.fake.createCharge({ amount: 10_000, currency: "usd" });
    const accountId = h.account();
    const { bookingId } = await h.completeBooking({
      providerReady: true,
      providerShare: 8_000,
      stripeChargeId: charge.id,
      stripeAccountId: accountId,
    });
    const versionAlerts = () => db.alert.findMany({ where: { kind: "stripe_api_version" }, orderBy: { createdAt: "asc" } });
    expect(await versionAlerts()).toEqual([]);

    const first = stripeEvent({ type: "charge.dispute.created", object: h.fake.disputeCharge(charge.id), apiVersion: OLD });
    const second = stripeEvent({
      type: "account.updated",
      object: await h.stripe.accounts.retrieve(accountId),
      account: accountId,
      apiVersion: OLD,
    });
    for (const event of [first, second]) {
      expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true } });
      expect(await stripeDeliveryOf(event)).toMatchObject({ apiVersion: OLD });
    }
    const alerts = await versionAlerts();
    expect(alerts).toMatchObject([
      { severity: "warning", dedupeKey: `stripe_api_version:${OLD}`, title: "Stripe sends events in another API version" },
    ]);
    expect(alerts[0]!.message).toContain(OLD);
    expect(alerts[0]!.message).toContain(PINNED_STRIPE_API_VERSION);
    expect(alerts[0]!.message).toContain(first.id);
    // Its object has the shape the handlers read, so it was applied all the same.
    expect(await stripeDeliveryOf(first)).toMatchObject({ status: "processed" });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "dispute_open" });

    // The pinned version raises nothing; another unknown version its own alert.
    const pinned = stripeEvent({ type: "account.updated", object: await h.stripe.accounts.retrieve(accountId), account: accountId });
    await sendStripeEvent(pinned);
    expect(await stripeDeliveryOf(pinned)).toMatchObject({ apiVersion: PINNED_STRIPE_API_VERSION });
    expect(await versionAlerts()).toHaveLength(1);
    const other = stripeEvent({
      type: "account.updated",
      object: await h.stripe.accounts.retrieve(accountId),
      account: accountId,
      apiVersion: "2022-11-15",
    });
    await sendStripeEvent(other);
    expect((await versionAlerts()).map((a) => a.dedupeKey)).toEqual([`stripe_api_version:${OLD}`, "stripe_api_version:2022-11-15"]);
  });
});
