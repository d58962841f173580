// Review: a tip paid on the booking's own charge that the booking platform names by the
// booking's PaymentIntent (it records PaymentIntents, not charges). The tip is part of what the
// provider got from that charge: a refund of the charge takes its proportional part of the tip
// too, whether the booking learnt its charge from the refund or knew it already, and whether the
// tip came before or after the refund.
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { addTip } from "@/lib/tips/add-tip";

import { payoutOf } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { sendProcessed, appEngineHarness } from "../../support/stripe-webhook";

const h = appEngineHarness();

const send = sendProcessed;

const cases = [
  { booking: "its PaymentIntent only", knowsCharge: false, tip: "before" },
  { booking: "its charge and PaymentIntent", knowsCharge: true, tip: "before" },
  { booking: "its PaymentIntent only", knowsCharge: false, tip: "after" },
  { booking: "its charge and PaymentIntent", knowsCharge: true, tip: "after" },
] as const;

describe("a tip named by the booking's PaymentIntent", () => {
  for (const { booking, knowsCharge, tip } of cases) {
    it(`booking named by ${booking}, tip ${tip} the refund: half the charge refunded takes half of the share and of the tip`, async () => {
      // One charge of 110.00: the price (of which 80.00 is the provider's share) and a 10.00 tip.
      const charge = h.fake.createCharge({ amount: 11_000, currency: "usd" });
      const paymentIntentId = String(charge.payment_intent);
      const { bookingId } = await h.completeBooking({
        providerReady: true,
        providerShare: 8_000,
        stripePaymentIntentId: paymentIntentId,
        ...(knowsCharge ? { stripeChargeId: charge.id } : {}),
      });
      const tipped = () =>
        addTip(h.ctx(), {
          tipExternalId: `tip_${randomUUID().slice(0, 8)}`,
          bookingId,
          amount: 1_000,
          currency: "USD",
          tippedAt: h.clock.now(),
          stripePaymentIntentId: paymentIntentId,
        });

      if (tip === "before") await tipped();
      h.fake.refundCharge(charge.id, { amount: 5_500 });
      await send(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
      if (tip === "after") await tipped();

      // Half of the charge went back to the customer: half of the provider's 90.00 goes with it.
      expect(await payoutOf(bookingId)).toMatchObject({ providerShare: 8_000, tipAmount: 1_000, refundedAmount: 4_500, amount: 4_500 });
    });
  }
});
