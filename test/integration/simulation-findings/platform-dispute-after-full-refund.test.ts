// Reported by a colleague (the same cause as seed 775): a payout of 160.00 was transferred; a full
// Stripe refund reversed all of it; then the booking platform resolved a dispute with a partial
// refund of 50.00. Its claim found nothing left to reverse and waited, with no record and no
// audit entry, uncounted. The Stripe refund then failed and the whole 160.00 was repaid: the
// platform's refund was never taken back (the provider held 160.00, owed 110.00). When something
// later touched the booking, the waiting claim was reversed from the repayment at Stripe, but the
// check `Payout_reversed_within_amount` (reversed ≤ amount) refused to record it: the reversal
// stayed pending with no Stripe id and its run errored. The same check refused any reversal of a
// repayment (a refund, its failure and repayment, then another refund).
//
// Now a loss is counted in full when it is settled, whether or not anything is left to reverse:
// the part beyond share + tips was never paid, is never taken and is said (reversal_capped); a
// failed refund gives back only what it took (refundGivenBack). And what the provider lost after
// the transfer is reversed − repaid: the check bounds that by the payout's amount.
import { expect, it } from "vitest";

import { db } from "@/lib/db";
import { refreshPayout } from "@/lib/payouts/refresh-payout";

import { afterTransferWorld } from "../../support/after-transfer";
import { payoutOf } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { appEngineHarness, sendProcessed } from "../../support/stripe-webhook";

const h = appEngineHarness();
const { transferredBooking, platformDisputeRefunds, refundFails, netAtStripe, runPending } = afterTransferWorld(h);

/** 160.00 transferred, then the whole charge refunded (pending) and that reversed at Stripe. */
async function transferredThenFullyRefunded() {
  const { charge, bookingId, payout } = await transferredBooking({ providerShare: 16_000 });
  const refund = h.fake.refundCharge(charge.id, { amount: 16_000, status: "pending" });
  await sendProcessed(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
  await runPending(payout.id);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "reversed", reversedAmount: 16_000 });
  return { charge, bookingId, payout, refund };
}

it("the platform's dispute refund after a full refund reversed everything is counted at once, and the refund's failure gives back only the rest", async () => {
  const { bookingId, payout, refund } = await transferredThenFullyRefunded();

  await platformDisputeRefunds(bookingId, 5_000);
  // Nothing is left to reverse, and the refunds already take all of the share: the claim is closed,
  // counted, and said in the delivery's own transaction.
  const dispute = await db.dispute.findFirstOrThrow({ where: { bookingId, externalId: { not: null } } });
  expect(dispute.refundAppliedAt).not.toBeNull();
  expect(await db.transferReversal.count({ where: { payoutId: payout.id, disputeId: dispute.id } })).toBe(0);
  expect(await db.auditLog.findMany({ where: { entityId: payout.id, action: "payout.reversal_capped" }, select: { after: true } })).toEqual(
    [{ after: { claimAmount: 5_000, notReversed: 5_000 } }],
  );

  await refundFails(refund.id);
  const repayment = await db.payoutTransfer.findFirstOrThrow({ where: { payoutId: payout.id, kind: "repayment" } });
  expect(repayment.payoutAmount).toBe(11_000);
  expect(
    await db.auditLog.findMany({ where: { entityId: payout.id, action: "payout.give_back_capped" }, select: { after: true } }),
  ).toEqual([{ after: { chargeRefundId: expect.any(String), stepDown: 16_000, givenBack: 11_000, notGivenBack: 5_000 } }]);
  await runPending(payout.id);

  // Owed: 160.00 − 50.00, the platform's refund that stands.
  expect(netAtStripe(payout.id)).toBe(11_000);
  expect(await payoutOf(bookingId)).toMatchObject({
    status: "partially_reversed",
    amount: 16_000,
    reversedAmount: 16_000,
    repaidAmount: 11_000,
  });

  // A later touch of the booking finds nothing left to do.
  await refreshPayout(h.ctx(), { bookingId });
  await runPending(payout.id);
  expect(netAtStripe(payout.id)).toBe(11_000);
  expect(await db.transferReversal.count({ where: { payoutId: payout.id, status: { not: "succeeded" } } })).toBe(0);
});

it("the platform's dispute refund after the refund failed and was repaid is reversed from the repayment, and recorded", async () => {
  const { bookingId, payout, refund } = await transferredThenFullyRefunded();
  await refundFails(refund.id);
  await runPending(payout.id);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", reversedAmount: 16_000, repaidAmount: 16_000 });

  await platformDisputeRefunds(bookingId, 5_000);
  await runPending(payout.id);

  expect(netAtStripe(payout.id)).toBe(11_000);
  expect(await payoutOf(bookingId)).toMatchObject({
    status: "partially_reversed",
    amount: 16_000,
    reversedAmount: 21_000,
    repaidAmount: 16_000,
  });
  expect(
    await db.transferReversal.findMany({
      where: { payoutId: payout.id },
      select: { amount: true, status: true, stripeReversalId: true },
      orderBy: { createdAt: "asc" },
    }),
  ).toEqual([
    { amount: 16_000, status: "succeeded", stripeReversalId: expect.any(String) },
    { amount: 5_000, status: "succeeded", stripeReversalId: expect.any(String) },
  ]);
});

it("the platform's dispute refund after the refund failed, its repayment not sent yet: the repayment sends only what is still owed", async () => {
  const { bookingId, payout, refund } = await transferredThenFullyRefunded();
  await refundFails(refund.id);
  const repayment = await db.payoutTransfer.findFirstOrThrow({ where: { payoutId: payout.id, kind: "repayment" } });
  expect(repayment).toMatchObject({ status: "pending", payoutAmount: 16_000 });

  await platformDisputeRefunds(bookingId, 5_000);
  await runPending(payout.id);

  expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([16_000, 11_000]);
  expect(netAtStripe(payout.id)).toBe(11_000);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "partially_reversed", reversedAmount: 16_000, repaidAmount: 11_000 });
  expect(
    await db.auditLog.findMany({ where: { entityId: payout.id, action: "payout.repayment_reduced" }, select: { after: true } }),
  ).toEqual([{ after: { repaymentId: repayment.id, requested: 16_000, amount: 11_000, currency: "USD" } }]);
});

it("a second Stripe refund after the first failed and was repaid is reversed from the repayment, and recorded", async () => {
  const { charge, bookingId, payout, refund } = await transferredThenFullyRefunded();
  await refundFails(refund.id);
  await runPending(payout.id);

  h.fake.refundCharge(charge.id, { amount: 5_000 });
  await sendProcessed(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
  await runPending(payout.id);

  expect(netAtStripe(payout.id)).toBe(11_000);
  expect(await payoutOf(bookingId)).toMatchObject({
    status: "partially_reversed",
    amount: 16_000,
    reversedAmount: 21_000,
    repaidAmount: 16_000,
  });
  expect(await db.transferReversal.count({ where: { payoutId: payout.id, status: { not: "succeeded" } } })).toBe(0);
});
