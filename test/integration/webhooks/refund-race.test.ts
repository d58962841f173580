// Review: a Stripe refund that fails while the reversal recovering it is in flight (sent once,
// Stripe's answer a 5xx, its retry still to come). The failure cannot cancel the reversal (it was
// sent), so it asks for a repayment; when the reversal's retry is then refused for lack of
// balance, the provider is recorded as owing the refund's part. The refund failed: the provider
// owes nothing, and nothing is paid to them either.
import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";

import { HOUR, payoutOf, transferEvent } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { sendProcessed, appEngineHarness } from "../../support/stripe-webhook";

const h = appEngineHarness();

const send = sendProcessed;

const REVERSALS = /\/v1\/transfers\/.+\/reversals/;

/** A transferred payout (80.00 of a 100.00 charge), a 25.00 refund on it whose reversal's first try got a 503, and then the refund failed. */
async function refundFailedWhileReversing() {
  const charge = h.fake.createCharge({ amount: 10_000, currency: "usd" });
  const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge.id });
  h.clock.advance(48 * HOUR + 1);
  const payout = await payoutOf(bookingId);
  expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });

  // 25.00 refunded after the transfer: 20.00 of it is the provider's, to be reversed.
  const refund = h.fake.refundCharge(charge.id, { amount: 2_500 });
  await send(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
  const [reversal] = await db.transferReversal.findMany({ where: { payoutId: payout.id } });
  expect(reversal).toMatchObject({ amount: 2_000, status: "pending" });

  // Its first try is sent and answered 503: it stays pending, sent, for Inngest's retry.
  h.fake.failNext({ method: "POST", path: REVERSALS }, { kind: "status", status: 503 });
  const reverse = { name: "payout/reversal.requested", data: { reversalId: reversal!.id, payoutId: payout.id } };
  expect((await h.run("reverse", reverse)).error).toBeDefined();
  expect(await db.transferReversal.findUniqueOrThrow({ where: { id: reversal!.id } })).toMatchObject({
    status: "pending",
    sentAt: expect.any(Date),
  });

  // Meanwhile the refund fails: the sent reversal cannot be cancelled; a repayment is asked for.
  const failed = h.fake.setRefundStatus(refund.id, "failed", "expired_or_canceled_card");
  await send(stripeEvent({ type: "refund.failed", object: failed }));
  const repayments = await db.payoutTransfer.findMany({ where: { payoutId: payout.id, kind: "repayment" } });
  expect(repayments).toMatchObject([{ status: "pending", payoutAmount: 2_000 }]);
  const repay = { name: "payout/repayment.requested", data: { repaymentId: repayments[0]!.id, payoutId: payout.id } };
  return { bookingId, payout, reverse, repay };
}

describe("a refund that fails while its reversal is in flight", () => {
  it("the reversal then refused for lack of balance leaves no debt and pays nothing back", async () => {
    const { bookingId, payout, reverse, repay } = await refundFailedWhileReversing();

    // The reversal's retry is refused: the connected account has no balance.
    h.fake.failNext(
      { method: "POST", path: REVERSALS },
      {
        kind: "error",
        status: 400,
        type: "invalid_request_error",
        code: "balance_insufficient",
        message: "Insufficient funds in the connected account.",
      },
    );
    expect((await h.run("reverse", reverse)).result).toMatchObject({ kind: "failed", debtRecorded: true });

    // The repayment runs after it.
    expect((await h.run("repay", repay)).result).toMatchObject({ kind: "nothing_to_repay" });

    // Nothing was taken and the refund failed: the provider owes nothing and is paid nothing more.
    expect(h.fake.reversals().filter((r) => r.transfer === h.transfersFor(payout.id)[0]!.id)).toEqual([]);
    expect(h.transfersFor(payout.id)).toHaveLength(1);
    expect(await db.providerDebt.findMany({ where: { payoutId: payout.id } })).toMatchObject([{ amount: 2_000, status: "written_off" }]);
    expect(await db.auditLog.count({ where: { entityId: payout.id, action: "provider.debt_forgiven" } })).toBe(1);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", amount: 8_000, reversedAmount: 0, repaidAmount: 0 });
  });

  it("the reversal then made is repaid once, in full", async () => {
    const { bookingId, payout, reverse, repay } = await refundFailedWhileReversing();
    expect((await h.run("reverse", reverse)).result).toMatchObject({ kind: "reversed" });
    expect((await h.run("repay", repay)).result).toMatchObject({ kind: "repaid", amount: 2_000 });
    expect(h.transfersFor(payout.id)).toHaveLength(2);
    expect(await db.providerDebt.count({ where: { payoutId: payout.id } })).toBe(0);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", amount: 8_000, reversedAmount: 2_000, repaidAmount: 2_000 });
  });
});

describe("a refund that fails while its reversal is being claimed for sending", () => {
  it("a reversal claimed while the failure cancels unsent ones is not cancelled: made at Stripe, it is recorded and repaid", async () => {
    const charge = h.fake.createCharge({ amount: 10_000, currency: "usd" });
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge.id });
    h.clock.advance(48 * HOUR + 1);
    const payout = await payoutOf(bookingId);
    expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });
    const refund = h.fake.refundCharge(charge.id, { amount: 2_500 });
    await send(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
    const [reversal] = await db.transferReversal.findMany({ where: { payoutId: payout.id } });
    expect(reversal).toMatchObject({ amount: 2_000, status: "pending", sentAt: null });

    // Something holds the reversal's row for a moment: its run's claim (marking it sent) waits on
    // it first, then the refund failure's cancellation of unsent reversals (which read it unsent).
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const holder = db.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM "TransferReversal" WHERE id = ${reversal!.id}::uuid FOR UPDATE`;
        await released;
      },
      { timeout: 20_000 },
    );
    const waiting = async (count: number) => {
      for (let i = 0; i < 200; i++) {
        const rows = await db.$queryRaw<
          { n: bigint }[]
        >`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%"TransferReversal"%'`;
        if (Number(rows[0]!.n) >= count) return;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`fewer than ${count} wait on the reversal`);
    };
    const reverse = { name: "payout/reversal.requested", data: { reversalId: reversal!.id, payoutId: payout.id } };
    const reversing = h.run("reverse", reverse);
    await waiting(1);
    const failed = h.fake.setRefundStatus(refund.id, "failed", "expired_or_canceled_card");
    const failing = send(stripeEvent({ type: "refund.failed", object: failed }));
    await waiting(2);
    release();
    await holder;
    await failing;
    const reversed = await reversing;
    expect(reversed.result).toMatchObject({ kind: "reversed" });

    // Stripe made the reversal: it is recorded as such, and what it took is repaid once.
    const made = h.fake.reversals().filter((r) => r.transfer === h.transfersFor(payout.id)[0]!.id);
    expect(made.map((r) => r.amount)).toEqual([2_000]);
    expect(await db.transferReversal.findUniqueOrThrow({ where: { id: reversal!.id } })).toMatchObject({
      status: "succeeded",
      stripeReversalId: made[0]!.id,
    });
    const repayments = await db.payoutTransfer.findMany({ where: { payoutId: payout.id, kind: "repayment" } });
    expect(repayments).toHaveLength(1);
    expect(
      (await h.run("repay", { name: "payout/repayment.requested", data: { repaymentId: repayments[0]!.id, payoutId: payout.id } })).result,
    ).toMatchObject({
      kind: "repaid",
      amount: 2_000,
    });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", reversedAmount: 2_000, repaidAmount: 2_000 });
  });
});

describe("a refund taken before the transfer that fails after it", () => {
  it("the provider is paid what the failed refund had taken from the payout, once", async () => {
    const charge = h.fake.createCharge({ amount: 10_000, currency: "usd" });
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge.id });
    // 25.00 refunded before the transfer: the payout drops by the provider's 20.00.
    const refund = h.fake.refundCharge(charge.id, { amount: 2_500 });
    await send(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
    expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 2_000, amount: 6_000 });
    h.clock.advance(48 * HOUR + 1);
    const payout = await payoutOf(bookingId);
    expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });
    expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([6_000]);

    // Days later the refund fails: the customer keeps nothing, the provider is owed the 20.00.
    await send(stripeEvent({ type: "refund.failed", object: h.fake.setRefundStatus(refund.id, "failed", "expired_or_canceled_card") }));
    const repayments = await db.payoutTransfer.findMany({ where: { payoutId: payout.id, kind: "repayment" } });
    for (const r of repayments)
      await h.run("repay", { name: "payout/repayment.requested", data: { repaymentId: r.id, payoutId: payout.id } });
    await h.run("reconcile", null);

    await h.run("reconcile", null);

    // One repayment of 20.00: the provider has the 80.00 the booking paid, and the payout says so.
    expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([6_000, 2_000]);
    expect(h.fake.reversals().filter((r) => r.transfer === h.transfersFor(payout.id)[0]!.id)).toEqual([]);
    expect(await payoutOf(bookingId)).toMatchObject({
      status: "transferred",
      refundedAmount: 0,
      amount: 8_000,
      reversedAmount: 0,
      repaidAmount: 0,
    });
    expect(await db.payoutTransfer.findMany({ where: { payoutId: payout.id, kind: "repayment" } })).toMatchObject([
      { status: "succeeded", payoutAmount: 2_000 },
    ]);
  });
});

describe("a full refund that fails after its payout was closed as fully refunded", () => {
  it("the payout is paid after all, once", async () => {
    const charge = h.fake.createCharge({ amount: 10_000, currency: "usd" });
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000, stripeChargeId: charge.id });
    const refund = h.fake.refundCharge(charge.id);
    await send(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", amount: 0 });
    // Due, and no tip can join any more: the sweep closes it.
    h.clock.advance(48 * HOUR + 1);
    await h.run("reconcile", null);
    const payout = await payoutOf(bookingId);
    expect(payout).toMatchObject({ status: "cancelled", cancelReason: "fully refunded" });

    // A week later the refund fails: the customer got nothing back, the provider is owed the 80.00.
    h.clock.advance(7 * 24 * HOUR);
    await send(stripeEvent({ type: "refund.failed", object: h.fake.setRefundStatus(refund.id, "failed", "expired_or_canceled_card") }));
    await h.run("transfer", transferEvent(payout.id));
    await h.run("reconcile", null);

    expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([8_000]);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", amount: 8_000, refundedAmount: 0 });
  });
});
