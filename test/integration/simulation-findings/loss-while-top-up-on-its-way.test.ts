// The rule that fixed seed 775, for a top-up: a loss settled after the transfer takes what it
// lowers the payout's amount by, and what the provider does not hold yet (here a top-up for a tip
// received before the transfer, which waits while a dispute is open) is not dropped: the top-up is
// reversed by what it overpays once it lands. Before, the booking platform's dispute refunding the
// share and the tip reversed the share's transfer, dropped the tip's part as "more than is left to
// reverse", and the top-up then paid the tip: the provider kept it.
import { randomUUID } from "node:crypto";

import { expect, it } from "vitest";

import { db } from "@/lib/db";
import { addTip } from "@/lib/tips/add-tip";

import { sendBookingEvent } from "../../support/booking-webhook";
import { HOUR, payoutOf, transferEvent } from "../../support/engine";
import { appEngineHarness } from "../../support/stripe-webhook";

const h = appEngineHarness();

/** What the fake Stripe holds for the payout: transferred (payouts, top-ups, repayments) less reversed. */
function netAtStripe(payoutId: string): number {
  const transfers = h.transfersFor(payoutId);
  const reversed = h.fake.reversals().filter((r) => transfers.some((t) => t.id === r.transfer));
  return transfers.reduce((sum, t) => sum + t.amount, 0) - reversed.reduce((sum, r) => sum + r.amount, 0);
}

async function runPendingReversals(payoutId: string): Promise<void> {
  for (const r of await db.transferReversal.findMany({ where: { payoutId, status: "pending" }, orderBy: { createdAt: "asc" } })) {
    expect((await h.run("reverse", { name: "payout/reversal.requested", data: { reversalId: r.id, payoutId } })).error).toBeUndefined();
  }
}

function bookingEvent(type: string, data: Record<string, unknown>) {
  return { id: `evt_${randomUUID()}`, type, createdAt: h.clock.now().toISOString(), data };
}

it("the platform's dispute refunds share and tip while the tip's top-up waits: the top-up is reversed once it lands, the provider keeps nothing", async () => {
  const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 10_000 });
  const booking = await db.booking.findUniqueOrThrow({ where: { id: bookingId } });
  const tippedAt = new Date(h.clock.now().getTime() + HOUR);
  h.clock.advance(48 * HOUR + 1);
  const payout = await payoutOf(bookingId);
  expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });

  // A tip received before the transfer, applied only after it: paid with a top-up.
  await addTip(h.ctx(), {
    tipExternalId: `tip_${randomUUID()}`,
    bookingId,
    amount: 2_000,
    currency: "USD",
    tippedAt,
    receivedAt: tippedAt,
  });
  const topUp = await db.payoutTransfer.findFirstOrThrow({ where: { payoutId: payout.id, kind: "payout", status: "pending" } });
  expect(topUp.payoutAmount).toBe(2_000);

  // The platform's dispute opens (the top-up waits) and is lost with a refund of share and tip.
  const disputeId = `dsp_${randomUUID()}`;
  const at = h.clock.now().toISOString();
  expect(
    await sendBookingEvent(
      bookingEvent("dispute.opened", { disputeId, bookingId: booking.externalId, reason: "not delivered", openedAt: at, scope: "both" }),
    ),
  ).toMatchObject({ status: 200 });
  expect(
    (await h.run("topUp", { name: "payout/top-up.requested", data: { transferId: topUp.id, payoutId: payout.id } })).result,
  ).toMatchObject({ kind: "waiting_for_dispute" });
  expect(
    await sendBookingEvent(
      bookingEvent("dispute.resolved", {
        disputeId,
        bookingId: booking.externalId,
        resolvedAt: at,
        outcome: "customer_won",
        refundedAmount: 12_000,
      }),
    ),
  ).toMatchObject({ status: 200 });
  expect(
    await db.auditLog.findMany({ where: { entityId: payout.id, action: "payout.reversal_deferred" }, select: { after: true } }),
  ).toEqual([{ after: { claimAmount: 12_000, reversed: 10_000, deferred: 2_000, onItsWay: 2_000 } }]);
  await runPendingReversals(payout.id);

  // The top-up lands; in the same transaction what it overpays is asked back.
  expect(
    (await h.run("topUp", { name: "payout/top-up.requested", data: { transferId: topUp.id, payoutId: payout.id } })).result,
  ).toMatchObject({ kind: "transferred" });
  expect(await db.transferReversal.findFirstOrThrow({ where: { payoutTransferId: topUp.id } })).toMatchObject({
    amount: 2_000,
    status: "pending",
  });
  await runPendingReversals(payout.id);

  expect(netAtStripe(payout.id)).toBe(0);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "reversed", amount: 12_000, reversedAmount: 12_000 });
  expect(await db.alert.count({ where: { payoutId: payout.id, kind: "reversal_not_covered" } })).toBe(0);
});
