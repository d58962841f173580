// Found by the simulation (seed 775; invariant I1): a booking's share of 188.00 paid by one charge.
// A refund of 85.27 was pending when the payout fell due, so 102.73 was transferred. The refund
// then failed, and a repayment of 85.27 was asked for. Before it was sent, a Stripe dispute of the
// whole charge was lost: the provider keeps nothing. Its claim reversed the 102.73 there was and
// dropped the other 85.27 as "more than is left to reverse" (reversal_capped), though that money
// was only on its way to the provider: the repayment then sent it, and the provider kept 85.27
// (71.32 in the seed's longer history) the rules did not owe. A loss is now counted in full; what
// the provider does not hold yet is kept from what is on its way to them: a repayment sends only
// what they are still owed, and one already made when the loss came is reversed once it lands.
// Whatever the order, the provider ends with what the rules owe.
import type Stripe from "stripe";
import { expect, it } from "vitest";

import { db } from "@/lib/db";
import { repayProvider } from "@/lib/payouts/repay-provider";

import { afterTransferWorld } from "../../support/after-transfer";
import { payoutOf } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { appEngineHarness, sendProcessed } from "../../support/stripe-webhook";

const h = appEngineHarness();
const world = afterTransferWorld(h);
const { netAtStripe, runPending } = world;

/** The seed's start: 188.00 charged, 85.27 of it refunded (pending) before the transfer, 102.73 transferred; then the refund fails. */
async function transferredThenRefundFailed() {
  let refundId = "";
  const { charge, bookingId, payout } = await world.transferredBooking({
    providerShare: 18_800,
    beforeTransfer: async ({ bookingId, charge }) => {
      refundId = h.fake.refundCharge(charge.id, { amount: 8_527, status: "pending" }).id;
      await sendProcessed(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
      expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 8_527, amount: 10_273 });
    },
  });

  await world.refundFails(refundId);
  const repayment = await db.payoutTransfer.findFirstOrThrow({ where: { payoutId: payout.id, kind: "repayment" } });
  expect(repayment).toMatchObject({ status: "pending", payoutAmount: 8_527 });
  return { charge, bookingId, payout, repayment };
}

/** A Stripe dispute of the whole charge, opened and lost (charge.dispute.created, then charge.dispute.closed). */
async function loseWholeChargeback(charge: Stripe.Charge): Promise<void> {
  const opened = h.fake.disputeCharge(charge.id, { amount: 18_800 });
  await sendProcessed(stripeEvent({ type: "charge.dispute.created", object: opened }));
  await sendProcessed(stripeEvent({ type: "charge.dispute.closed", object: h.fake.setDisputeStatus(opened.id, "lost") }));
}

it("a chargeback of the whole charge lost while the failed refund's repayment waits: the repayment is not sent, the provider keeps nothing", async () => {
  const { charge, bookingId, payout, repayment } = await transferredThenRefundFailed();

  await loseWholeChargeback(charge);
  // All there is at the provider is reversed; the rest of the loss is kept from the repayment on its way, and said so.
  expect(await db.transferReversal.findMany({ where: { payoutId: payout.id }, select: { amount: true, payoutTransferId: true } })).toEqual([
    { amount: 10_273, payoutTransferId: expect.any(String) },
  ]);
  expect(
    await db.auditLog.findMany({ where: { entityId: payout.id, action: "payout.reversal_deferred" }, select: { after: true } }),
  ).toEqual([{ after: { claimAmount: 18_800, reversed: 10_273, deferred: 8_527, onItsWay: 8_527 } }]);
  expect(await db.auditLog.count({ where: { entityId: payout.id, action: "payout.reversal_capped" } })).toBe(0);

  await runPending(payout.id);
  expect(await db.payoutTransfer.findUniqueOrThrow({ where: { id: repayment.id } })).toMatchObject({
    status: "superseded",
    stripeTransferId: null,
  });
  expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([10_273]);
  expect(netAtStripe(payout.id)).toBe(0);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "reversed", amount: 10_273, reversedAmount: 10_273, repaidAmount: 0 });
  expect(await db.providerDebt.count({ where: { payoutId: payout.id } })).toBe(0);
});

it("the repayment was made at Stripe but its answer lost when the chargeback came: once it is recorded, what it overpays is reversed from it", async () => {
  const { charge, bookingId, payout, repayment } = await transferredThenRefundFailed();
  h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "timeout", process: true });
  expect(await repayProvider(h.ctx(), h.stripe, { repaymentId: repayment.id })).toMatchObject({ kind: "retry" });
  expect(await db.payoutTransfer.findUniqueOrThrow({ where: { id: repayment.id } })).toMatchObject({ status: "pending" });
  expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([10_273, 8_527]);

  await loseWholeChargeback(charge);
  await runPending(payout.id);
  // The repayment is found at Stripe and recorded; in the same transaction its 85.27 is asked back.
  expect(await db.payoutTransfer.findUniqueOrThrow({ where: { id: repayment.id } })).toMatchObject({
    status: "succeeded",
    payoutAmount: 8_527,
  });
  const fromRepayment = await db.transferReversal.findFirstOrThrow({ where: { payoutId: payout.id, payoutTransferId: repayment.id } });
  expect(fromRepayment).toMatchObject({ amount: 8_527, status: "pending" });
  await runPending(payout.id);

  expect(netAtStripe(payout.id)).toBe(0);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "reversed", reversedAmount: 18_800 });
  expect(await db.transferReversal.count({ where: { payoutId: payout.id, status: { not: "succeeded" } } })).toBe(0);
  expect(await db.providerDebt.count({ where: { payoutId: payout.id } })).toBe(0);
});

it("the repayment was made before the chargeback: the chargeback reverses it too, and the reversal is recorded", async () => {
  const { charge, bookingId, payout, repayment } = await transferredThenRefundFailed();
  expect(
    (await h.run("repay", { name: "payout/repayment.requested", data: { repaymentId: repayment.id, payoutId: payout.id } })).result,
  ).toMatchObject({
    kind: "repaid",
    amount: 8_527,
  });
  expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", amount: 18_800, refundedAmount: 0 });

  await loseWholeChargeback(charge);
  await runPending(payout.id);

  expect(netAtStripe(payout.id)).toBe(0);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "reversed", amount: 18_800, reversedAmount: 18_800 });
  expect(
    await db.transferReversal.findMany({
      where: { payoutId: payout.id },
      select: { amount: true, status: true },
      orderBy: { amount: "desc" },
    }),
  ).toEqual([
    { amount: 10_273, status: "succeeded" },
    { amount: 8_527, status: "succeeded" },
  ]);
});
