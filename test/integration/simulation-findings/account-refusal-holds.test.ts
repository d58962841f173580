// Found by the simulation (order dependence): the same facts about a provider's Stripe account
// ended differently by which came first. An account.updated saying the account cannot receive
// payouts, then one saying it can: the payout was held, released and paid. The transfer first,
// refused by Stripe because the account lacks the transfers capability
// (`insufficient_capabilities_for_transfer`), then the same events: the payout was failed (an
// attempt counted, an admin alerted) and stayed failed. The refusal is now what it means: Stripe
// telling us the account is not ready. The account is recorded as Stripe shows it, the payout held
// for `provider_account_not_ready` without spending an attempt, and released and paid (with a new
// key) when Stripe says the account is ready.
import { randomUUID } from "node:crypto";

import type Stripe from "stripe";
import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { cancelPayout } from "@/lib/payouts/cancel-payout";
import { claimTransfer } from "@/lib/payouts/transfer-claim";
import { executeTransfer } from "@/lib/payouts/transfer-execute";
import { prepareFunding } from "@/lib/payouts/transfer-funding";

import { ADMIN_ACTOR, HOUR, payoutOf, transferEvent } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { appEngineHarness, sendProcessed, stripeDeliveryOf } from "../../support/stripe-webhook";

const h = appEngineHarness();

const seconds = (at: Date) => Math.floor(at.getTime() / 1000);

/** account.updated with the account as Stripe shows it in that state (the fake's account is left in it), created at `at`. */
async function accountUpdated(accountId: string, ready: boolean, at: Date): Promise<Stripe.Event> {
  h.account({ id: accountId, payoutsEnabled: ready, transfersCapability: ready ? "active" : "inactive" });
  return stripeEvent({
    type: "account.updated",
    object: await h.stripe.accounts.retrieve(accountId),
    account: accountId,
    created: seconds(at),
  });
}

/** The account as Stripe shows it changes, and nobody tells us (the event is late, or lost). */
function accountBecomes(accountId: string, ready: boolean) {
  h.account({ id: accountId, payoutsEnabled: ready, transfersCapability: ready ? "active" : "inactive" });
}

/** What the facts leave behind: the order they came in must not change it. */
async function outcome(bookingId: string, since: Date) {
  const payout = await payoutOf(bookingId);
  const provider = await db.provider.findUniqueOrThrow({ where: { id: payout.providerId } });
  return {
    payout: { status: payout.status, holdReason: payout.holdReason, amount: payout.amount, attempts: payout.attempts },
    atStripe: h
      .transfersFor(payout.id)
      .map((t) => ({ amount: t.amount, currency: t.currency, toTheProvider: t.destination === provider.stripeAccountId })),
    provider: { payoutsEnabled: provider.payoutsEnabled, stateAfterStart: provider.accountStateAt!.getTime() - since.getTime() },
    alerts: await db.alert.findMany({ where: { payoutId: payout.id }, select: { kind: true, severity: true } }),
  };
}

describe("account not ready, then ready: told by account.updated or by Stripe refusing the transfer", () => {
  it("ends the same whichever comes first: held, not failed, then paid once, with no attempt spent on the refusal", async () => {
    async function scenario(order: "account_updated_first" | "transfer_refused_first") {
      const start = h.clock.now();
      const at = (ms: number) => new Date(seconds(new Date(start.getTime() + ms)) * 1000);
      const accountId = h.account();
      const { bookingId } = await h.completeBooking({ providerReady: true, stripeAccountId: accountId, providerShare: 8_000 });
      const payout = await payoutOf(bookingId);
      // The facts: the account cannot receive payouts an hour after the booking; two days later it can again.
      const notReady = await accountUpdated(accountId, false, at(HOUR));
      const ready = await accountUpdated(accountId, true, at(49 * HOUR));
      accountBecomes(accountId, false);

      if (order === "account_updated_first") {
        h.clock.advance(HOUR);
        await sendProcessed(notReady);
        expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "provider_account_not_ready" });
        h.clock.advance(47 * HOUR + 1_000);
        expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "skipped", status: "on_hold" });
      } else {
        // account.updated is late: the transfer is tried first, and Stripe refuses it.
        h.clock.advance(48 * HOUR + 1_000);
        const refused = await h.run("transfer", transferEvent(payout.id));
        expect(refused.error).toBeUndefined();
        expect(refused.result).toMatchObject({ kind: "held_account_not_ready" });
        expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "provider_account_not_ready", attempts: 0 });
        // The late event is older than what Stripe said after the refusal: it changes nothing.
        await sendProcessed(notReady);
        expect(await stripeDeliveryOf(notReady)).toMatchObject({ error: expect.stringContaining("a newer state is recorded") });
      }

      h.clock.advance(HOUR);
      accountBecomes(accountId, true);
      await sendProcessed(ready);
      expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", holdReason: null });
      const paid = await h.run("transfer", transferEvent(payout.id));
      expect(paid.result).toMatchObject({ kind: "transferred" });
      return { result: await outcome(bookingId, start), payoutId: payout.id };
    }

    const eventFirst = await scenario("account_updated_first");
    expect(eventFirst.result).toEqual({
      payout: { status: "transferred", holdReason: null, amount: 8_000, attempts: 1 },
      atStripe: [{ amount: 8_000, currency: "usd", toTheProvider: true }],
      provider: { payoutsEnabled: true, stateAfterStart: expect.any(Number) },
      alerts: [],
    });
    const refusalFirst = await scenario("transfer_refused_first");
    expect(refusalFirst.result).toEqual(eventFirst.result);

    // The refusal was stored under the first key: the payment after the release used a new one.
    const posts = h.fake
      .requests()
      .filter((r) => r.method === "POST" && r.path === "/v1/transfers" && r.params["metadata[payoutId]"] === refusalFirst.payoutId);
    expect(posts.map((r) => [r.idempotencyKey, r.status, r.replayed])).toEqual([
      [`payout:${refusalFirst.payoutId}:v1`, 400, false],
      [`payout:${refusalFirst.payoutId}:v1:r1`, 200, false],
    ]);
  });

  it("when Stripe cannot be asked for the account after the refusal, the refusal itself is recorded: held, and released when Stripe later says ready", async () => {
    const accountId = h.account();
    const { bookingId } = await h.completeBooking({ providerReady: true, stripeAccountId: accountId, providerShare: 8_000 });
    const payout = await payoutOf(bookingId);
    accountBecomes(accountId, false);
    h.clock.advance(48 * HOUR + 1_000);
    h.fake.failNext({ method: "GET", path: `/v1/accounts/${accountId}` }, { kind: "status", status: 500 });

    const refused = await h.run("transfer", transferEvent(payout.id));
    expect(refused.result).toMatchObject({ kind: "held_account_not_ready" });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "provider_account_not_ready", attempts: 0 });
    const provider = await db.provider.findUniqueOrThrow({ where: { id: payout.providerId } });
    expect(provider).toMatchObject({ payoutsEnabled: false });
    expect(provider.accountStateAt).not.toBeNull();
    const recorded = await db.auditLog.findFirstOrThrow({ where: { entityId: payout.providerId, action: "provider.account_not_ready" } });
    expect(recorded.reason).toContain("Stripe refused a transfer to it (insufficient_capabilities_for_transfer");
    expect(recorded.after).toMatchObject({
      payoutsEnabled: false,
      transfersActive: false,
      inferredFrom: expect.stringContaining("could not be asked"),
    });

    // An account.updated from before the refusal is older: it does not release the payout.
    const stale = stripeEvent({
      type: "account.updated",
      object: await (async () => {
        accountBecomes(accountId, true);
        return h.stripe.accounts.retrieve(accountId);
      })(),
      account: accountId,
      created: seconds(provider.accountStateAt!) - 60,
    });
    await sendProcessed(stale);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "provider_account_not_ready" });

    // No newer event comes; an hour later the sweep asks Stripe, which says ready: released and paid.
    h.clock.advance(HOUR + 1_000);
    await h.run("reconcile", null);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled" });
    expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });
    expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([8_000]);
  });
});

describe("a payout with several transfers, the first made before Stripe refused the next for the account", () => {
  it("keeps the transfer made, holds the rest with a critical alert, and pays only the rest when the account is ready", async () => {
    const accountId = h.account();
    // 5000 of the 8000 is carried by the booking's charge (its own transfer), the rest comes from the balance.
    const charge = h.fake.createCharge({ amount: 5_000, currency: "usd" });
    const { bookingId } = await h.completeBooking({
      providerReady: true,
      stripeAccountId: accountId,
      stripeChargeId: charge.id,
      providerShare: 8_000,
    });
    h.clock.advance(48 * HOUR + 1_000);
    const payout = await payoutOf(bookingId);

    // The first attempt makes the first transfer, then its process dies before the second.
    const runId = `run_${randomUUID()}`;
    const ctx = { ...h.ctx(), runId };
    expect(await prepareFunding(ctx, h.stripe, { payoutId: payout.id })).toBeNull();
    const claimed = await claimTransfer(ctx, { payoutId: payout.id });
    if (claimed.kind !== "claimed") throw new Error(`expected a claim, got ${JSON.stringify(claimed)}`);
    expect(claimed.claim.legs.map((l) => [l.leg, l.sourceChargeId, l.amount])).toEqual([
      [1, charge.id, 5_000],
      [2, null, 3_000],
    ]);
    expect((await executeTransfer(ctx, h.stripe, { ...claimed.claim, legs: claimed.claim.legs.slice(0, 1) })).result.kind).toBe(
      "succeeded",
    );

    // Meanwhile the account loses its transfers capability. Inngest's retry finds the first
    // transfer at Stripe, sends the second, and Stripe refuses it.
    accountBecomes(accountId, false);
    const retry = await h.run("transfer", transferEvent(payout.id), { runId });
    expect(retry.error).toBeUndefined();
    expect(retry.result).toMatchObject({ kind: "held_account_not_ready" });
    expect(await payoutOf(bookingId)).toMatchObject({
      status: "on_hold",
      holdReason: "provider_account_not_ready",
      stripeTransferId: null,
    });
    const [first] = h.transfersFor(payout.id);
    expect(h.transfersFor(payout.id)).toHaveLength(1);
    // The transfer made is kept on its leg; the refused one waits under a new key.
    expect(
      await db.payoutTransfer.findMany({
        where: { payoutId: payout.id, kind: "payout" },
        orderBy: { leg: "asc" },
        select: { leg: true, status: true, stripeTransferId: true, refusals: true },
      }),
    ).toEqual([
      { leg: 1, status: "succeeded", stripeTransferId: first!.id, refusals: 0 },
      { leg: 2, status: "pending", stripeTransferId: null, refusals: 1 },
    ]);
    // A person is told that part of it is with the provider and the rest waits.
    expect(await db.alert.findMany({ where: { payoutId: payout.id }, select: { kind: true, severity: true, message: true } })).toEqual([
      { kind: "transfer_held_partly_paid", severity: "critical", message: expect.stringContaining("$50.00 of $80.00 was transferred") },
    ]);
    // And the held payout cannot be cancelled as if nothing was paid.
    const admin = await db.adminUser.create({
      data: { email: `${randomUUID().slice(0, 8)}@payouts.test`, name: "Ada Admin", role: "admin", passwordHash: "x" },
    });
    await expect(cancelPayout(h.ctx(ADMIN_ACTOR(admin.id)), { payoutId: payout.id, reason: "provider left" })).rejects.toThrow();
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold" });

    // Stripe says the account is ready: released, and only the rest is sent.
    h.clock.advance(HOUR);
    await sendProcessed(await accountUpdated(accountId, true, h.clock.now()));
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled" });
    expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });
    expect(h.transfersFor(payout.id).map((t) => [t.amount, t.metadata?.leg])).toEqual([
      [5_000, "1"],
      [3_000, "2"],
    ]);
    const posts = h.fake
      .requests()
      .filter((r) => r.method === "POST" && r.path === "/v1/transfers" && r.params["metadata[payoutId]"] === payout.id);
    expect(posts.map((r) => [r.idempotencyKey, r.status])).toEqual([
      [`payout:${payout.id}:v1`, 200],
      [`payout:${payout.id}:v1:l2`, 400],
      [`payout:${payout.id}:v1:l2:r1`, 200],
    ]);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", amount: 8_000 });
  });
});
