// Review: a EUR payout paid with a USD transfer (the platform settles in USD; the charge was
// converted). Reversals are computed in the payout's currency and converted, rounded down; one
// made outside Payouts is converted back, rounded down too. What Payouts then asks Stripe to
// reverse must never be more than is left of the transfer in its own currency.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";

import { HOUR, payoutOf, startEngineHarness, transferEvent, type TEngineHarness } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { sendProcessed, pointAppStripeAt } from "../../support/stripe-webhook";

let h: TEngineHarness;
let restoreStripe: () => void;
const saved = process.env.STRIPE_SETTLEMENT_CURRENCIES;

beforeAll(async () => {
  process.env.STRIPE_SETTLEMENT_CURRENCIES = "usd";
  resetEnvForTests();
  h = await startEngineHarness();
  restoreStripe = pointAppStripeAt(h.fake);
});

afterAll(async () => {
  restoreStripe();
  if (saved === undefined) delete process.env.STRIPE_SETTLEMENT_CURRENCIES;
  else process.env.STRIPE_SETTLEMENT_CURRENCIES = saved;
  resetEnvForTests();
  await h.fake.stop();
});

beforeEach(() => {
  h.clock.set(new Date());
  globalThis.inngestReceiver.setDown(false);
  h.fake.setBalance("usd", 0);
  h.fake.setBalance("eur", 0);
});

const send = sendProcessed;

describe("a converted transfer partly reversed outside Payouts, then refunded in full", () => {
  it("reverses what is left of the transfer at Stripe, and records no debt", async () => {
    // 100.00 EUR settle as 110.00 USD; the provider's 80.00 EUR are transferred as 88.00 USD.
    const charge = h.fake.createCharge({ amount: 10_000, currency: "eur" });
    const { bookingId } = await h.completeBooking({
      providerReady: true,
      currency: "EUR",
      providerShare: 8_000,
      stripeChargeId: charge.id,
    });
    h.clock.advance(48 * HOUR + 1);
    const payout = await payoutOf(bookingId);
    expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });
    const [transfer] = h.transfersFor(payout.id);
    expect(transfer).toMatchObject({ amount: 8_800, currency: "usd" });

    // Someone reverses 55.01 USD in the dashboard (recorded as 50.00 EUR, rounded down).
    await h.stripe.transfers.createReversal(transfer!.id, { amount: 5_501 });
    await send(stripeEvent({ type: "transfer.reversed", object: await h.stripe.transfers.retrieve(transfer!.id) }));
    expect(await payoutOf(bookingId)).toMatchObject({ status: "partially_reversed", reversedAmount: 5_000 });

    // Then the charge is refunded in full: the provider's whole 80.00 EUR is to be recovered.
    h.fake.refundCharge(charge.id);
    await send(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
    const reversals = await db.transferReversal.findMany({ where: { payoutId: payout.id, initiatedBy: "platform" } });
    expect(reversals).toHaveLength(1);
    expect(
      (await h.run("reverse", { name: "payout/reversal.requested", data: { reversalId: reversals[0]!.id, payoutId: payout.id } })).result,
    ).toMatchObject({
      kind: "reversed",
    });

    // All 88.00 USD are back; nothing is owed.
    expect((await h.stripe.transfers.retrieve(transfer!.id)).amount_reversed).toBe(8_800);
    expect(await db.providerDebt.count({ where: { payoutId: payout.id } })).toBe(0);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "reversed" });
  });
});
