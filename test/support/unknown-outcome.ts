// A payout whose transfer's outcome stayed unknown and was put back: the starting point of the
// tests about what Stripe may hold for it (test/integration/simulation-findings/).
import { randomUUID } from "node:crypto";

import { expect } from "vitest";

import { db } from "@/lib/db";
import { addTip } from "@/lib/tips/add-tip";

import { HOUR, payoutOf, transferEvent, type TEngineHarness } from "./engine";

/** A payout's planned transfers (legs), in leg order, as the tests compare them. */
export const legsOf = async (payoutId: string) =>
  (await db.payoutTransfer.findMany({ where: { payoutId, kind: "payout" }, orderBy: [{ leg: "asc" }, { amountVersion: "asc" }] })).map(
    (l) => ({
      leg: l.leg,
      amountVersion: l.amountVersion,
      amount: l.amount,
      status: l.status,
      stripeTransferId: l.stripeTransferId,
      idempotencyKey: l.idempotencyKey,
    }),
  );

/** The transfer requests Stripe answered 200 for the payout (each a transfer made or replayed under its key). */
export const transferPosts = (h: TEngineHarness, payoutId: string) =>
  h.fake
    .requests()
    .filter((r) => r.method === "POST" && r.path === "/v1/transfers" && r.params["metadata[payoutId]"] === payoutId && r.status === 200);

/**
 * An 8000 payout paid from a 10000 charge whose first attempt got a 500 (outcome unknown); the
 * look-up at once and the sweep's an hour later find nothing, and the payout is put back
 * (scheduled, its version-1 leg still planned).
 */
export async function putBackAfterUnknownOutcome(h: TEngineHarness) {
  const charge = h.fake.createCharge({ amount: 10_000, currency: "usd" });
  const completedAt = h.clock.now();
  const { bookingId } = await h.completeBooking({ providerReady: true, stripeChargeId: charge.id, providerShare: 8_000, completedAt });
  h.clock.advance(48 * HOUR + 1000);
  const payout = await payoutOf(bookingId);
  h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "status", status: 500 });
  await h.run("transfer", transferEvent(payout.id), { runId: `run_unknown_${payout.id}` });
  expect(await payoutOf(bookingId)).toMatchObject({ status: "processing", attempts: 1 });
  h.clock.advance(HOUR + 60_000);
  await h.run("reconcile", null);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", amount: 8_000, amountVersion: 1 });
  expect(h.transfersFor(payout.id)).toHaveLength(0);
  const booking = await db.booking.findUniqueOrThrow({ where: { id: bookingId }, include: { provider: true } });
  return { payout, booking, charge, completedAt };
}

export type TPutBack = Awaited<ReturnType<typeof putBackAfterUnknownOutcome>>;

/** The same, then a tip of `amount` (tipped an hour after completion) joins it: amount version 2. */
export async function putBackThenTipped(h: TEngineHarness, amount = 700) {
  const ctx = await putBackAfterUnknownOutcome(h);
  await addTip(h.ctx(), {
    tipExternalId: `tip_${randomUUID().slice(0, 8)}`,
    bookingId: ctx.payout.bookingId,
    amount,
    currency: "USD",
    tippedAt: new Date(ctx.completedAt.getTime() + HOUR),
  });
  expect(await payoutOf(ctx.payout.bookingId)).toMatchObject({ status: "scheduled", amount: 8_000 + amount, amountVersion: 2 });
  return ctx;
}

/** What attempt 1's request made at Stripe after all: its key, its parameters (version 1, leg 1, 8000). */
export async function stripeMadeVersion1(h: TEngineHarness, ctx: TPutBack) {
  return h.stripe.transfers.create(
    {
      amount: 8_000,
      currency: "usd",
      destination: ctx.booking.provider.stripeAccountId!,
      transfer_group: `booking_${ctx.booking.externalId}`,
      source_transaction: ctx.charge.id,
      metadata: { payoutId: ctx.payout.id, amountVersion: "1", leg: "1" },
    },
    { idempotencyKey: `payout:${ctx.payout.id}:v1` },
  );
}
