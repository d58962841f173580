// The world of the tests about money after a transfer (test/integration/simulation-findings/):
// a booking paid from one charge and transferred, the booking platform's dispute refunds through
// its webhook, a Stripe refund (and one that fails), the reversals and repayments Inngest would run, and
// what the fake Stripe holds for the payout in the end.
import { randomUUID } from "node:crypto";

import { expect } from "vitest";

import type { Payout } from "@/generated/prisma/client";
import { db } from "@/lib/db";

import { sendBookingEvent } from "./booking-webhook";
import { HOUR, payoutOf, transferEvent, type TEngineHarness } from "./engine";
import { stripeEvent } from "./stripe-fixtures";
import { sendProcessed } from "./stripe-webhook";

type TCharge = ReturnType<TEngineHarness["fake"]["createCharge"]>;

export function afterTransferWorld(h: TEngineHarness) {
  /**
   * A booking of a ready provider with `providerShare`, paid by a charge of the same amount (USD);
   * `beforeTransfer` runs while the payout is scheduled; then the payout comes due and is
   * transferred (the run must say so).
   */
  async function transferredBooking(input: {
    providerShare: number;
    beforeTransfer?: (booking: { bookingId: string; charge: TCharge }) => Promise<void>;
  }): Promise<{ charge: TCharge; bookingId: string; payout: Payout }> {
    const charge = h.fake.createCharge({ amount: input.providerShare, currency: "usd" });
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: input.providerShare, stripeChargeId: charge.id });
    await input.beforeTransfer?.({ bookingId, charge });
    h.clock.advance(48 * HOUR + 1);
    const payout = await payoutOf(bookingId);
    expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });
    return { charge, bookingId, payout };
  }

  /** The booking platform opens and resolves a dispute on the booking with a partial refund, through its webhook. */
  async function platformDisputeRefunds(
    bookingId: string,
    refundedAmount: number,
    scope: "booking" | "tip" | "both" = "booking",
  ): Promise<void> {
    const booking = await db.booking.findUniqueOrThrow({ where: { id: bookingId } });
    const disputeId = `dsp_${randomUUID()}`;
    const at = h.clock.now().toISOString();
    const ok = { status: 200, body: { received: true } };
    const opened = {
      id: `evt_${disputeId}_opened`,
      type: "dispute.opened",
      createdAt: at,
      data: { disputeId, bookingId: booking.externalId, reason: "service not as described", openedAt: at, scope },
    };
    expect(await sendBookingEvent(opened)).toEqual(ok);
    expect(await db.webhookEvent.findFirstOrThrow({ where: { externalId: opened.id } })).toMatchObject({ status: "processed" });
    const resolved = {
      id: `evt_${disputeId}_resolved`,
      type: "dispute.resolved",
      createdAt: at,
      data: { disputeId, bookingId: booking.externalId, resolvedAt: at, outcome: "partial", refundedAmount },
    };
    expect(await sendBookingEvent(resolved)).toEqual(ok);
    expect(await db.webhookEvent.findFirstOrThrow({ where: { externalId: resolved.id } })).toMatchObject({ status: "processed" });
  }

  /** Stripe refunds `amount` of the charge (succeeded, or pending), and its charge.refunded is delivered. */
  async function refundCharge(chargeId: string, amount: number, status: "pending" | "succeeded" = "succeeded") {
    const made = h.fake.refundCharge(chargeId, { amount, status });
    await sendProcessed(stripeEvent({ type: "charge.refunded", object: h.fake.charge(chargeId) }));
    return made;
  }

  /** Stripe says the refund failed (refund.failed, the card expired or was cancelled). */
  async function refundFails(refundId: string): Promise<void> {
    await sendProcessed(
      stripeEvent({ type: "refund.failed", object: h.fake.setRefundStatus(refundId, "failed", "expired_or_canceled_card") }),
    );
  }

  /** What the fake Stripe holds for the payout: transferred (payouts and repayments) less reversed. */
  function netAtStripe(payoutId: string): number {
    const transfers = h.transfersFor(payoutId);
    const reversed = h.fake.reversals().filter((r) => transfers.some((t) => t.id === r.transfer));
    return transfers.reduce((sum, t) => sum + t.amount, 0) - reversed.reduce((sum, r) => sum + r.amount, 0);
  }

  /** Runs the payout's pending reversals, then its pending repayments, as Inngest would; each must end without an error. */
  async function runPending(payoutId: string): Promise<void> {
    for (const r of await db.transferReversal.findMany({ where: { payoutId, status: "pending" }, orderBy: { createdAt: "asc" } })) {
      expect((await h.run("reverse", { name: "payout/reversal.requested", data: { reversalId: r.id, payoutId } })).error).toBeUndefined();
    }
    for (const t of await db.payoutTransfer.findMany({
      where: { payoutId, kind: "repayment", status: "pending" },
      orderBy: { createdAt: "asc" },
    })) {
      expect((await h.run("repay", { name: "payout/repayment.requested", data: { repaymentId: t.id, payoutId } })).error).toBeUndefined();
    }
  }

  return { transferredBooking, platformDisputeRefunds, refundCharge, refundFails, netAtStripe, runPending };
}
