// The payout is derived from the facts, not from the order they arrived in. Each test runs
// the same facts in different orders, on fresh bookings, and expects the same payout.
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { openDispute } from "@/lib/disputes/open-dispute";
import { resolveDispute } from "@/lib/disputes/resolve-dispute";
import { holdPayout } from "@/lib/payouts/hold-payout";
import { sweepPayouts } from "@/lib/payouts/sweep-payouts";
import { addTip } from "@/lib/tips/add-tip";

import { ADMIN_ACTOR, HOUR, payoutOf, engineHarness } from "../../support/engine";
import { sendStripeEvent, stripeDeliveryOf, stripeId } from "../../support/stripe-webhook";

const h = engineHarness();

const now = () => Math.floor(Date.now() / 1000);
function stripeEvent(type: string, object: unknown, extra: { created?: number; account?: string } = {}) {
  return {
    id: stripeId("evt"),
    object: "event",
    api_version: "2026-10-28.endive",
    created: extra.created ?? now(),
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: stripeId("req"), idempotency_key: randomUUID() },
    type,
    ...(extra.account ? { account: extra.account } : {}),
  };
}

function charge(input: { id: string; amount: number; amountRefunded: number }) {
  return {
    id: input.id,
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
  };
}

function dispute(input: { id: string; charge: string; amount: number; status: string }) {
  return {
    id: input.id,
    object: "dispute",
    amount: input.amount,
    charge: input.charge,
    created: now() - 60,
    currency: "usd",
    reason: "product_not_received",
    status: input.status,
  };
}

describe("a hold with more than one cause", () => {
  // A payout has one hold reason, but may have several causes at once: an open dispute on its
  // booking and a provider's Stripe account that cannot receive payouts. When one cause goes
  // away the payout is released only if no other is present; otherwise it stays on hold for
  // the cause still present (an open dispute first), and that change is audited.
  async function accountUpdated(accountId: string, ready: boolean) {
    h.account({ id: accountId, payoutsEnabled: ready, transfersCapability: ready ? "active" : "inactive" });
    const event = stripeEvent("account.updated", await h.stripe.accounts.retrieve(accountId), { account: accountId });
    expect((await sendStripeEvent(event)).status).toBe(200);
    expect(await stripeDeliveryOf(event)).toMatchObject({ status: "processed" });
  }

  it("an account becoming ready does not release a payout while a dispute on its booking is open, whatever the order", async () => {
    async function scenario(order: "dispute_first" | "account_first") {
      const accountId = h.account();
      const { bookingId } = await h.completeBooking({ providerReady: true, stripeAccountId: accountId });
      const dispute = () => openDispute(h.ctx(), { bookingId, externalId: `dsp_${randomUUID()}`, openedAt: h.clock.now() });
      if (order === "dispute_first") await dispute();
      await accountUpdated(accountId, false);
      if (order === "account_first") await dispute();
      await accountUpdated(accountId, true);
      return payoutOf(bookingId);
    }

    const inOrder = await scenario("dispute_first");
    expect(inOrder).toMatchObject({ status: "on_hold", holdReason: "dispute_open" });
    const outOfOrder = await scenario("account_first");
    expect(outOfOrder).toMatchObject({ status: "on_hold", holdReason: "dispute_open" });
    const entries = await db.auditLog.findMany({ where: { entityType: "payout", entityId: outOfOrder.id }, orderBy: { createdAt: "asc" } });
    expect(entries.at(-1)).toMatchObject({ action: "payout.held", reason: expect.stringContaining("a dispute on the booking is open") });
    expect(entries.map((e) => e.action)).not.toContain("payout.released");
  });

  it("a dispute resolved while the provider's account cannot receive payouts leaves the payout held for the account", async () => {
    const accountId = h.account();
    const { bookingId } = await h.completeBooking({ providerReady: true, stripeAccountId: accountId });
    const opened = await openDispute(h.ctx(), { bookingId, externalId: `dsp_${randomUUID()}`, openedAt: h.clock.now() });
    await accountUpdated(accountId, false);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "dispute_open" });
    await resolveDispute(h.ctx(), { disputeId: opened.dispute.id, outcome: "provider_won", refundedAmount: 0, resolvedAt: h.clock.now() });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "provider_account_not_ready" });

    // Once the account can receive payouts again, nothing holds the payout any more.
    await accountUpdated(accountId, true);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", holdReason: null });
  });

  it("an admin hold is not released by a dispute's resolution or by the account becoming ready", async () => {
    const accountId = h.account();
    const { bookingId } = await h.completeBooking({ providerReady: true, stripeAccountId: accountId });
    const user = await db.adminUser.create({
      data: { email: `op-${randomUUID()}@payouts.test`, name: "Oscar Operator", role: "operator", passwordHash: "x" },
    });
    await holdPayout(h.ctx(ADMIN_ACTOR(user.id, "Oscar Operator")), {
      payoutId: (await payoutOf(bookingId)).id,
      reason: "Checking the provider",
    });
    const opened = await openDispute(h.ctx(), { bookingId, externalId: `dsp_${randomUUID()}`, openedAt: h.clock.now() });
    await accountUpdated(accountId, false);
    await resolveDispute(h.ctx(), { disputeId: opened.dispute.id, outcome: "provider_won", refundedAmount: 0, resolvedAt: h.clock.now() });
    await accountUpdated(accountId, true);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "admin_hold" });
  });
});

describe("a payout with nothing left to pay", () => {
  // Refunds that take everything leave the payout open at zero while a tip may still join it;
  // nothing is transferred at zero. Once it is due and the tip window has closed it is
  // cancelled as "fully refunded": by the payout's own run when it becomes due, or else by the
  // reconciliation sweep. Either is idempotent.
  it("stays open at zero while a tip may join, then the sweep cancels it once; a later tip is refused", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 6_000 });
    const opened = await openDispute(h.ctx(), { bookingId, externalId: `dsp_${randomUUID()}`, openedAt: h.clock.now() });
    await resolveDispute(h.ctx(), {
      disputeId: opened.dispute.id,
      outcome: "customer_won",
      refundedAmount: 6_000,
      resolvedAt: h.clock.now(),
    });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", amount: 0, cancelReason: null });

    h.clock.advance(25 * HOUR);
    await sweepPayouts(h.ctx(), h.stripe);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", amount: 0 });

    h.clock.advance(24 * HOUR);
    await sweepPayouts(h.ctx(), h.stripe);
    await sweepPayouts(h.ctx(), h.stripe);
    const payout = await payoutOf(bookingId);
    expect(payout).toMatchObject({ status: "cancelled", cancelReason: "fully refunded", amount: 0 });
    expect(await db.auditLog.count({ where: { entityId: payout.id, action: "payout.cancelled" } })).toBe(1);

    const late = await addTip(h.ctx(), {
      tipExternalId: `tip_${randomUUID()}`,
      bookingId,
      amount: 500,
      currency: "USD",
      tippedAt: h.clock.now(),
    });
    expect(late.tip).toMatchObject({ status: "rejected" });
    expect(h.fake.transfers().filter((t) => t.metadata?.payoutId === payout.id)).toHaveLength(0);
  });
});

describe("refunds and chargebacks on one charge", () => {
  // Refunds and lost chargebacks on one charge together take at most the provider's portion
  // of it: min(portion, their part of the refunds + the chargebacks), whichever Stripe event
  // arrives first. A chargeback takes what refunds left; a refund after a chargeback takes
  // its proportional part only up to what the chargeback left.
  async function scenario(order: "refund_first" | "chargeback_first", opts: { openedFirst?: boolean } = {}) {
    // Customer paid 100.00 on the booking's charge, 80.00 of it the provider's share; a tip of
    // 20.00 was paid with its own charge. At Stripe: 50.00 refunded, the other 50.00 charged back and lost.
    const bookingCharge = stripeId("ch");
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: bookingCharge });
    await addTip(h.ctx(), {
      tipExternalId: `tip_${randomUUID()}`,
      bookingId,
      amount: 2_000,
      currency: "USD",
      tippedAt: h.clock.now(),
      stripeChargeId: stripeId("ch"),
    });
    const lostDispute = dispute({ id: stripeId("du"), charge: bookingCharge, amount: 5_000, status: "lost" });
    if (opts.openedFirst)
      expect((await sendStripeEvent(stripeEvent("charge.dispute.created", { ...lostDispute, status: "needs_response" }))).status).toBe(200);
    const refunded = stripeEvent("charge.refunded", charge({ id: bookingCharge, amount: 10_000, amountRefunded: 5_000 }), {
      created: now() - 600,
    });
    const lost = stripeEvent("charge.dispute.closed", lostDispute);
    for (const event of order === "refund_first" ? [refunded, lost] : [lost, refunded]) {
      expect((await sendStripeEvent(event)).status).toBe(200);
      expect(await stripeDeliveryOf(event)).toMatchObject({ status: "processed" });
    }
    return payoutOf(bookingId);
  }

  it("a partial refund and a lost chargeback of the rest end with the same payout whichever event arrives first", async () => {
    const inOrder = await scenario("refund_first");
    // Refund: 50 % of 80.00 = 40.00; chargeback: 50.00, of which the provider still had 40.00.
    expect(inOrder).toMatchObject({ tipAmount: 2_000, refundedAmount: 8_000, amount: 2_000 });

    const outOfOrder = await scenario("chargeback_first");
    // Chargeback: 50.00; refund: its 40.00 part, of which the chargeback left 30.00.
    expect(outOfOrder).toMatchObject({ tipAmount: 2_000, refundedAmount: inOrder.refundedAmount, amount: inOrder.amount });
  });

  it("the same when the dispute was opened (and held the payout) before either", async () => {
    const inOrder = await scenario("refund_first", { openedFirst: true });
    const outOfOrder = await scenario("chargeback_first", { openedFirst: true });
    expect(inOrder).toMatchObject({ status: "scheduled", refundedAmount: 8_000, amount: 2_000 });
    expect(outOfOrder).toMatchObject({ status: "scheduled", refundedAmount: 8_000, amount: 2_000 });
  });
});

describe("a refund and a tip paid with the same charge", () => {
  // A tip paid with a charge enlarges the provider's portion of that charge, and so their part
  // of its refunds. When the tip is accepted after a refund on the charge, the refund is
  // re-priced with the new portion and the difference recorded as a new step, so the provider
  // gives back the same whether the tip arrived before or after the refund.
  it("the provider's part of a refund does not depend on whether the tip on that charge arrived before or after it", async () => {
    // The customer paid 120.00 on one charge: share 80.00 + tip 20.00 (both the provider's) + 20.00 commission.
    // Half of it (60.00) is refunded: the provider's part is 50 % of 100.00 = 50.00.
    async function scenario(order: "tip_first" | "refund_first") {
      const bookingCharge = stripeId("ch");
      const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: bookingCharge });
      const tip = () =>
        addTip(h.ctx(), {
          tipExternalId: `tip_${randomUUID()}`,
          bookingId,
          amount: 2_000,
          currency: "USD",
          tippedAt: h.clock.now(),
          stripeChargeId: bookingCharge,
        });
      const refunded = stripeEvent("charge.refunded", charge({ id: bookingCharge, amount: 12_000, amountRefunded: 6_000 }));
      if (order === "tip_first") await tip();
      expect((await sendStripeEvent(refunded)).status).toBe(200);
      if (order === "refund_first") await tip();
      // The same refund delivered again changes nothing.
      expect((await sendStripeEvent({ ...refunded, id: stripeId("evt") })).status).toBe(200);
      return payoutOf(bookingId);
    }

    const inOrder = await scenario("tip_first");
    expect(inOrder).toMatchObject({ tipAmount: 2_000, refundedAmount: 5_000, amount: 5_000 });
    const outOfOrder = await scenario("refund_first");
    expect(outOfOrder).toMatchObject({ tipAmount: 2_000, refundedAmount: inOrder.refundedAmount, amount: inOrder.amount });
    const steps = await db.chargeRefund.findMany({ where: { bookingId: outOfOrder.bookingId }, orderBy: { providerPortion: "asc" } });
    expect(steps).toMatchObject([
      { customerRefundedTotal: 6_000, providerPortion: 8_000, providerRefundedTotal: 4_000, amount: 4_000 },
      { customerRefundedTotal: 6_000, providerPortion: 10_000, providerRefundedTotal: 5_000, amount: 1_000 },
    ]);
  });

  it("a second tip on a tip charge that was partly refunded: the same as if both tips came first", async () => {
    // One charge of 20.00 paid two tips of 10.00; 10.00 of it was refunded: the provider's part is 10.00.
    async function scenario(order: "tips_first" | "refund_between") {
      const tipCharge = stripeId("ch");
      const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000 });
      const tip = () =>
        addTip(h.ctx(), {
          tipExternalId: `tip_${randomUUID()}`,
          bookingId,
          amount: 1_000,
          currency: "USD",
          tippedAt: h.clock.now(),
          stripeChargeId: tipCharge,
        });
      const refunded = stripeEvent("charge.refunded", charge({ id: tipCharge, amount: 2_000, amountRefunded: 1_000 }));
      await tip();
      if (order === "tips_first") await tip();
      expect((await sendStripeEvent(refunded)).status).toBe(200);
      if (order === "refund_between") await tip();
      return payoutOf(bookingId);
    }

    const inOrder = await scenario("tips_first");
    expect(inOrder).toMatchObject({ tipAmount: 2_000, refundedAmount: 1_000, amount: 9_000 });
    const outOfOrder = await scenario("refund_between");
    expect(outOfOrder).toMatchObject({ tipAmount: 2_000, refundedAmount: 1_000, amount: 9_000 });
  });
});
