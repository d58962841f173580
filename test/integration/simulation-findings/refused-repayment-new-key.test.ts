// Found by the simulation (seed 299; invariant I1): a full refund after the transfer was reversed,
// then the refund failed and a repayment was asked for while the platform's balance was empty.
// Stripe refused it and kept that answer under the repayment's idempotency key; every later try
// (Inngest's retries, the sweep's re-requests, after the balance was back) replayed the refusal,
// so the provider was never repaid. A refusal now
// moves the repayment to a new key: the next try after the funds are back repays, once.
import { expect, it } from "vitest";

import { db } from "@/lib/db";

import { HOUR, payoutOf, transferEvent } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { appEngineHarness, sendProcessed } from "../../support/stripe-webhook";

const h = appEngineHarness();

it("a repayment Stripe refused for lack of funds is made with a new key once the funds are back, exactly once", async () => {
  const charge = h.fake.createCharge({ amount: 10_000, currency: "usd" });
  const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge.id });
  h.clock.advance(48 * HOUR + 1);
  const payout = await payoutOf(bookingId);
  expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });

  const refund = h.fake.refundCharge(charge.id, { amount: 10_000, status: "pending" });
  await sendProcessed(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
  const reversal = await db.transferReversal.findFirstOrThrow({ where: { payoutId: payout.id } });
  await h.run("reverse", { name: "payout/reversal.requested", data: { reversalId: reversal.id, payoutId: payout.id } });
  expect(await payoutOf(bookingId)).toMatchObject({ status: "reversed", reversedAmount: 8_000 });

  await sendProcessed(
    stripeEvent({ type: "refund.failed", object: h.fake.setRefundStatus(refund.id, "failed", "expired_or_canceled_card") }),
  );
  const repayment = await db.payoutTransfer.findFirstOrThrow({ where: { payoutId: payout.id, kind: "repayment" } });
  const repay = { name: "payout/repayment.requested", data: { repaymentId: repayment.id, payoutId: payout.id } };

  // The platform's balance is empty: Stripe refuses, and keeps that answer under the key.
  const balance = h.fake.balance("usd");
  h.fake.setBalance("usd", 0);
  await h.run("repay", repay);
  expect(await db.payoutTransfer.findUniqueOrThrow({ where: { id: repayment.id } })).toMatchObject({ status: "pending", refusals: 1 });

  // Funds are back; the sweep's next request repays with the new key, and a second run changes nothing.
  h.fake.setBalance("usd", balance);
  h.clock.advance(HOUR);
  expect((await h.run("repay", repay)).result).toMatchObject({ kind: "repaid", amount: 8_000 });
  expect((await h.run("repay", repay)).result).toMatchObject({ kind: "already_done" });
  const repaid = h.fake.transfers().filter((t) => t.metadata?.repaymentOf !== undefined && t.metadata.payoutId === payout.id);
  expect(repaid.map((t) => t.amount)).toEqual([8_000]);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", reversedAmount: 8_000, repaidAmount: 8_000 });
  const posts = h.fake
    .requests()
    .filter((r) => r.method === "POST" && r.path === "/v1/transfers" && r.params["metadata[repaymentOf]"] !== undefined);
  expect(new Set(posts.map((r) => r.idempotencyKey)).size).toBe(2);
});
