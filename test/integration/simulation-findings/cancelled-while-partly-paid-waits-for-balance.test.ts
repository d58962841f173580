// Seed 3901 (I5, nothing stuck): a booking's share was transferred from its charge, its tips (no
// charge: paid from the platform's balance) were refused for lack of balance, so the payout waited
// for funds, on hold. Then the booking was cancelled: part of the payout was at Stripe, so it was
// rightly not cancelled, and an admin was alerted; but it stayed on hold "awaiting funds". The
// sweep released it once the balance was due again, the transfer's claim found the booking
// cancelled and skipped it, and the payout stayed `scheduled` for ever with nothing to move it.
// A partly transferred payout that the facts would cancel is now held for review (only a person
// releases it), and a claim that finds a scheduled payout's booking cancelled lets the facts
// decide (cancelled, or held for review when part of it was paid) instead of leaving it scheduled.
import { randomUUID } from "node:crypto";

import { expect, it } from "vitest";

import { db } from "@/lib/db";
import { addTip } from "@/lib/tips/add-tip";

import { cancelBookingByWebhook } from "../../support/booking-webhook";
import { HOUR, payoutOf, transferEvent } from "../../support/engine";
import { appEngineHarness } from "../../support/stripe-webhook";

const h = appEngineHarness();
const DAY = 24 * HOUR;

const secondsFromNow = (ms: number) => new Date(Math.floor((h.clock.now().getTime() + ms) / 1000) * 1000);

/** The share (9900) transferred from the booking's charge; the tips (1800 + 300, no charge) refused for lack of balance. */
async function partlyPaidWaitingForBalance() {
  h.fake.setBalance("usd", 0);
  const charge = h.fake.createCharge({ amount: 9_900, currency: "usd", availableOn: secondsFromNow(17 * HOUR) });
  const { bookingId } = await h.completeBooking({ providerReady: true, stripeChargeId: charge.id, providerShare: 9_900 });
  for (const [amount, after] of [
    [1_800, 9 * HOUR],
    [300, 12 * HOUR],
  ] as const) {
    const tippedAt = new Date(h.clock.now().getTime() + after);
    await addTip(h.ctx(), { tipExternalId: `tip_${randomUUID()}`, bookingId, amount, currency: "USD", tippedAt, receivedAt: tippedAt });
  }
  h.clock.advance(48 * HOUR + 1_000);
  const payout = await payoutOf(bookingId);
  expect(payout.amount).toBe(12_000);
  expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "waiting_for_funds" });
  expect(h.transfersFor(payout.id)).toMatchObject([{ amount: 9_900 }]);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "awaiting_funds" });
  return { payout, bookingId };
}

const cancel = (bookingId: string) => cancelBookingByWebhook(bookingId, h.clock.now());

it("a partly paid payout waiting for the balance when its booking is cancelled is held for review, never left scheduled", async () => {
  const { payout, bookingId } = await partlyPaidWaitingForBalance();

  await cancel(bookingId);
  // Stripe holds 9900 of it: not cancelled, held until a person decides, and a person is told.
  expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "review_required" });
  expect(await db.alert.count({ where: { payoutId: payout.id, kind: "partly_paid_payout_not_cancelled", acknowledgedAt: null } })).toBe(1);

  // The balance comes back and time passes: the sweep does not release it, nothing more is sent.
  h.fake.setBalance("usd", 1_000_000_000);
  for (let day = 0; day < 3; day++) {
    h.clock.advance(DAY);
    await h.run("reconcile", null);
    await h.run("transfer", transferEvent(payout.id));
  }
  expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "review_required" });
  expect(h.transfersFor(payout.id)).toMatchObject([{ amount: 9_900 }]);
  expect(await db.alert.count({ where: { payoutId: payout.id, kind: "partly_paid_payout_not_cancelled" } })).toBe(1);
});

it("a cancelled booking's payout left scheduled before this fix is held for review by the sweep's next transfer request", async () => {
  const { payout, bookingId } = await partlyPaidWaitingForBalance();
  await cancel(bookingId);
  // Stored as the engine left it before the fix: released by the sweep, scheduled, nothing to move it.
  await db.payout.update({ where: { id: payout.id }, data: { status: "scheduled", holdReason: null, holdNote: null } });
  h.fake.setBalance("usd", 1_000_000_000);

  await h.run("reconcile", null);
  const outbox = await db.outboxEvent.findMany({ where: { name: "payout/transfer.requested" } });
  expect(outbox.some((e) => (e.data as { payoutId?: string }).payoutId === payout.id)).toBe(true);
  const run = await h.run("transfer", transferEvent(payout.id));
  expect(run.result).toMatchObject({ kind: "skipped", reason: "not_eligible", status: "on_hold" });
  expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "review_required" });
  expect(h.transfersFor(payout.id)).toMatchObject([{ amount: 9_900 }]);
});
