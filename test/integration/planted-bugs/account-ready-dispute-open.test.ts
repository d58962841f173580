// Planted-bug guard, class 5: a provider's Stripe account becomes ready (payouts enabled, transfers
// active) while a dispute on the booking is still open. The payout was held for "provider account
// not ready"; that cause is gone, but the open dispute still holds it: it stays on hold (now for the
// dispute), no transfer is requested or made, and only once the dispute is won is it released and
// transferred, once, for its full amount. Whether readiness arrives as Stripe's account.updated or
// from the reconciliation sweep asking Stripe (the event lost), and whether the dispute is Stripe's
// chargeback or the booking platform's.
//
// Plants this file was run against (each made every test here fail):
//   - lib/providers/update-provider-account.ts: release every payout held for "provider account not
//     ready" without checking other holds (`changePayout(tx, payout, { event: "release", … })`
//     instead of `releaseHold(…)`);
//   - the same function calling `releaseHold(tx, payout, booking, 0, …)` (open disputes not counted).
// Note: what catches these plants is the payout's state right after the account became ready
// (released to "scheduled" while the dispute is open). "No transfer requested or made" alone would
// not: the transfer request (requestTransferIfDue) and the transfer's claim (claimTransfer) both
// check for open disputes again, so under the plants no transfer is requested, and a transfer run
// puts the payout back on hold for the dispute. Those checks stay here as the rest of the rule.
import { randomUUID } from "node:crypto";

import type Stripe from "stripe";
import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";

import { sendBookingEvent } from "../../support/booking-webhook";
import { HOUR, payoutOf, transferEvent } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { appEngineHarness, sendProcessed } from "../../support/stripe-webhook";

const h = appEngineHarness();

/** The account as Stripe shows it now, ready or not (the fake is left in that state), in a signed account.updated sent to the webhook. */
async function accountUpdated(accountId: string, ready: boolean, secondsAgo: number): Promise<void> {
  h.account({ id: accountId, payoutsEnabled: ready, transfersCapability: ready ? "active" : "inactive" });
  const object = await h.stripe.accounts.retrieve(accountId);
  await sendProcessed(
    stripeEvent({ type: "account.updated", object, account: accountId, created: Math.floor(Date.now() / 1000) - secondsAgo }),
  );
}

const transferRequests = (payoutId: string) =>
  db.outboxEvent.findMany({
    where: { name: "payout/transfer.requested", data: { path: ["payoutId"], equals: payoutId } },
    select: { eventId: true },
  });

type TDispute = { open(): Promise<void>; win(): Promise<void> };

/** A Stripe chargeback on the booking's charge: charge.dispute.created, later won (charge.dispute.closed). */
function stripeDispute(chargeId: string): TDispute {
  let dispute: Stripe.Dispute | null = null;
  return {
    async open() {
      dispute = h.fake.disputeCharge(chargeId);
      await sendProcessed(stripeEvent({ type: "charge.dispute.created", object: dispute }));
    },
    async win() {
      await sendProcessed(stripeEvent({ type: "charge.dispute.closed", object: h.fake.setDisputeStatus(dispute!.id, "won") }));
    },
  };
}

/** The booking platform's dispute on the booking, opened and later resolved in the provider's favour. */
function platformDispute(bookingExternalId: string): TDispute {
  const disputeId = `dsp_${randomUUID()}`;
  const send = async (type: string, data: Record<string, unknown>) =>
    expect(await sendBookingEvent({ id: `evt_${randomUUID()}`, type, createdAt: new Date().toISOString(), data })).toEqual({
      status: 200,
      body: { received: true },
    });
  return {
    open: () =>
      send("dispute.opened", {
        disputeId,
        bookingId: bookingExternalId,
        reason: "not delivered",
        openedAt: new Date().toISOString(),
        scope: "booking",
      }),
    win: () =>
      send("dispute.resolved", {
        disputeId,
        bookingId: bookingExternalId,
        resolvedAt: new Date().toISOString(),
        outcome: "provider_won",
        refundedAmount: 0,
      }),
  };
}

/**
 * A payout already due (its booking completed 49 hours ago, paid with a charge of 100.00, 80.00 the
 * provider's), held because Stripe said the account cannot receive payouts, then disputed.
 */
async function heldForAccountThenDisputed(kind: "stripe" | "platform") {
  const charge = h.fake.createCharge({ amount: 10_000, currency: "usd" });
  const accountId = h.account();
  const { bookingId } = await h.completeBooking({
    providerReady: true,
    providerShare: 8_000,
    stripeChargeId: charge.id,
    stripeAccountId: accountId,
    completedAt: new Date(Date.now() - 49 * HOUR),
  });
  const { externalId } = await db.booking.findUniqueOrThrow({ where: { id: bookingId } });
  const payout = await payoutOf(bookingId);

  await accountUpdated(accountId, false, 30);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "provider_account_not_ready" });

  const dispute = kind === "stripe" ? stripeDispute(charge.id) : platformDispute(externalId);
  await dispute.open();
  expect(await db.dispute.count({ where: { bookingId, status: "open" } })).toBe(1);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold" });
  return { accountId, bookingId, payout, dispute };
}

/** The payout stays held for the open dispute; no transfer is requested since `requestsBefore`, and a transfer run makes none. */
async function expectStillHeldForDispute(bookingId: string, payoutId: string, requestsBefore: number) {
  expect(await db.provider.findFirstOrThrow({ where: { payouts: { some: { id: payoutId } } } })).toMatchObject({ payoutsEnabled: true });
  expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "dispute_open" });
  expect(await transferRequests(payoutId)).toHaveLength(requestsBefore);
  // Even asked to (the request made when it first became due, say), the engine transfers nothing.
  expect((await h.run("transfer", transferEvent(payoutId))).result).toMatchObject({ kind: "skipped" });
  expect(h.transfersFor(payoutId)).toEqual([]);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "dispute_open" });
}

/** The dispute is won: released, one transfer requested and made, for the whole 80.00. */
async function expectReleasedAndTransferredOnceWon(dispute: TDispute, bookingId: string, payoutId: string, requestsBefore: number) {
  await dispute.win();
  expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", holdReason: null });
  expect((await transferRequests(payoutId)).length).toBe(requestsBefore + 1);
  expect((await h.run("transfer", transferEvent(payoutId))).result).toMatchObject({ kind: "transferred" });
  expect(h.transfersFor(payoutId).map((t) => t.amount)).toEqual([8_000]);
  expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", amount: 8_000 });
}

describe("the provider's account becomes ready while a dispute on the booking is open", () => {
  for (const kind of ["stripe", "platform"] as const) {
    it(`account.updated (ready), ${kind === "stripe" ? "a Stripe chargeback" : "the booking platform's dispute"} open: held for the dispute, transferred once it is won`, async () => {
      const { accountId, bookingId, payout, dispute } = await heldForAccountThenDisputed(kind);
      const requests = (await transferRequests(payout.id)).length;

      await accountUpdated(accountId, true, 10);
      await expectStillHeldForDispute(bookingId, payout.id, requests);
      await expectReleasedAndTransferredOnceWon(dispute, bookingId, payout.id, requests);
    });
  }

  it("the account.updated is lost and the reconciliation sweep finds the account ready: held for the dispute, transferred once it is won", async () => {
    const { accountId, bookingId, payout, dispute } = await heldForAccountThenDisputed("stripe");
    const requests = (await transferRequests(payout.id)).length;

    // Ready at Stripe; the event never reaches us. Two hours on, the sweep asks Stripe.
    h.account({ id: accountId, payoutsEnabled: true, transfersCapability: "active" });
    h.clock.advance(2 * HOUR);
    await h.run("reconcile", null);
    expect(h.fake.requests().some((r) => r.path === `/v1/accounts/${accountId}`)).toBe(true);
    await expectStillHeldForDispute(bookingId, payout.id, requests);
    await expectReleasedAndTransferredOnceWon(dispute, bookingId, payout.id, requests);
  });
});
