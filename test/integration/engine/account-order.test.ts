// Found by the random simulation, now fixed: a new provider's facts gave different outcomes by
// the order they came in.
// - An account.updated that came before the provider's first booking was dropped (`ignored`:
//   "no provider has Stripe account …"), so the provider started "not ready" until the engine
//   asked Stripe, where the same event after the booking made it ready (or held its payout).
//   Now the account's state is kept (StripeAccount) and applied when the provider is recorded.
// - A force release for a new provider was refused ("cannot receive payouts") because the
//   provider's record says "not ready" by default until Stripe is asked. Now the force release
//   (its four-eyes request and approval too, and the button) asks Stripe first when Stripe never
//   told us, and decides on its answer.
import { randomUUID } from "node:crypto";

import type Stripe from "stripe";
import { beforeAll, describe, expect, it } from "vitest";

import { approveForceRelease } from "@/lib/approvals/approve-force-release";
import { requestForceRelease } from "@/lib/approvals/request-force-release";
import { db } from "@/lib/db";
import { getPayoutDetail } from "@/lib/payouts/get-payout-detail";

import { bookingCompletedEvent, sendBookingEvent } from "../../support/booking-webhook";
import { ADMIN_ACTOR, HOUR, payoutOf } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { appEngineHarness, sendStripeEvent, stripeDeliveryOf } from "../../support/stripe-webhook";

const h = appEngineHarness();
let ada: ReturnType<typeof ADMIN_ACTOR>;
let bea: ReturnType<typeof ADMIN_ACTOR>;

beforeAll(async () => {
  const make = async (name: string) => {
    const user = await db.adminUser.create({
      data: { email: `${randomUUID().slice(0, 8)}@payouts.test`, name, role: "admin", passwordHash: "x" },
    });
    return { ...ADMIN_ACTOR(user.id, name), label: `${name} <${user.email}>` };
  };
  ada = await make("Ada Admin");
  bea = await make("Bea Second");
});

const uid = (prefix: string) => `${prefix}_${randomUUID().slice(0, 8)}`;

/** The account as Stripe shows it now in one state (the fake's account is left in that state). */
async function accountIn(accountId: string, ready: boolean): Promise<Stripe.Account> {
  h.account({ id: accountId, payoutsEnabled: ready, transfersCapability: ready ? "active" : "inactive" });
  return h.stripe.accounts.retrieve(accountId);
}

async function sendBooking(input: { bookingId: string; stripeAccountId: string; providerShare?: number }) {
  const event = bookingCompletedEvent({
    ...input,
    providerId: `prov_${input.bookingId}`,
    completedAt: new Date(h.clock.now().getTime() - HOUR),
  });
  expect(await sendBookingEvent(event)).toEqual({ status: 200, body: { received: true } });
}

async function sendAccountUpdated(event: Stripe.Event) {
  expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true } });
  return stripeDeliveryOf(event);
}

/** What the provider and its payout end as: the facts the order must not change. */
async function outcome(bookingExternalId: string) {
  const booking = await db.booking.findUniqueOrThrow({
    where: { externalId: bookingExternalId },
    include: { provider: true, payout: true },
  });
  const { provider, payout } = booking;
  return {
    provider: {
      payoutsEnabled: provider.payoutsEnabled,
      told: provider.accountCheckedAt !== null,
      accountStateAt: provider.accountStateAt,
    },
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
          expect(delivery!.error).toBe(
            `no provider has Stripe account ${accountId} yet; its state (${ready ? "can" : "cannot"} receive payouts) is kept for the provider recorded with it`,
          );
          expect(await db.stripeAccount.findUniqueOrThrow({ where: { id: accountId } })).toMatchObject({
            payoutsEnabled: ready,
            transfersActive: ready,
          });
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
      const newer = stripeEvent({
        type: "account.updated",
        object: await accountIn(accountId, true),
        account: accountId,
        created: base + 10,
      });
      if (order === "booking_first") await sendBooking({ bookingId, stripeAccountId: accountId });
      for (const event of order === "oldest_first" ? [older, newer] : [newer, older])
        expect(await sendAccountUpdated(event)).toMatchObject({ status: "processed" });
      if (order !== "booking_first") await sendBooking({ bookingId, stripeAccountId: accountId });
      return outcome(bookingId);
    }
    const inOrder = await scenario("booking_first");
    expect(inOrder).toMatchObject({
      provider: { payoutsEnabled: true, told: true, accountStateAt: new Date((base + 10) * 1000) },
      payout: { status: "scheduled" },
    });
    expect(await scenario("newest_first")).toEqual(inOrder);
    expect(await scenario("oldest_first")).toEqual(inOrder);
  });

  it("a provider known ready from an early account.updated is paid without asking Stripe again", async () => {
    const accountId = h.account();
    const bookingId = uid("bk");
    await sendAccountUpdated(stripeEvent({ type: "account.updated", object: await accountIn(accountId, true), account: accountId }));
    await sendBooking({ bookingId, stripeAccountId: accountId });
    const payout = (await db.booking.findUniqueOrThrow({ where: { externalId: bookingId }, include: { payout: true } })).payout!;
    const audit = await db.auditLog.findFirstOrThrow({
      where: { entityType: "provider", entityId: payout.providerId, action: "provider.account_ready" },
    });
    expect(audit.after).toMatchObject({ payoutsEnabled: true, note: "Stripe said this before the provider was recorded" });

    const since = h.fake.requests().length;
    h.clock.advance(48 * HOUR);
    expect(
      (await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "test" } })).result,
    ).toMatchObject({ kind: "transferred" });
    expect(
      h.fake
        .requests()
        .slice(since)
        .filter((r) => r.path === `/v1/accounts/${accountId}`),
    ).toEqual([]);
  });
});

describe("a force release for a new provider (Stripe never told us about the account)", () => {
  /** A payout of a provider recorded from its first booking only: "not ready" by default, never checked. */
  async function newProvidersPayout(input: { ready: boolean; providerShare?: number }) {
    const accountId = h.account({ payoutsEnabled: input.ready, transfersCapability: input.ready ? "active" : "inactive" });
    const bookingId = uid("bk");
    await sendBooking({ bookingId, stripeAccountId: accountId, ...(input.providerShare ? { providerShare: input.providerShare } : {}) });
    const booking = await db.booking.findUniqueOrThrow({ where: { externalId: bookingId }, include: { provider: true, payout: true } });
    expect(booking.provider).toMatchObject({ payoutsEnabled: false, accountCheckedAt: null });
    return { accountId, bookingId, payout: booking.payout! };
  }

  it("is offered, asks Stripe, and releases as it would after an account.updated", async () => {
    async function scenario(order: "account_updated_first" | "force_release_only") {
      const { accountId, bookingId, payout } = await newProvidersPayout({ ready: true });
      if (order === "account_updated_first")
        await sendAccountUpdated(
          stripeEvent({ type: "account.updated", object: await h.stripe.accounts.retrieve(accountId), account: accountId }),
        );
      const detail = await getPayoutDetail(db, payout.id, { id: ada.id, role: "admin" });
      expect(detail!.actions.find((a) => a.action === "force_release")).toMatchObject({ allowed: true, disabledReason: null });
      const result = await requestForceRelease(h.ctx(ada), { payoutId: payout.id, reason: "Provider asked" }, { stripe: h.stripe });
      expect(result).toMatchObject({ outcome: "applied", transferRequested: true });
      return outcome(bookingId);
    }
    const withEvent = await scenario("account_updated_first");
    expect(withEvent).toMatchObject({ provider: { payoutsEnabled: true, told: true }, payout: { status: "scheduled" } });
    const withoutEvent = await scenario("force_release_only");
    expect({ ...withoutEvent, provider: { ...withoutEvent.provider, accountStateAt: null } }).toEqual({
      ...withEvent,
      provider: { ...withEvent.provider, accountStateAt: null },
    });
  });

  it("at or above the four-eyes threshold: the request asks Stripe, a second admin approves", async () => {
    const { bookingId, payout } = await newProvidersPayout({ ready: true, providerShare: 150_000 });
    const requested = await requestForceRelease(h.ctx(ada), { payoutId: payout.id, reason: "VIP provider" }, { stripe: h.stripe });
    expect(requested).toMatchObject({ outcome: "approval_requested" });
    expect(await db.provider.findUniqueOrThrow({ where: { id: payout.providerId } })).toMatchObject({ payoutsEnabled: true });
    const approval = requested.outcome === "approval_requested" ? requested.approval : null;
    h.clock.advance(HOUR);
    const approved = await approveForceRelease(h.ctx(bea), { approvalId: approval!.id, reason: "Checked" }, { stripe: h.stripe });
    expect(approved).toMatchObject({ approval: { status: "approved" }, payout: { status: "scheduled" }, transferRequested: true });
    expect((await outcome(bookingId)).payout).toMatchObject({ status: "scheduled" });
  });

  it("an account Stripe says cannot receive payouts is refused as after an account.updated, and the payout held", async () => {
    const { accountId, bookingId, payout } = await newProvidersPayout({ ready: false });
    await expect(
      requestForceRelease(h.ctx(ada), { payoutId: payout.id, reason: "Provider asked" }, { stripe: h.stripe }),
    ).rejects.toMatchObject({
      status: 409,
      message: "Cannot force release: the provider's Stripe account cannot receive payouts.",
    });
    expect(h.fake.requests().some((r) => r.path === `/v1/accounts/${accountId}`)).toBe(true);
    expect(await outcome(bookingId)).toMatchObject({
      provider: { payoutsEnabled: false, told: true },
      payout: { status: "on_hold", holdReason: "provider_account_not_ready" },
    });
    const detail = await getPayoutDetail(db, payout.id, { id: ada.id, role: "admin" });
    expect(detail!.actions.find((a) => a.action === "force_release")).toMatchObject({
      allowed: false,
      disabledReason: "The provider's Stripe account cannot receive payouts.",
    });
  });

  it("when Stripe cannot be asked, nothing changes and the admin is told to try again", async () => {
    const { accountId, bookingId, payout } = await newProvidersPayout({ ready: true });
    h.fake.failNext({ method: "GET", path: `/v1/accounts/${accountId}` }, { kind: "status", status: 500 });
    const before = await payoutOf(payout.bookingId);
    await expect(
      requestForceRelease(h.ctx(ada), { payoutId: payout.id, reason: "Provider asked" }, { stripe: h.stripe }),
    ).rejects.toMatchObject({ status: 503, code: "unavailable" });
    expect(await payoutOf(payout.bookingId)).toEqual(before);
    expect((await outcome(bookingId)).provider).toMatchObject({ payoutsEnabled: false, told: false });
    expect(await requestForceRelease(h.ctx(ada), { payoutId: payout.id, reason: "Provider asked" }, { stripe: h.stripe })).toMatchObject({
      outcome: "applied",
    });
  });
});
