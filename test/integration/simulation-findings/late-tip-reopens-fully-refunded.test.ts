// Found by the simulation (seed 192; invariant I6): refunds took all of a payout, the tip window
// closed and the payout was cancelled as fully refunded; a tip tipped inside the window but
// delivered after that was rejected ("the payout was cancelled"), while delivered earlier it
// joined the payout. The provider lost the tip in one order only. A payout closed by refunds now
// takes the tip and is reopened when the tip leaves something to pay; one cancelled by a person
// stays closed.
import { randomUUID } from "node:crypto";

import { afterAll, beforeAll, expect, it } from "vitest";

import { db } from "@/lib/db";
import { openDispute } from "@/lib/disputes/open-dispute";
import { resolveDispute } from "@/lib/disputes/resolve-dispute";
import { cancelPayout } from "@/lib/payouts/cancel-payout";
import { sweepPayouts } from "@/lib/payouts/sweep-payouts";
import { addTip } from "@/lib/tips/add-tip";

import { ADMIN_ACTOR, HOUR, payoutOf, startEngineHarness, type TEngineHarness } from "../../support/engine";

let h: TEngineHarness;
beforeAll(async () => {
  h = await startEngineHarness();
});
afterAll(async () => {
  await h.fake.stop();
});

async function fullyRefunded(share: number, refunded: number) {
  const completedAt = h.clock.now();
  const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: share });
  const opened = await openDispute(h.ctx(), { bookingId, externalId: `dsp_${randomUUID()}`, openedAt: h.clock.now() });
  await resolveDispute(h.ctx(), {
    disputeId: opened.dispute.id,
    outcome: "customer_won",
    refundedAmount: refunded,
    resolvedAt: h.clock.now(),
  });
  // Due and past the tip window: the sweep closes it.
  h.clock.advance(49 * HOUR);
  await sweepPayouts(h.ctx(), h.stripe);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "cancelled", cancelReason: "fully refunded", amount: 0 });
  return { bookingId, completedAt };
}

it("a tip tipped in the window and delivered after refunds closed the payout joins it and reopens it", async () => {
  const { bookingId, completedAt } = await fullyRefunded(6_000, 6_000);
  const tipped = new Date(completedAt.getTime() + 2 * HOUR);
  const { tip } = await addTip(h.ctx(), {
    tipExternalId: `tip_${randomUUID()}`,
    bookingId,
    amount: 700,
    currency: "USD",
    tippedAt: tipped,
  });
  expect(tip).toMatchObject({ status: "accepted" });
  const payout = await payoutOf(bookingId);
  expect(payout).toMatchObject({ status: "scheduled", cancelReason: null, tipAmount: 700, refundedAmount: 6_000, amount: 700 });
  expect(await db.auditLog.count({ where: { entityId: payout.id, action: "payout.reopened" } })).toBe(1);
});

it("a tip the refunds also covered joins the payout and leaves it closed at zero", async () => {
  // The platform refunded the share and the tip it already knew of: a tip it refunded too ends at 0.
  const { bookingId, completedAt } = await fullyRefunded(6_000, 6_500);
  const { tip } = await addTip(h.ctx(), {
    tipExternalId: `tip_${randomUUID()}`,
    bookingId,
    amount: 500,
    currency: "USD",
    tippedAt: new Date(completedAt.getTime() + HOUR),
  });
  expect(tip).toMatchObject({ status: "accepted" });
  expect(await payoutOf(bookingId)).toMatchObject({ status: "cancelled", cancelReason: "fully refunded", tipAmount: 500, amount: 0 });
});

it("a payout an admin cancelled still refuses a tip", async () => {
  const completedAt = h.clock.now();
  const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 6_000 });
  const admin = await db.adminUser.create({
    data: { email: `ada-${randomUUID()}@payouts.test`, name: "Ada Admin", role: "admin", passwordHash: "x" },
  });
  await cancelPayout(h.ctx(ADMIN_ACTOR(admin.id)), { payoutId: (await payoutOf(bookingId)).id, reason: "Booking was fraudulent" });
  const { tip } = await addTip(h.ctx(), {
    tipExternalId: `tip_${randomUUID()}`,
    bookingId,
    amount: 500,
    currency: "USD",
    tippedAt: new Date(completedAt.getTime() + HOUR),
  });
  expect(tip).toMatchObject({ status: "rejected", rejectionReason: "the payout was cancelled" });
  expect(await payoutOf(bookingId)).toMatchObject({ status: "cancelled", tipAmount: 0 });
});
