// Planted-bug guard, class 1: a refund that arrives after the transfer while the reversal an
// earlier refund asked for is still pending (requested, not yet made at Stripe). What is left to
// reverse of a transfer must count that pending reversal, or more is taken back than was paid.
//
// Plants this file was run against (each made the second test fail; the first test cannot tell):
//   - lib/payouts/provider-position.ts `takenFrom`: count only completed reversals
//     (`status: { in: ["succeeded"] }` instead of `["pending", "succeeded"]`).
//   - the same, written as "what is still reversible" without the pending ones
//     (`reversible = transfer.payoutAmount - (succeeded reversals only)`).
// The first test is the plain case (one transfer, two partial refunds): the refunds' steps never add
// up to more than the transfer, so the per-transfer cap is never reached and those plants change
// nothing there; it pins the exact amounts. The second makes the cap bind: the customer paid less
// than the provider's share, so part of the payout came from the platform's balance in a second
// transfer, and the refunds' steps on the charge exceed what the charge's own transfer carried.
import type Stripe from "stripe";
import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";

import { HOUR, payoutOf, transferEvent } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { appEngineHarness, sendProcessed } from "../../support/stripe-webhook";

const h = appEngineHarness();

/** A completed booking paid with a charge of `chargeAmount` at the fake Stripe, transferred 48 h later. */
async function transferredBooking(input: { chargeAmount: number; providerShare: number }) {
  const charge = h.fake.createCharge({ amount: input.chargeAmount, currency: "usd" });
  const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: input.providerShare, stripeChargeId: charge.id });
  h.clock.advance(48 * HOUR + 1_000);
  const payout = await payoutOf(bookingId);
  expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });
  return { charge, bookingId, payout: await payoutOf(bookingId) };
}

/** Refunds `amount` of the charge at the fake Stripe and sends Stripe's charge.refunded, signed, to the webhook. */
async function refund(chargeId: string, amount: number): Promise<Stripe.Refund> {
  const made = h.fake.refundCharge(chargeId, { amount });
  await sendProcessed(stripeEvent({ type: "charge.refunded", object: h.fake.charge(chargeId) }));
  return made;
}

/** The reversals the app asked the engine for (payout/reversal.requested, in the outbox), each run once now. */
async function runRequestedReversals(payoutId: string): Promise<void> {
  const requested = await db.outboxEvent.findMany({ where: { name: "payout/reversal.requested" }, orderBy: { createdAt: "asc" } });
  for (const { data } of requested) {
    const { reversalId, payoutId: of } = data as { reversalId: string; payoutId: string };
    if (of === payoutId) await h.run("reverse", { name: "payout/reversal.requested", data: { reversalId, payoutId } });
  }
}

/** What the fake Stripe reversed of each of the payout's transfers, by transfer id. */
function reversedAtStripe(payoutId: string): Map<string, number> {
  const byTransfer = new Map<string, number>();
  for (const t of h.transfersFor(payoutId)) byTransfer.set(t.id, 0);
  for (const r of h.fake.reversals()) {
    const transferId = typeof r.transfer === "string" ? r.transfer : r.transfer.id;
    if (byTransfer.has(transferId)) byTransfer.set(transferId, byTransfer.get(transferId)! + r.amount);
  }
  return byTransfer;
}

const sum = (values: Iterable<number>) => [...values].reduce((a, b) => a + b, 0);

async function expectNothingOwedOrAlerted(payoutId: string) {
  expect(await db.providerDebt.findMany({ where: { payoutId } })).toEqual([]);
  expect(await db.transferReversal.count({ where: { payoutId, status: "failed" } })).toBe(0);
  expect(await db.alert.findMany({ where: { payoutId }, select: { kind: true } })).toEqual([]);
}

describe("a second refund while the first refund's reversal is still pending", () => {
  it("one transfer: the two reversals add up to the provider's part of both refunds", async () => {
    // The customer paid 100.00; 80.00 of it is the provider's, transferred.
    const { charge, bookingId, payout } = await transferredBooking({ chargeAmount: 10_000, providerShare: 8_000 });
    expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([8_000]);

    // 25.00 refunded: the provider's part is 20.00; its reversal is requested, not yet made.
    await refund(charge.id, 2_500);
    expect(
      await db.transferReversal.findMany({ where: { payoutId: payout.id }, select: { amount: true, status: true, sentAt: true } }),
    ).toEqual([{ amount: 2_000, status: "pending", sentAt: null }]);
    expect(h.fake.reversals()).toEqual([]);

    // 50.00 more before the reversal function ran: 75.00 in all, the provider's part 60.00, so 40.00 more.
    await refund(charge.id, 5_000);
    expect(
      (
        await db.transferReversal.findMany({
          where: { payoutId: payout.id },
          orderBy: { createdAt: "asc" },
          select: { amount: true, status: true },
        })
      ).map((r) => [r.amount, r.status]),
    ).toEqual([
      [2_000, "pending"],
      [4_000, "pending"],
    ]);

    await runRequestedReversals(payout.id);
    const reversed = reversedAtStripe(payout.id);
    expect(sum(reversed.values())).toBe(6_000);
    expect(sum(reversed.values())).toBeLessThanOrEqual(8_000);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "partially_reversed", reversedAmount: 6_000, amount: 8_000 });
    await expectNothingOwedOrAlerted(payout.id);
  });

  it("two transfers (charge and balance): the charge's transfer is never reversed beyond what it carried", async () => {
    // The customer paid 50.00 (a discount the platform funds); the provider's share is 80.00. Stripe
    // caps a transfer from a charge at the charge, so 50.00 goes from the charge and 30.00 from the
    // platform's balance.
    const { charge, bookingId, payout } = await transferredBooking({ chargeAmount: 5_000, providerShare: 8_000 });
    const transfers = h.transfersFor(payout.id);
    expect(transfers.map((t) => [t.amount, t.source_transaction])).toEqual([
      [5_000, charge.id],
      [3_000, null],
    ]);
    const [fromCharge, fromBalance] = transfers as [Stripe.Transfer, Stripe.Transfer];

    // Half the charge refunded: the provider's part is 25.00 × 80 / 50 = 40.00, reversed from the charge's transfer (pending).
    await refund(charge.id, 2_500);
    expect(
      await db.transferReversal.findMany({ where: { payoutId: payout.id }, select: { amount: true, status: true, sentAt: true } }),
    ).toEqual([{ amount: 4_000, status: "pending", sentAt: null }]);

    // The rest refunded before the reversal function ran: 40.00 more. Only 10.00 is left of the
    // charge's transfer once the pending 40.00 counts; the other 30.00 comes from the balance's transfer.
    await refund(charge.id, 2_500);
    const rows = await db.transferReversal.findMany({
      where: { payoutId: payout.id },
      orderBy: { createdAt: "asc" },
      select: { amount: true, transferAmount: true, status: true, payoutTransfer: { select: { stripeTransferId: true } } },
    });
    expect(rows.map((r) => [r.payoutTransfer?.stripeTransferId, r.amount])).toEqual([
      [fromCharge.id, 4_000],
      [fromCharge.id, 1_000],
      [fromBalance.id, 3_000],
    ]);

    await runRequestedReversals(payout.id);
    const reversed = reversedAtStripe(payout.id);
    // Exactly the provider's part of both refunds (all 80.00), and no transfer beyond its own amount.
    expect(Object.fromEntries(reversed)).toEqual({ [fromCharge.id]: 5_000, [fromBalance.id]: 3_000 });
    expect(sum(reversed.values())).toBe(8_000);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "reversed", reversedAmount: 8_000, amount: 8_000 });
    expect(await db.transferReversal.findMany({ where: { payoutId: payout.id, status: { not: "succeeded" } } })).toEqual([]);
    await expectNothingOwedOrAlerted(payout.id);
  });
});
