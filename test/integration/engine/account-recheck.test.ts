// Payouts held because the provider's Stripe account could not receive them are released when
// Stripe says it can, even when that account.updated webhook never reaches us: the reconciliation
// sweep re-asks Stripe about held providers (each at most hourly, the least recently asked first).
import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { ACCOUNT_RECHECK_MS } from "@/lib/payouts/recheck-held-accounts";
import { sweepPayouts } from "@/lib/payouts/sweep-payouts";

import { HOUR, payoutOf, transferEvent, engineHarness } from "../../support/engine";

const h = engineHarness();

const accountLookups = (account: string) =>
  h.fake.requests().filter((r) => r.method === "GET" && r.path === `/v1/accounts/${account}`).length;

/** A due payout held because Stripe said the provider's account cannot receive payouts. */
async function heldForAccount() {
  const account = h.account({ payoutsEnabled: false });
  const { bookingId } = await h.completeBooking({ providerReady: true, stripeAccountId: account });
  await db.provider.updateMany({ where: { stripeAccountId: account }, data: { payoutsEnabled: false } });
  h.clock.advance(48 * HOUR + 1000);
  const payout = await payoutOf(bookingId);
  await h.run("transfer", transferEvent(payout.id));
  expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "provider_account_not_ready" });
  return { account, bookingId, payoutId: payout.id };
}

describe("the sweep re-checks accounts of held providers", () => {
  it("releases and pays a held payout once Stripe says the account is ready, with no webhook", async () => {
    const { account, bookingId, payoutId } = await heldForAccount();
    // The provider finishes onboarding at Stripe; the account.updated webhook is lost.
    h.fake.addAccount({ id: account, payoutsEnabled: true, transfersCapability: "active" });

    // Asked at the transfer just now: the next sweep does not ask again within the hour.
    const lookupsBefore = accountLookups(account);
    h.clock.advance(15 * 60 * 1000);
    await h.run("reconcile", null);
    expect(accountLookups(account)).toBe(lookupsBefore);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold" });

    h.clock.advance(ACCOUNT_RECHECK_MS);
    const sweep = await h.run("reconcile", null);
    expect(sweep.error).toBeUndefined();
    expect(accountLookups(account)).toBe(lookupsBefore + 1);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", holdReason: null });
    expect(
      await db.outboxEvent.count({ where: { name: "payout/transfer.requested", data: { path: ["payoutId"], equals: payoutId } } }),
    ).toBeGreaterThan(0);

    await h.run("transfer", transferEvent(payoutId));
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred" });
    const audit = await db.auditLog.findMany({ where: { entityId: payoutId, action: "payout.released" } });
    expect(audit.map((a) => a.reason)).toEqual(["provider's Stripe account can receive payouts"]);
  });

  it("keeps a payout held while Stripe still says no, and asks again an hour later", async () => {
    const { account, bookingId } = await heldForAccount();
    h.clock.advance(ACCOUNT_RECHECK_MS + 1000);
    const before = accountLookups(account);
    await h.run("reconcile", null);
    expect(accountLookups(account)).toBe(before + 1);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "provider_account_not_ready" });

    h.clock.advance(15 * 60 * 1000);
    await h.run("reconcile", null);
    expect(accountLookups(account)).toBe(before + 1);
  });

  it("asks about at most 20 providers per sweep, the least recently asked first", async () => {
    const held = [];
    for (let i = 0; i < 23; i++) held.push(await heldForAccount());
    h.clock.advance(ACCOUNT_RECHECK_MS + 1000);
    // Providers of the other tests were just asked.
    await db.provider.updateMany({
      where: { stripeAccountId: { notIn: held.map((x) => x.account) } },
      data: { accountCheckedAt: h.clock.now() },
    });
    // Twenty asked two hours ago; the last three ten hours ago, the least recently asked.
    for (const [i, { account }] of held.entries()) {
      const hoursAgo = i < 20 ? 2 : 10;
      await db.provider.updateMany({
        where: { stripeAccountId: account },
        data: { accountCheckedAt: new Date(h.clock.now().getTime() - hoursAgo * HOUR + i) },
      });
    }
    const before = held.map(({ account }) => accountLookups(account));
    const first = await sweepPayouts(h.ctx(), h.stripe);
    expect(first).toMatchObject({ accountChecks: 20, accountsReady: 0, accountCheckErrors: 0 });
    const askedFirst = held.map(({ account }, i) => accountLookups(account) > before[i]!);
    expect(askedFirst.slice(20)).toEqual([true, true, true]);
    expect(askedFirst.filter(Boolean)).toHaveLength(20);

    // The next sweep asks the three left out, not the twenty just asked.
    h.clock.advance(15 * 60 * 1000);
    const second = await sweepPayouts(h.ctx(), h.stripe);
    expect(second.accountChecks).toBe(3);
    const askedEver = held.map(({ account }, i) => accountLookups(account) > before[i]!);
    expect(askedEver.every(Boolean)).toBe(true);
  });
});
