// Found by the simulation (seed 1279; invariant I1): the booking platform resolved a dispute with a
// partial refund of 78.49 on a 160.00 share, so 81.51 was transferred. Then a Stripe refund of the
// whole charge came (pending): it takes the provider's whole portion, but only the 81.51 that was
// transferred was left to reverse ("reversal capped"). The refund then failed, and its step down
// of 160.00 gave back 160.00: the unsent reversal of 81.51 was cancelled and the other 78.49, never
// taken by that refund, was repaid. The platform's refund was undone, and the provider held 160.00
// where the rules owe 81.51. A failed refund now gives back only what the losses together stop
// taking: min(share + tips, losses before) − min(share + tips, losses after).
import { expect, it } from "vitest";

import { db } from "@/lib/db";
import { addTip } from "@/lib/tips/add-tip";

import { afterTransferWorld } from "../../support/after-transfer";
import { payoutOf } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { appEngineHarness, sendProcessed } from "../../support/stripe-webhook";

const h = appEngineHarness();
const { transferredBooking, platformDisputeRefunds, refundFails, netAtStripe, runPending } = afterTransferWorld(h);

it("a full Stripe refund that fails after the platform's partial dispute refund gives back only what it took (reversal not sent yet)", async () => {
  const { charge, bookingId, payout } = await transferredBooking({
    providerShare: 16_000,
    beforeTransfer: ({ bookingId }) => platformDisputeRefunds(bookingId, 7_849, "both"),
  });
  expect(payout).toMatchObject({ refundedAmount: 7_849, amount: 8_151 });

  // The whole charge is refunded (pending): only the 81.51 transferred is left to reverse.
  const refund = h.fake.refundCharge(charge.id, { amount: 16_000, status: "pending" });
  await sendProcessed(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
  expect(await db.transferReversal.findMany({ where: { payoutId: payout.id } })).toMatchObject([
    { amount: 8_151, status: "pending", sentAt: null },
  ]);

  // It fails before the reversal is sent: cancelling that reversal gives back all the refund took.
  await refundFails(refund.id);

  expect(await db.transferReversal.findMany({ where: { payoutId: payout.id } })).toMatchObject([{ amount: 8_151, status: "canceled" }]);
  expect(await db.payoutTransfer.count({ where: { payoutId: payout.id, kind: "repayment" } })).toBe(0);
  expect(await payoutOf(bookingId)).toMatchObject({
    status: "transferred",
    refundedAmount: 7_849,
    amount: 8_151,
    reversedAmount: 0,
    repaidAmount: 0,
  });
  expect(netAtStripe(payout.id)).toBe(16_000 - 7_849);
  // The part of the step down the refund never took is said, in the same transaction.
  expect(
    await db.auditLog.findMany({ where: { entityId: payout.id, action: "payout.give_back_capped" }, select: { after: true } }),
  ).toEqual([{ after: { chargeRefundId: expect.any(String), stepDown: 16_000, givenBack: 8_151, notGivenBack: 7_849 } }]);
});

it("a refund that fails after its capped reversal was made repays only what the reversal took, not the platform's refund nor an earlier refund that stands", async () => {
  // The seed's whole history: 160.00 share, a 17.00 tip with no charge, a Stripe refund of 54.27
  // that succeeds and the platform's 78.49 before the transfer (44.24 transferred); then a refund
  // of the rest of the charge (105.73), reversed (44.24, all that is left), fails.
  const { charge, bookingId, payout } = await transferredBooking({
    providerShare: 16_000,
    beforeTransfer: async ({ bookingId, charge }) => {
      await addTip(h.ctx(), {
        tipExternalId: `tip_${bookingId.slice(0, 8)}`,
        bookingId,
        amount: 1_700,
        currency: "USD",
        tippedAt: h.clock.now(),
      });
      h.fake.refundCharge(charge.id, { amount: 5_427 });
      await sendProcessed(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
      await platformDisputeRefunds(bookingId, 7_849, "both");
    },
  });
  expect(payout).toMatchObject({ tipAmount: 1_700, refundedAmount: 5_427 + 7_849, amount: 4_424 });

  const refund = h.fake.refundCharge(charge.id, { amount: 10_573, status: "pending" });
  await sendProcessed(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
  const reversal = await db.transferReversal.findFirstOrThrow({ where: { payoutId: payout.id } });
  expect(reversal.amount).toBe(4_424);
  await runPending(payout.id);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "reversed", reversedAmount: 4_424 });

  await refundFails(refund.id);
  const repayment = await db.payoutTransfer.findFirstOrThrow({ where: { payoutId: payout.id, kind: "repayment" } });
  expect(repayment.payoutAmount).toBe(4_424);
  expect(
    (await h.run("repay", { name: "payout/repayment.requested", data: { repaymentId: repayment.id, payoutId: payout.id } })).result,
  ).toMatchObject({ kind: "repaid", amount: 4_424 });

  // Owed: 160.00 + 17.00 − 54.27 (the refund that stands) − 78.49 (the platform's) = 44.24.
  expect(netAtStripe(payout.id)).toBe(4_424);
  expect(await payoutOf(bookingId)).toMatchObject({
    status: "transferred",
    refundedAmount: 5_427 + 7_849,
    amount: 4_424,
    reversedAmount: 4_424,
    repaidAmount: 4_424,
  });
});
