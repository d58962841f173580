// Found by the random simulation, now fixed: a new provider's facts gave different outcomes by
// the order they came in.
// - An account.updated that came before the provider's first booking was dropped (`ignored`:
//   "no provider has Stripe account …"), so the provider started "not ready" until the engine
//   asked Stripe, where the same event after the booking made it ready (or held its payout).
//   Now the account's state is kept (StripeAccount) and applied when the provider is recorded.
import { randomUUID } from "node:crypto";

import type Stripe from "stripe";
import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";

import { bookingCompletedEvent, sendBookingEvent } from "../support/booking-webhook";
import { HOUR } from "../support/engine";
import { stripeEvent } from "../support/stripe-fixtures";
import { appEngineHarness, sendStripeEvent, stripeDeliveryOf } from "../support/stripe-webhook";

const h = appEngineHarness();

const uid = (prefix: string) => `${prefix}_${randomUUID().slice(0, 8)}`;

/** The account as Stripe shows it now in one state (the fake's account is left in that state). */
async function accountIn(accountId: string, ready: boolean): Promise<Stripe.Account> {
  h.account({ id: accountId, payoutsEnabled: ready, transfersCapability: ready ? "active" : "inactive" });
  return h.stripe.accounts.retrieve(accountId);
}

async function sendBooking(input: { bookingId: string; stripeAccountId: string; providerShare?: number }) {
  const event = bookingCompletedEvent({ ...input, providerId: `prov_${input.bookingId}`, completedAt: new Date(h.clock.now().getTime() - HOUR) });
  expect(await sendBookingEvent(event)).toEqual({ status: 200, body: { received: true } });
}

async function sendAccountUpdated(event: Stripe.Event) {
  expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true } });
  return stripeDeliveryOf(event);
}

/** What the provider and its payout end as: the facts the order must not change. */
async function outcome(bookingExternalId: string) {
  const booking = await db.booking.findUniqueOrThrow({ where: { externalId: bookingExternalId }, include: { provider: true, payout: true } });
  const { provider, payout } = booking;
  return {
    provider: { payoutsEnabled: provider.payoutsEnabled, told: provider.accountCheckedAt !== null, accountStateAt: provider.accountStateAt },
    payout: { status: payout!.status, holdReason: payout!.holdReason, amount: payout!.amount },
    kept: await db.stripeAccount.count({ where: { id: provider.stripeAccountId! } }),
  };
}

describe("account.updated and the provider's first booking, in either order", () => {
  for (const ready of [true, false]) {
    it(`an account that ${ready ? "can" : "cannot"} receive payouts ends the same whichever comes first`, async () => {
      const created = Math.floor(Date.now() / 1000) - 30;
      async function scenario(order: "booking_first" | "account_first") {
        const accountId = h.account();
        const bookingId = uid("bk");
        const event = stripeEvent({ type: "account.updated", object: await accountIn(accountId, ready), account: accountId, created });
        if (order === "booking_first") await sendBooking({ bookingId, stripeAccountId: accountId });
        const delivery = await sendAccountUpdated(event);
        expect(delivery).toMatchObject({ status: "processed" });
        if (order === "account_first") {
          expect(delivery!.error).toBe(`no provider has Stripe account ${accountId} yet; its state (${ready ? "can" : "cannot"} receive payouts) is kept for the provider recorded with it`);
          expect(await db.stripeAccount.findUniqueOrThrow({ where: { id: accountId } })).toMatchObject({ payoutsEnabled: ready, transfersActive: ready });
          await sendBooking({ bookingId, stripeAccountId: accountId });
        }
        return outcome(bookingId);
      }

      const inOrder = await scenario("booking_first");
      expect(inOrder).toMatchObject({
        provider: { payoutsEnabled: ready, told: true },
        payout: ready ? { status: "scheduled", holdReason: null } : { status: "on_hold", holdReason: "provider_account_not_ready" },
        kept: 0,
      });
      const outOfOrder = await scenario("account_first");
      expect(outOfOrder).toEqual(inOrder);
    });
  }

  it("two states before the booking: the newest wins, whatever order they came in, as after the booking", async () => {
    const base = Math.floor(Date.now() / 1000) - 60;
    async function scenario(order: "booking_first" | "newest_first" | "oldest_first") {
      const accountId = h.account();
      const bookingId = uid("bk");
      const older = stripeEvent({ type: "account.updated", object: await accountIn(accountId, false), account: accountId, created: base });
      const newer = stripeEvent({ type: "account.updated", object: await accountIn(accountId, true), account: accountId, created: base + 10 });
      if (order === "booking_first") await sendBooking({ bookingId, stripeAccountId: accountId });
      for (const event of order === "oldest_first" ? [older, newer] : [newer, older]) expect(await sendAccountUpdated(event)).toMatchObject({ status: "processed" });
      if (order !== "booking_first") await sendBooking({ bookingId, stripeAccountId: accountId });
      return outcome(bookingId);
    }
    const inOrder = await scenario("booking_first");
    expect(inOrder).toMatchObject({ provider: { payoutsEnabled: true, told: true, accountStateAt: new Date((base + 10) * 1000) }, payout: { status: "scheduled" } });
    expect(await scenario("newest_first")).toEqual(inOrder);
    expect(await scenario("oldest_first")).toEqual(inOrder);
  });

  it("a provider known ready from an early account.updated is paid without asking Stripe again", async () => {
    const accountId = h.account();
    const bookingId = uid("bk");
    await sendAccountUpdated(stripeEvent({ type: "account.updated", object: await accountIn(accountId, true), account: accountId }));
    await sendBooking({ bookingId, stripeAccountId: accountId });
    const payout = (await db.booking.findUniqueOrThrow({ where: { externalId: bookingId }, include: { payout: true } })).payout!;
    const audit = await db.auditLog.findFirstOrThrow({ where: { entityType: "provider", entityId: payout.providerId, action: "provider.account_ready" } });
    expect(audit.after).toMatchObject({ payoutsEnabled: true, note: "Stripe said this before the provider was recorded" });

    const since = h.fake.requests().length;
    h.clock.advance(48 * HOUR);
    expect((await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "test" } })).result).toMatchObject({ kind: "transferred" });
    expect(h.fake.requests().slice(since).filter((r) => r.path === `/v1/accounts/${accountId}`)).toEqual([]);
  });
});
