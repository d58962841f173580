// lockPayoutWithFacts (lib/payouts/booking-facts.ts): the payout locked and the booking's facts
// read in one statement, the facts sent as JSON and read back. What it returns is exactly what the
// ORM reads of the same rows (dates as Dates, nulls, enums, text that JSON escapes), with the same
// filters: accepted tips only; every dispute; charge refunds neither applied, nor of no amount, nor
// reversed, nor repaid, in their sequence. Also with no payout, and the locks it holds.
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import type { Booking, Payout } from "@/generated/prisma/client";
import { db } from "@/lib/db";
import { lockPayoutWithFacts } from "@/lib/payouts/booking-facts";

import { createBooking, createPayout } from "../../support/factories";

const id = (prefix: string) => `${prefix}_${randomUUID().replaceAll("-", "").slice(0, 16)}`;

async function addTip(booking: Booking, status: "accepted" | "rejected", at: Date, payout: Payout | null = null) {
  return db.tip.create({
    data: {
      externalId: id("tip"),
      bookingId: booking.id,
      payoutId: payout?.id ?? null,
      amount: 250,
      currency: booking.currency,
      status,
      rejectionReason: status === "rejected" ? 'late "tip" \\ \u2028 ✓' : null,
      stripeChargeId: id("ch"),
      tippedAt: at,
      receivedAt: new Date(at.getTime() + 1),
      createdAt: at,
    },
  });
}

async function addChargeRefund(booking: Booking, sequence: number, amount: number, appliedAt: Date | null = null) {
  return db.chargeRefund.create({
    data: {
      bookingId: booking.id,
      stripeChargeId: booking.stripeChargeId ?? id("ch"),
      sequence,
      currency: booking.currency,
      chargeAmount: 10_000,
      providerPortion: 8_000,
      customerRefundedTotal: 1_000,
      providerRefundedTotal: 800,
      amount,
      cause: "refund",
      refundedAt: new Date("2026-12-01T10:00:00.123Z"),
      appliedAt,
    },
  });
}

/** What the ORM reads of the same rows, as syncPayoutWithBooking read them before. */
async function ormFacts(bookingId: string) {
  return {
    payout: await db.payout.findUnique({ where: { bookingId } }),
    tips: await db.tip.findMany({ where: { bookingId, status: "accepted" }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] }),
    disputes: await db.dispute.findMany({ where: { bookingId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] }),
    unappliedChargeRefunds: await db.chargeRefund.findMany({
      where: { bookingId, amount: { not: 0 }, appliedAt: null, reversals: { none: {} }, repayments: { none: {} } },
      orderBy: { sequence: "asc" },
    }),
  };
}

describe("locking a payout with its booking's facts", () => {
  it("reads every fact as the ORM does", async () => {
    const booking = await createBooking({ stripeChargeId: id("ch") });
    const payout = await createPayout({ booking, status: "transferred", stripeTransferId: id("tr") });
    await addTip(booking, "accepted", new Date("2026-12-01T09:00:00.001Z"), payout);
    await addTip(booking, "accepted", new Date("2026-12-01T08:00:00.999Z"));
    await addTip(booking, "rejected", new Date("2026-12-01T07:00:00.000Z"));
    await db.dispute.create({
      data: {
        externalId: id("dsp"),
        stripeDisputeId: id("dp"),
        stripeChargeId: booking.stripeChargeId,
        bookingId: booking.id,
        scope: "booking",
        reason: 'fraudulent "quoted" ✓',
        status: "resolved",
        outcome: "customer_won",
        refundedAmount: 1_200,
        disputedAmount: 2_000,
        currency: booking.currency,
        openedAt: new Date("2026-12-01T01:02:03.004Z"),
        resolvedAt: new Date("2026-12-02T01:02:03.005Z"),
        openedAfterTransfer: true,
        refundAppliedAt: new Date("2026-12-02T01:02:03.006Z"),
      },
    });
    await db.dispute.create({
      data: { bookingId: booking.id, currency: booking.currency, openedAt: new Date("2026-12-03T00:00:00.000Z") },
    });
    // Inserted out of their sequence: read in it.
    const later = await addChargeRefund(booking, 5, 300);
    const earlier = await addChargeRefund(booking, 2, -100);
    await addChargeRefund(booking, 3, 0);
    await addChargeRefund(booking, 4, 500, new Date());
    const reversed = await addChargeRefund(booking, 6, 400);
    await db.transferReversal.create({
      data: { payoutId: payout.id, chargeRefundId: reversed.id, amount: 400, currency: booking.currency },
    });
    const repaid = await addChargeRefund(booking, 7, -50);
    await db.payoutTransfer.create({
      data: {
        payoutId: payout.id,
        kind: "repayment",
        amountVersion: payout.amountVersion,
        leg: 9,
        payoutAmount: 50,
        amount: 50,
        currency: booking.currency,
        chargeRefundId: repaid.id,
        idempotencyKey: id("key"),
      },
    });

    const read = await db.$transaction((tx) => lockPayoutWithFacts(tx, booking.id));
    const expected = await ormFacts(booking.id);
    expect(read).toEqual(expected);
    // Accepted tips only, oldest first; the one joined to the payout and the one not yet.
    expect(read.tips.map((t) => [t.tippedAt.toISOString(), t.payoutId])).toEqual([
      ["2026-12-01T08:00:00.999Z", null],
      ["2026-12-01T09:00:00.001Z", payout.id],
    ]);
    expect(read.disputes).toHaveLength(2);
    expect(read.disputes[1]).toMatchObject({ resolvedAt: null, refundAppliedAt: null, outcome: null, scope: "booking" });
    expect(read.unappliedChargeRefunds.map((r) => r.id)).toEqual([earlier.id, later.id]);
    expect(read.unappliedChargeRefunds[0]?.refundedAt).toBeInstanceOf(Date);
  });

  it("reads the facts of a booking with no payout, and none of a booking with none", async () => {
    const booking = await createBooking();
    await addTip(booking, "accepted", new Date("2026-12-01T09:00:00.000Z"));
    const read = await db.$transaction((tx) => lockPayoutWithFacts(tx, booking.id));
    expect(read.payout).toBeNull();
    expect(read).toEqual(await ormFacts(booking.id));
    expect(read.tips).toHaveLength(1);

    const bare = await createBooking();
    expect(await db.$transaction((tx) => lockPayoutWithFacts(tx, bare.id))).toEqual({
      payout: null,
      tips: [],
      disputes: [],
      unappliedChargeRefunds: [],
    });
  });

  it("holds the payout's lock until the transaction ends", async () => {
    const payout = await createPayout();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = db.$transaction(async (tx) => {
      await lockPayoutWithFacts(tx, payout.bookingId);
      await held;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const tried = db.$transaction(async (tx) => tx.$queryRaw`SELECT id FROM "Payout" WHERE id = ${payout.id}::uuid FOR UPDATE NOWAIT`);
    await expect(tried).rejects.toThrow(/lock/i);
    release();
    await first;
  });
});
