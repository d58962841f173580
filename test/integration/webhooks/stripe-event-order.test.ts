// Issue 9: the order Stripe's events arrive in does not change the outcome. A connected account's
// account.updated events are applied newest first-wins by their `created` (whole seconds), and
// two different states in the same second are settled by asking Stripe afresh. Refunds, a lost
// chargeback and a tip on one charge end with the same payout in every order, the provider bearing
// min(portion, floor(refunded × portion / charge) + disputed).
import { randomUUID } from "node:crypto";

import type Stripe from "stripe";
import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { addTip } from "@/lib/tips/add-tip";

import { payoutOf } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { sendStripeEvent, stripeDeliveryOf, appEngineHarness } from "../../support/stripe-webhook";

const h = appEngineHarness();

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

async function send(event: { id: string }) {
  expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true } });
  return stripeDeliveryOf(event);
}

describe("account.updated", () => {
  /** The account as Stripe shows it in one state (the fake's account is left in that state). */
  async function accountIn(accountId: string, ready: boolean): Promise<Stripe.Account> {
    h.account({ id: accountId, payoutsEnabled: ready, transfersCapability: ready ? "active" : "inactive" });
    return h.stripe.accounts.retrieve(accountId);
  }

  const sequences: { name: string; states: [boolean, boolean, boolean] }[] = [
    { name: "ready / not ready / ready", states: [true, false, true] },
    { name: "not ready / ready / not ready", states: [false, true, false] },
  ];

  for (const { name, states } of sequences) {
    for (const order of permutations([0, 1, 2])) {
      it(`${name}, delivered ${order.map((i) => `#${i + 1}`).join(" → ")}: the newest state wins`, async () => {
        const accountId = h.account();
        const { bookingId } = await h.completeBooking({ providerReady: true, stripeAccountId: accountId });
        expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled" });
        // Three states of the account, ten seconds apart; Stripe is left in the newest.
        const base = Math.floor(Date.now() / 1000) - 60;
        const events: Stripe.Event[] = [];
        for (const [i, ready] of states.entries()) {
          events.push(
            stripeEvent({ type: "account.updated", object: await accountIn(accountId, ready), account: accountId, created: base + i * 10 }),
          );
        }
        const since = h.fake.requests().length;
        for (const i of order) expect(await send(events[i]!)).toMatchObject({ status: "processed" });

        const newest = states[2];
        expect(await db.provider.findUniqueOrThrow({ where: { stripeAccountId: accountId } })).toMatchObject({
          payoutsEnabled: newest,
          accountStateAt: new Date((base + 20) * 1000),
        });
        expect(await payoutOf(bookingId)).toMatchObject(
          newest ? { status: "scheduled", holdReason: null } : { status: "on_hold", holdReason: "provider_account_not_ready" },
        );
        // Ordered by their `created`: Stripe was not asked.
        expect(
          h.fake
            .requests()
            .slice(since)
            .filter((r) => r.path === `/v1/accounts/${accountId}`),
        ).toEqual([]);
      });
    }
  }

  for (const truth of [true, false]) {
    it(`two different states in the same second: the account is asked of Stripe afresh (${truth ? "ready" : "not ready"} there)`, async () => {
      const accountId = h.account();
      const { bookingId } = await h.completeBooking({ providerReady: true, stripeAccountId: accountId });
      const second = Math.floor(Date.now() / 1000) - 30;
      // The state Stripe does not have now arrives last.
      const first = stripeEvent({
        type: "account.updated",
        object: await accountIn(accountId, truth),
        account: accountId,
        created: second,
      });
      const last = stripeEvent({
        type: "account.updated",
        object: await accountIn(accountId, !truth),
        account: accountId,
        created: second,
      });
      await accountIn(accountId, truth);

      expect(await send(first)).toMatchObject({ status: "processed" });
      const since = h.fake.requests().length;
      expect(await send(last)).toMatchObject({ status: "processed" });
      expect(
        h.fake
          .requests()
          .slice(since)
          .filter((r) => r.method === "GET" && r.path === `/v1/accounts/${accountId}`),
      ).toHaveLength(1);
      expect(await db.provider.findUniqueOrThrow({ where: { stripeAccountId: accountId } })).toMatchObject({ payoutsEnabled: truth });
      expect(await payoutOf(bookingId)).toMatchObject(
        truth ? { status: "scheduled", holdReason: null } : { status: "on_hold", holdReason: "provider_account_not_ready" },
      );
    });
  }

  it("two different states in the same second with Stripe unreachable: the later delivery wins, nothing is lost", async () => {
    const accountId = h.account();
    const { bookingId } = await h.completeBooking({ providerReady: true, stripeAccountId: accountId });
    const second = Math.floor(Date.now() / 1000) - 30;
    const ready = stripeEvent({ type: "account.updated", object: await accountIn(accountId, true), account: accountId, created: second });
    const notReady = stripeEvent({
      type: "account.updated",
      object: await accountIn(accountId, false),
      account: accountId,
      created: second,
    });
    await send(ready);
    h.fake.failNext({ method: "GET", path: `/v1/accounts/${accountId}` }, { kind: "status", status: 503 });
    expect(await send(notReady)).toMatchObject({ status: "processed" });
    expect(await db.provider.findUniqueOrThrow({ where: { stripeAccountId: accountId } })).toMatchObject({ payoutsEnabled: false });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "provider_account_not_ready" });
  });
});

describe("a refund, a lost chargeback and a tip on one charge", () => {
  // The customer paid one charge of 120.00: the provider's share of 80.00, then a tip of 20.00
  // paid with that same charge, and 20.00 commission. At Stripe part of it is refunded and part
  // charged back and lost. Applied in any order, the provider bears
  //   min(portion, floor(refunded × portion / charge) + disputed), portion = 100.00.
  const CHARGE = 12_000;
  const SHARE = 8_000;
  const TIP = 2_000;
  const expectedLoss = (refunded: number, disputed: number) =>
    Math.min(SHARE + TIP, Math.floor((refunded * (SHARE + TIP)) / CHARGE) + disputed);

  type TFact = "refund" | "chargeback lost" | "tip";

  async function scenario(order: readonly TFact[], refunded: number, disputed: number) {
    const charge = h.fake.createCharge({ amount: CHARGE, currency: "usd" });
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: SHARE, stripeChargeId: charge.id });
    // The facts at Stripe; their events are delivered in `order`.
    h.fake.refundCharge(charge.id, { amount: refunded });
    const dispute = h.fake.disputeCharge(charge.id, { amount: disputed });
    const lost = h.fake.setDisputeStatus(dispute.id, "lost");
    const now = Math.floor(Date.now() / 1000);
    const apply: Record<TFact, () => Promise<void>> = {
      refund: async () => {
        const event = stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id), created: now - 120 });
        expect(await send(event)).toMatchObject({ status: "processed" });
      },
      "chargeback lost": async () => {
        const event = stripeEvent({ type: "charge.dispute.closed", object: lost, created: now - 60 });
        expect(await send(event)).toMatchObject({ status: "processed" });
      },
      tip: async () => {
        const added = await addTip(h.ctx(), {
          tipExternalId: `tip_${randomUUID()}`,
          bookingId,
          amount: TIP,
          currency: "USD",
          tippedAt: h.clock.now(),
          stripeChargeId: charge.id,
        });
        expect(added.tip).toMatchObject({ status: "accepted" });
      },
    };
    for (const fact of order) await apply[fact]();

    const payout = await payoutOf(bookingId);
    const steps = await db.chargeRefund.aggregate({ where: { stripeChargeId: charge.id }, _sum: { amount: true } });
    const chargebacks = await db.dispute.findMany({ where: { stripeChargeId: charge.id } });
    expect(chargebacks).toMatchObject([
      { stripeDisputeId: dispute.id, status: "resolved", outcome: "customer_won", disputedAmount: disputed },
    ]);
    const loss = (steps._sum.amount ?? 0) + chargebacks[0]!.refundedAmount;
    return { payout, loss };
  }

  const cases = [
    // The cap does not bind: floor(3_001 × 10_000 / 12_000) = 2_500 (2_000 before the tip), + 4_000.
    { refunded: 3_001, disputed: 4_000 },
    // It does: 2_500 + 8_999 is more than the provider's 10_000.
    { refunded: 3_001, disputed: 8_999 },
  ];

  for (const { refunded, disputed } of cases) {
    const loss = expectedLoss(refunded, disputed);
    for (const order of permutations<TFact>(["refund", "chargeback lost", "tip"])) {
      it(`refunded ${refunded}, charged back ${disputed}: ${order.join(" → ")} leaves the provider a loss of ${loss}`, async () => {
        const result = await scenario(order, refunded, disputed);
        expect(result.loss).toBe(loss);
        expect(result.payout).toMatchObject({ tipAmount: TIP, refundedAmount: loss, amount: SHARE + TIP - loss, status: "scheduled" });
      });
    }
  }
});
