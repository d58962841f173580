// Review: a Stripe money event that matched a booking but could not be applied (here a dispute
// in another currency than the booking) holds the payout for review. A payout that was already
// on hold for a cause something automatic lifts (an open dispute of the booking platform, funds
// awaited, an account not ready) must stay held for the review once that cause is gone: the
// Stripe chargeback is still open and was never recorded.
import type Stripe from "stripe";
import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { openDispute } from "@/lib/disputes/open-dispute";
import { resolveDispute } from "@/lib/disputes/resolve-dispute";

import { HOUR, payoutOf, transferEvent } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { sendStripeEvent, stripeDeliveryOf, appEngineHarness } from "../../support/stripe-webhook";

const h = appEngineHarness();

async function sendUnapplicable(event: Stripe.Event) {
  expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true } });
  expect(await stripeDeliveryOf(event)).toMatchObject({ status: "failed", error: expect.stringMatching(/^needs_review: /) });
}

describe("a Stripe dispute that needs review while the payout is held for a platform dispute", () => {
  it("keeps the payout held for review when the platform's dispute is resolved: nothing is transferred", async () => {
    // The booking is in USD, but the charge it names (and so its Stripe dispute) is in EUR.
    const charge = h.fake.createCharge({ amount: 10_000, currency: "eur" });
    const { bookingId } = await h.completeBooking({
      providerReady: true,
      currency: "USD",
      providerShare: 8_000,
      stripeChargeId: charge.id,
    });
    const platformDispute = await openDispute(h.ctx(), { bookingId, externalId: `dsp_${bookingId.slice(0, 8)}`, openedAt: h.clock.now() });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "dispute_open" });

    // The customer's bank disputes the charge: it cannot be applied as it is; an admin is alerted.
    const dispute = h.fake.disputeCharge(charge.id, { amount: 10_000 });
    await sendUnapplicable(stripeEvent({ type: "charge.dispute.created", object: dispute }));
    const payout = await payoutOf(bookingId);
    expect(await db.alert.findMany({ where: { payoutId: payout.id } })).toMatchObject([{ kind: "stripe_dispute_unapplied" }]);
    expect(payout).toMatchObject({ status: "on_hold" });

    // The booking platform's dispute is resolved in the provider's favour; the payout comes due.
    await resolveDispute(h.ctx(), {
      disputeId: platformDispute.dispute.id,
      outcome: "provider_won",
      refundedAmount: 0,
      resolvedAt: h.clock.now(),
    });
    h.clock.advance(48 * HOUR + 1);
    await h.run("transfer", transferEvent(payout.id));

    // The Stripe chargeback is still open and unrecorded: nothing may be paid before someone decides.
    expect(h.transfersFor(payout.id)).toEqual([]);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "review_required", amount: 8_000 });
  });
});
