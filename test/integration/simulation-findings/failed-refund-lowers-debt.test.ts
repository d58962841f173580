// Found by the simulation (seed 64; invariant I1): after the transfer, refund A (pending, 34.56)
// asked for a reversal Stripe refused for lack of balance (a debt of 25.92, the provider's 75 %),
// refund B (24.39) asked for a reversal of 18.29 not sent yet, then refund A failed. Giving back
// 25.92 cancelled the unsent 18.29 and left 7.63 that no whole debt fitted: it was "repaid" with
// a repayment that sends only what reversals took (nothing), so the debt stayed at 25.92 though
// the refunds now take 18.29. The rest now lowers the debt: 18.29 owed, nothing sent.
import { expect, it } from "vitest";

import { db } from "@/lib/db";

import { HOUR, payoutOf, transferEvent } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { appEngineHarness, sendProcessed } from "../../support/stripe-webhook";

const h = appEngineHarness();

it("a failed refund whose share was owed as a debt lowers the debt by what is left after cancelling unsent reversals", async () => {
  // 162.00 share + 54.00 fee on a 216.00 charge: the provider bears 75 % of refunds.
  const charge = h.fake.createCharge({ amount: 21_600, currency: "usd" });
  const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 16_200, stripeChargeId: charge.id });
  h.clock.advance(48 * HOUR + 1);
  const payout = await payoutOf(bookingId);
  expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });

  // Refund A, pending: its reversal of 25.92 is refused for lack of balance and owed as a debt.
  const refundA = h.fake.refundCharge(charge.id, { amount: 3_456, status: "pending" });
  await sendProcessed(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
  const first = await db.transferReversal.findFirstOrThrow({ where: { payoutId: payout.id } });
  expect(first.amount).toBe(2_592);
  h.fake.failNext(
    { method: "POST", path: /^\/v1\/transfers\/[^/]+\/reversals$/ },
    {
      kind: "error",
      status: 400,
      type: "invalid_request_error",
      code: "balance_insufficient",
      message: "Insufficient funds in the connected account.",
    },
  );
  await h.run("reverse", { name: "payout/reversal.requested", data: { reversalId: first.id, payoutId: payout.id } });
  expect(await db.providerDebt.findMany({ where: { payoutId: payout.id } })).toMatchObject([{ amount: 2_592, status: "open" }]);

  // Refund B, succeeded: a reversal of its 18.29 share, not sent yet.
  h.fake.refundCharge(charge.id, { amount: 2_439 });
  await sendProcessed(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));

  // Refund A fails: 25.92 comes back to the provider.
  const failed = h.fake.setRefundStatus(refundA.id, "failed", "expired_or_canceled_card");
  await sendProcessed(stripeEvent({ type: "refund.failed", object: failed }));

  const debts = await db.providerDebt.findMany({ where: { payoutId: payout.id } });
  expect(debts).toMatchObject([{ amount: 1_829, status: "open" }]);
  expect(await db.transferReversal.findMany({ where: { payoutId: payout.id, status: "pending" } })).toEqual([]);
  expect(await db.payoutTransfer.count({ where: { payoutId: payout.id, kind: "repayment" } })).toBe(0);
  expect(h.fake.reversals()).toEqual([]);
  expect(await db.auditLog.count({ where: { entityId: payout.id, action: "provider.debt_reduced" } })).toBe(1);
  // What Stripe holds for the provider less what they owe is what the rules leave them.
  expect(16_200 - debts[0]!.amount).toBe(16_200 - Math.floor((2_439 * 16_200) / 21_600));
});
