// Planted-bug guard, class 2: a second dispute lost after the transfer, once the first lost
// dispute's reversal was made at Stripe. The second loss must be priced and reversed against what
// the first already took, so the total reversed never exceeds what the provider's part allows, and
// each amount is exact.
//
// Plants this file was run against:
//   - lib/disputes/resolve-dispute.ts `chargebackPart`: price the second chargeback without the
//     earlier lost ones (`alreadyBorne: borne.refunds` instead of `borne.refunds + borne.chargebacks`).
//     Caught by the first test (the tip's transfer is reversed for a chargeback on the booking's charge).
//   - lib/refunds/charge-losses.ts `chargeLosses`: leave the lost chargebacks out (`lost = []`).
//     Caught by the first test, likewise.
//   - lib/payouts/provider-position.ts `takenFrom`: count only reversals still pending, not the
//     ones made (`status: { in: ["pending"] }`). Caught by the second test until a claim came to
//     reverse only what it takes of share + tips (lossTaken), which bounds the second dispute here
//     by itself; now caught by simulation-findings/platform-dispute-after-full-refund.test.ts (a
//     claim after a full refund was reversed and repaid: the plant reverses the spent transfer again,
//     Stripe refuses, and the repayment pays the debt's part too). The first test cannot catch this
//     one: Stripe's chargebacks on one charge are priced to at most the provider's portion of it.
import { randomUUID } from "node:crypto";

import type Stripe from "stripe";
import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { addTip } from "@/lib/tips/add-tip";

import { sendBookingEvent, type TBookingEvent } from "../../support/booking-webhook";
import { HOUR, payoutOf, transferEvent } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { appEngineHarness, sendProcessed } from "../../support/stripe-webhook";

const h = appEngineHarness();

/** Runs, once each, the reversals of the payout the app asked for (payout/reversal.requested in the outbox) and has not run yet. */
const ran = new Set<string>();
async function runRequestedReversals(payoutId: string): Promise<void> {
  const requested = await db.outboxEvent.findMany({ where: { name: "payout/reversal.requested" }, orderBy: { createdAt: "asc" } });
  for (const { data } of requested) {
    const { reversalId, payoutId: of } = data as { reversalId: string; payoutId: string };
    if (of !== payoutId || ran.has(reversalId)) continue;
    ran.add(reversalId);
    await h.run("reverse", { name: "payout/reversal.requested", data: { reversalId, payoutId } });
  }
}

/** What the fake Stripe reversed of each of the payout's transfers, by transfer id. */
function reversedAtStripe(payoutId: string): Record<string, number> {
  const byTransfer: Record<string, number> = {};
  for (const t of h.transfersFor(payoutId)) byTransfer[t.id] = 0;
  for (const r of h.fake.reversals()) {
    const transferId = typeof r.transfer === "string" ? r.transfer : r.transfer.id;
    if (transferId in byTransfer) byTransfer[transferId]! += r.amount;
  }
  return byTransfer;
}

const total = (byTransfer: Record<string, number>) => Object.values(byTransfer).reduce((a, b) => a + b, 0);

async function transfer(bookingId: string) {
  h.clock.advance(48 * HOUR + 1_000);
  const payout = await payoutOf(bookingId);
  expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });
  return payoutOf(bookingId);
}

/** A Stripe dispute of `amount` on the charge: charge.dispute.created, then lost (charge.dispute.closed), both sent signed to the webhook. */
async function loseStripeDispute(chargeId: string, amount: number): Promise<Stripe.Dispute> {
  const opened = h.fake.disputeCharge(chargeId, { amount });
  await sendProcessed(stripeEvent({ type: "charge.dispute.created", object: opened }));
  const lost = h.fake.setDisputeStatus(opened.id, "lost");
  await sendProcessed(stripeEvent({ type: "charge.dispute.closed", object: lost }));
  return lost;
}

function bookingEvent(type: string, data: Record<string, unknown>): TBookingEvent {
  return { id: `evt_${randomUUID()}`, type, createdAt: new Date().toISOString(), data };
}

/** The booking platform's dispute on the booking, opened and then lost with `refundedAmount`, sent signed to its webhook. */
async function losePlatformDispute(bookingExternalId: string, refundedAmount: number): Promise<void> {
  const disputeId = `dsp_${randomUUID()}`;
  const at = new Date().toISOString();
  const opened = await sendBookingEvent(
    bookingEvent("dispute.opened", { disputeId, bookingId: bookingExternalId, reason: "not delivered", openedAt: at, scope: "booking" }),
  );
  expect(opened).toEqual({ status: 200, body: { received: true } });
  const resolved = await sendBookingEvent(
    bookingEvent("dispute.resolved", { disputeId, bookingId: bookingExternalId, resolvedAt: at, outcome: "customer_won", refundedAmount }),
  );
  expect(resolved).toEqual({ status: 200, body: { received: true } });
}

async function expectNoDebtNorFailedReversal(payoutId: string) {
  expect(await db.providerDebt.findMany({ where: { payoutId } })).toEqual([]);
  expect(await db.transferReversal.findMany({ where: { payoutId, status: { not: "succeeded" } } })).toEqual([]);
  expect(await db.alert.findMany({ where: { payoutId, kind: "reversal_failed" } })).toEqual([]);
}

describe("a second dispute lost after the first one's reversal was made", () => {
  it("two Stripe chargebacks on the booking's charge: the second takes only what the first left of the provider's part, never the tip", async () => {
    // The customer paid 100.00 for the booking (80.00 the provider's) and tipped 20.00 on a charge of its own.
    const bookingCharge = h.fake.createCharge({ amount: 10_000, currency: "usd" });
    const tipCharge = h.fake.createCharge({ amount: 2_000, currency: "usd" });
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: bookingCharge.id });
    await addTip(h.ctx(), {
      tipExternalId: `tip_${randomUUID()}`,
      bookingId,
      amount: 2_000,
      currency: "USD",
      tippedAt: h.clock.now(),
      stripeChargeId: tipCharge.id,
    });
    const payout = await transfer(bookingId);
    const transfers = h.transfersFor(payout.id);
    expect(transfers.map((t) => [t.amount, t.source_transaction])).toEqual([
      [8_000, bookingCharge.id],
      [2_000, tipCharge.id],
    ]);
    const [shareTransfer, tipTransfer] = transfers as [Stripe.Transfer, Stripe.Transfer];

    // First chargeback: 60.00 of the booking's charge, lost; reversed at Stripe.
    const first = await loseStripeDispute(bookingCharge.id, 6_000);
    expect(await db.dispute.findUniqueOrThrow({ where: { stripeDisputeId: first.id } })).toMatchObject({
      outcome: "customer_won",
      refundedAmount: 6_000,
    });
    await runRequestedReversals(payout.id);
    expect(reversedAtStripe(payout.id)).toEqual({ [shareTransfer.id]: 6_000, [tipTransfer.id]: 0 });

    // Second chargeback on the same charge: 40.00 disputed, but only 20.00 of the provider's 80.00 is left on it.
    const second = await loseStripeDispute(bookingCharge.id, 4_000);
    expect(await db.dispute.findUniqueOrThrow({ where: { stripeDisputeId: second.id } })).toMatchObject({
      outcome: "customer_won",
      disputedAmount: 4_000,
      refundedAmount: 2_000,
    });
    await runRequestedReversals(payout.id);

    // 80.00 reversed in all, all of it from the share's transfer; the tip's charge was never disputed.
    const reversed = reversedAtStripe(payout.id);
    expect(reversed).toEqual({ [shareTransfer.id]: 8_000, [tipTransfer.id]: 0 });
    expect(total(reversed)).toBe(8_000);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "partially_reversed", amount: 10_000, reversedAmount: 8_000 });
    expect(
      (await db.transferReversal.findMany({ where: { payoutId: payout.id }, orderBy: { createdAt: "asc" } })).map((r) => r.amount),
    ).toEqual([6_000, 2_000]);
    await expectNoDebtNorFailedReversal(payout.id);
  });

  it("two booking-platform disputes: the second is reversed only up to what the first's made reversal left of the transfer", async () => {
    const charge = h.fake.createCharge({ amount: 10_000, currency: "usd" });
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge.id });
    const { externalId } = await db.booking.findUniqueOrThrow({ where: { id: bookingId } });
    const payout = await transfer(bookingId);
    const [only] = h.transfersFor(payout.id) as [Stripe.Transfer];
    expect(only.amount).toBe(8_000);

    // The platform's first dispute is lost with a refund of 60.00: reversed at Stripe.
    await losePlatformDispute(externalId, 6_000);
    await runRequestedReversals(payout.id);
    expect(reversedAtStripe(payout.id)).toEqual({ [only.id]: 6_000 });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "partially_reversed", reversedAmount: 6_000 });

    // The second is lost with a refund of 50.00: only the 20.00 left of the transfer is reversed, the rest recorded as capped.
    await losePlatformDispute(externalId, 5_000);
    expect(
      (await db.transferReversal.findMany({ where: { payoutId: payout.id }, orderBy: { createdAt: "asc" } })).map((r) => r.amount),
    ).toEqual([6_000, 2_000]);
    expect(
      await db.auditLog.findMany({ where: { entityId: payout.id, action: "payout.reversal_capped" }, select: { after: true } }),
    ).toEqual([{ after: { claimAmount: 5_000, notReversed: 3_000 } }]);
    await runRequestedReversals(payout.id);

    const reversed = reversedAtStripe(payout.id);
    expect(reversed).toEqual({ [only.id]: 8_000 });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "reversed", amount: 8_000, reversedAmount: 8_000 });
    await expectNoDebtNorFailedReversal(payout.id);
  });
});
