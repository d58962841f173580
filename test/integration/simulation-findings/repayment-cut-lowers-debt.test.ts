// Found by the simulation (seed 63596; invariant I1, one cent): a share of 130.00 and a fee of
// 26.00 on a 156.00 charge. A refund of 49.33 was pending before the transfer, which took the
// provider's 41.10 off the payout: 88.90 was transferred. A refund of the rest of the charge
// (106.67) asked for a reversal of 88.90, not sent yet, when the first refund failed. The refunds
// now take floor(106.67 × 130 / 156) = 88.89, so 41.11 comes back to the provider: too little to
// cancel the 88.90, it became a repayment of 41.11. Stripe then refused the reversal (a debt of
// 88.90), and the repayment could send only the 41.10 anything took (the refund before the
// transfer): the cent left over was dropped, so the provider held 130.00, owed 88.90 and was owed
// 41.11. What a repayment cannot send because nothing took it now lowers the charge's open debt,
// as a give-back does when the debt is there first (failed-refund-lowers-debt.test.ts).
import { expect, it } from "vitest";

import { db } from "@/lib/db";

import { afterTransferWorld } from "../../support/after-transfer";
import { HOUR, payoutOf, transferEvent } from "../../support/engine";
import { appEngineHarness } from "../../support/stripe-webhook";

const h = appEngineHarness();
const world = afterTransferWorld(h);

const REFUSED_FOR_BALANCE = {
  kind: "error",
  status: 400,
  type: "invalid_request_error",
  code: "balance_insufficient",
  message: "The connected account has insufficient funds to cover this reversal.",
} as const;

it("the part of a failed refund's repayment that nothing took lowers the debt Stripe's refusal left, to the cent", async () => {
  const charge = h.fake.createCharge({ amount: 15_600, currency: "usd" });
  const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 13_000, stripeChargeId: charge.id });
  const refundA = await world.refundCharge(charge.id, 4_933, "pending");
  expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 4_110, amount: 8_890 });
  h.clock.advance(48 * HOUR + 1);
  const payout = await payoutOf(bookingId);
  expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });

  // The rest of the charge is refunded: a reversal of 88.90, not sent yet.
  await world.refundCharge(charge.id, 10_667, "pending");
  const reversal = await db.transferReversal.findFirstOrThrow({ where: { payoutId: payout.id } });
  expect(reversal).toMatchObject({ amount: 8_890, status: "pending", sentAt: null });

  // The first refund fails: 41.11 comes back, too little to cancel the reversal.
  await world.refundFails(refundA.id);
  const repayment = await db.payoutTransfer.findFirstOrThrow({ where: { payoutId: payout.id, kind: "repayment" } });
  expect(repayment).toMatchObject({ status: "pending", payoutAmount: 4_111 });

  // Stripe refuses the reversal: owed as a debt of 88.90. Then the repayment goes out.
  h.fake.failNext({ method: "POST", path: /^\/v1\/transfers\/[^/]+\/reversals$/ }, REFUSED_FOR_BALANCE);
  await world.runPending(payout.id);

  expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([8_890, 4_110]);
  const debts = await db.providerDebt.findMany({ where: { payoutId: payout.id } });
  expect(debts).toMatchObject([{ amount: 8_889, status: "open" }]);
  expect(
    await db.auditLog.findMany({ where: { entityId: payout.id, action: "provider.debt_reduced" }, select: { before: true, after: true } }),
  ).toEqual([
    {
      before: { debtId: debts[0]!.id, amount: 8_890, currency: "USD" },
      after: { debtId: debts[0]!.id, amount: 8_889, currency: "USD", repaymentId: repayment.id },
    },
  ]);
  // What Stripe holds for the provider less what they owe is what the rules leave them.
  expect(world.netAtStripe(payout.id) - debts[0]!.amount).toBe(13_000 - Math.floor((10_667 * 13_000) / 15_600));
});
