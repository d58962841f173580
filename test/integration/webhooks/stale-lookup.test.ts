// Review: the refund handlers ask Stripe for the charge's refunds, then apply the total under the
// booking's lock. A look-up answered before a refund failed but applied after the failure's own
// (newer) look-up must not bring the failed refund back: Stripe's webhooks for one refund are
// delivered concurrently, and nothing orders a slow handler's answer against a fast one's. (One
// server applies a booking's deliveries one at a time, in its lane; but a lane whose holder hangs
// is taken over when its lease runs out, and an operator may re-drive a delivery meanwhile.)
import type Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import { db } from "@/lib/db";
import { STALE_DELIVERY_MS } from "@/lib/ingest/reapply-stale-deliveries";
import { redriveDelivery } from "@/lib/ingest/redrive-delivery";

import { ADMIN_ACTOR, payoutOf, startEngineHarness, type TEngineHarness } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { sendStripeEvent, stripeDeliveryOf, pointAppStripeAt } from "../../support/stripe-webhook";

// Stripe's answer to the refunds list, held back before the handler goes on (a slow response,
// or a slow handler) while `gate` is set.
let gate: Promise<void> | null = null;
vi.mock("@/lib/stripe/charges", async (importOriginal) => {
  const original = await importOriginal<typeof import("@/lib/stripe/charges")>();
  return {
    ...original,
    listChargeRefunds: async (...args: Parameters<typeof original.listChargeRefunds>) => {
      const answer = await original.listChargeRefunds(...args);
      const held = gate;
      if (held) await held;
      return answer;
    },
  };
});

let h: TEngineHarness;
let restoreStripe: () => void;

beforeAll(async () => {
  h = await startEngineHarness();
  restoreStripe = pointAppStripeAt(h.fake);
});

afterAll(async () => {
  restoreStripe();
  await h.fake.stop();
});

beforeEach(() => {
  h.clock.set(new Date());
  globalThis.inngestReceiver.setDown(false);
  gate = null;
});

async function delivered(event: Stripe.Event, sending: Promise<{ status: number }>) {
  expect((await sending).status).toBe(200);
  expect(await stripeDeliveryOf(event)).toMatchObject({ status: "processed" });
}

describe("a refund that fails while an earlier look-up of its charge is still on its way", () => {
  it("the slower, older answer does not take the failed refund from the provider", async () => {
    const charge = h.fake.createCharge({ amount: 10_000, currency: "usd" });
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge.id });
    const refund = h.fake.refundCharge(charge.id, { amount: 2_500 });
    const refunded = stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) });

    // charge.refunded's handler gets Stripe's answer (25.00 refunded) but is slow to go on.
    let open!: () => void;
    gate = new Promise<void>((resolve) => (open = resolve));
    const slow = sendStripeEvent(refunded);
    for (let i = 0; i < 200 && !h.fake.requests().some((r) => r.path === "/v1/refunds" && r.status === 200); i++)
      await new Promise((r) => setTimeout(r, 10));
    gate = null;

    // Meanwhile the refund fails. Its event waits in the booking's lane behind the slow one, which
    // stalls past its lease; an operator re-drives it, taking the lane over: its handler asks
    // Stripe afresh and it is applied while the slow one is still on its way.
    const failed = stripeEvent({ type: "refund.failed", object: h.fake.setRefundStatus(refund.id, "failed", "expired_or_canceled_card") });
    expect((await sendStripeEvent(failed)).status).toBe(200);
    expect(await stripeDeliveryOf(failed)).toMatchObject({ status: "received" });
    const operator = await db.adminUser.create({
      data: { email: `op-${refund.id}@payouts.test`, name: "Oscar Operator", role: "operator", passwordHash: "x" },
    });
    const waiting = (await stripeDeliveryOf(failed))!;
    // The slow holder stalls past its lease (as a hung process would): the lane is taken over.
    await db.ingestLane.updateMany({ data: { leasedUntil: new Date(Date.now() - 1_000) } });
    h.clock.set(new Date(Date.now() + STALE_DELIVERY_MS + 1_000));
    await redriveDelivery(
      { db, stripe: () => h.stripe, clock: h.clock },
      { id: waiting.id, actor: ADMIN_ACTOR(operator.id, "Oscar Operator") },
    );
    expect(await stripeDeliveryOf(failed)).toMatchObject({ status: "processed" });
    open();
    await delivered(refunded, slow);

    // Nothing is refunded at Stripe: the provider keeps the whole 80.00.
    expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 0, amount: 8_000 });
    const steps = await db.chargeRefund.findMany({ where: { bookingId } });
    expect(steps.reduce((sum, s) => sum + s.amount, 0)).toBe(0);
  });
});
