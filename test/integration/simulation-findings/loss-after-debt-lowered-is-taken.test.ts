// Found by the simulation (seed 3419; invariant I1): share 40.37 on a 48.44 charge. A Stripe refund
// of 5.99 (pending) took 4.99 before the transfer, so 35.38 was transferred. A refund of the rest
// of the charge then took all 35.38 after it, but Stripe refused the reversal for lack of balance:
// a debt of 35.38. The 5.99 refund failed, and its give-back of 5.00 lowered the debt to 30.38
// (provider.debt_reduced). Then the booking platform's dispute refunded 40.37: the rules owe
// nothing now, so its loss takes the 5.00 the provider still held. But what the payout's transfer
// had "taken" counted the refused reversal at its full 35.38, not at its debt as lowered since: the
// transfer looked fully taken, nothing was reversed, the 5.00 was "deferred" to money on its way
// that did not exist, and no alert said so (the provider held 0 by that count). A refused reversal
// now counts by its open debt: the 5.00 is reversed (or, refused too, owed as a debt).
import { randomUUID } from "node:crypto";

import { expect, it } from "vitest";

import { db } from "@/lib/db";

import { sendBookingEvent } from "../../support/booking-webhook";
import { HOUR, payoutOf, transferEvent } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { appEngineHarness, sendProcessed } from "../../support/stripe-webhook";

const h = appEngineHarness();

const NO_BALANCE = {
  kind: "error",
  status: 400,
  type: "invalid_request_error",
  code: "balance_insufficient",
  message: "Insufficient funds in the connected account.",
} as const;

/** What the fake Stripe holds for the payout: transferred (payouts and repayments) less reversed. */
function netAtStripe(payoutId: string): number {
  const transfers = h.transfersFor(payoutId);
  const reversed = h.fake.reversals().filter((r) => transfers.some((t) => t.id === r.transfer));
  return transfers.reduce((sum, t) => sum + t.amount, 0) - reversed.reduce((sum, r) => sum + r.amount, 0);
}

async function openDebts(payoutId: string): Promise<number> {
  const debts = await db.providerDebt.aggregate({ where: { payoutId, status: "open" }, _sum: { amount: true } });
  return debts._sum.amount ?? 0;
}

/** Runs the payout's pending reversals as Inngest would (the first `refused` of them refused by Stripe for lack of balance). */
async function runReversals(payoutId: string, refused = 0): Promise<void> {
  for (const r of await db.transferReversal.findMany({ where: { payoutId, status: "pending" }, orderBy: { createdAt: "asc" } })) {
    if (refused-- > 0) h.fake.failNext({ method: "POST", path: /^\/v1\/transfers\/[^/]+\/reversals$/ }, NO_BALANCE);
    expect((await h.run("reverse", { name: "payout/reversal.requested", data: { reversalId: r.id, payoutId } })).error).toBeUndefined();
  }
}

/** Up to the platform's dispute resolving: 35.38 transferred, its reversal refused (a debt), lowered to 30.38 by the failed refund. */
async function debtLoweredByFailedRefund() {
  // 40.37 share + 8.07 fee on a 48.44 charge.
  const charge = h.fake.createCharge({ amount: 4_844, currency: "usd" });
  const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 4_037, stripeChargeId: charge.id });
  const refundA = h.fake.refundCharge(charge.id, { amount: 599, status: "pending" });
  await sendProcessed(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
  h.clock.advance(48 * HOUR + 1);
  const payout = await payoutOf(bookingId);
  expect(payout).toMatchObject({ amount: 3_538 });
  expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });

  const booking = await db.booking.findUniqueOrThrow({ where: { id: bookingId } });
  const disputeId = `dsp_${randomUUID()}`;
  const at = h.clock.now().toISOString();
  expect(
    await sendBookingEvent({
      id: `evt_${disputeId}_opened`,
      type: "dispute.opened",
      createdAt: at,
      data: { disputeId, bookingId: booking.externalId, reason: "service not as described", openedAt: at, scope: "booking" },
    }),
  ).toEqual({ status: 200, body: { received: true } });

  // The rest of the charge is refunded: its reversal of all 35.38 is refused, owed as a debt.
  h.fake.refundCharge(charge.id, { amount: 4_245 });
  await sendProcessed(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
  await runReversals(payout.id, 1);
  expect(await db.providerDebt.findMany({ where: { payoutId: payout.id } })).toMatchObject([{ amount: 3_538, status: "open" }]);

  // The 5.99 refund fails: its give-back of 5.00 lowers the debt.
  await sendProcessed(
    stripeEvent({ type: "refund.failed", object: h.fake.setRefundStatus(refundA.id, "failed", "expired_or_canceled_card") }),
  );
  expect(await db.providerDebt.findMany({ where: { payoutId: payout.id } })).toMatchObject([{ amount: 3_038, status: "open" }]);
  expect(netAtStripe(payout.id) - (await openDebts(payout.id))).toBe(500);

  /** The platform's dispute resolves, refunding the customer 40.37. */
  async function resolve(): Promise<void> {
    const when = h.clock.now().toISOString();
    expect(
      await sendBookingEvent({
        id: `evt_${disputeId}_resolved`,
        type: "dispute.resolved",
        createdAt: when,
        data: { disputeId, bookingId: booking.externalId, resolvedAt: when, outcome: "customer_won", refundedAmount: 4_037 },
      }),
    ).toEqual({ status: 200, body: { received: true } });
  }
  return { bookingId, payout, resolve };
}

it("a loss after a refused reversal's debt was lowered by a failed refund reverses what the provider still holds", async () => {
  const { payout, resolve } = await debtLoweredByFailedRefund();

  await resolve();
  const dispute = await db.dispute.findFirstOrThrow({ where: { bookingId: payout.bookingId, externalId: { not: null } } });
  expect(await db.transferReversal.findMany({ where: { payoutId: payout.id, disputeId: dispute.id } })).toMatchObject([
    { amount: 500, status: "pending" },
  ]);
  expect(await db.auditLog.count({ where: { entityId: payout.id, action: "payout.reversal_deferred" } })).toBe(0);
  await runReversals(payout.id);

  // The rules owe nothing: Stripe's net is all owed back, as the debt of 30.38 and nothing else.
  expect(netAtStripe(payout.id)).toBe(3_038);
  expect(await openDebts(payout.id)).toBe(3_038);
  expect(await payoutOf(payout.bookingId)).toMatchObject({ reversedAmount: 500 });
});

it("a loss after a refused reversal's debt was lowered, whose own reversal is refused too, grows what the provider owes", async () => {
  const { payout, resolve } = await debtLoweredByFailedRefund();

  await resolve();
  await runReversals(payout.id, 1);

  expect(netAtStripe(payout.id)).toBe(3_538);
  expect(await openDebts(payout.id)).toBe(3_538);
  expect(await db.auditLog.count({ where: { entityId: payout.id, action: "payout.reversal_failed" } })).toBe(2);
});
