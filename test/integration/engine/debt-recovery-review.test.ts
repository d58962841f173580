// Adversarial review of debt recovery (docs/architecture.md, "Debt recovery"): each test attacks one
// way the money could disagree (payout amount vs transfers vs debt recovered vs debt left).
import { randomUUID } from "node:crypto";

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { addTip } from "@/lib/tips/add-tip";

import { HOUR, payoutOf, startEngineHarness, type TEngineHarness, transferEvent } from "../../support/engine";

let h: TEngineHarness;

beforeAll(async () => {
  h = await startEngineHarness();
});

afterAll(async () => {
  await h.fake.stop();
});

beforeEach(() => {
  h.clock.set(new Date());
});

type TProviderInput = { externalId: string; name: string; email: string; stripeAccountId: string };

/** A provider with open debts (failed reversals of an earlier payout), oldest first. */
async function providerWithDebts(amounts: number[], currency = "USD") {
  const key = randomUUID().slice(0, 8);
  const provider: TProviderInput = {
    externalId: `prov_${key}`,
    name: `Provider ${key}`,
    email: `p-${key}@example.test`,
    stripeAccountId: h.account(),
  };
  const { bookingId } = await h.completeBooking({ provider, stripeAccountId: provider.stripeAccountId, providerReady: true, currency });
  const earlier = await payoutOf(bookingId);
  const debts = [];
  for (const [i, amount] of amounts.entries()) {
    debts.push(
      await db.providerDebt.create({
        data: {
          providerId: earlier.providerId,
          payoutId: earlier.id,
          amount,
          currency,
          reason: "transfer reversal failed: balance_insufficient",
          createdAt: new Date(h.clock.now().getTime() - (amounts.length - i) * 1000),
        },
      }),
    );
  }
  return { provider, debts, earlier };
}

async function bookingOf(provider: TProviderInput, share = 8_000, currency = "USD") {
  const { bookingId } = await h.completeBooking({
    provider,
    stripeAccountId: provider.stripeAccountId,
    providerReady: true,
    providerShare: share,
    currency,
  });
  return payoutOf(bookingId);
}

const debtOf = (id: string) => db.providerDebt.findUniqueOrThrow({ where: { id } });
const sentFor = (payoutId: string) => h.transfersFor(payoutId).reduce((sum, t) => sum + t.amount, 0);
const topUpEvent = (transferId: string, payoutId: string) => ({ name: "payout/top-up.requested", data: { transferId, payoutId } });

describe("debt recovery under attack", () => {
  it("a tip that waited for the transfer is topped up by the tip alone, not by the debt recovered too", async () => {
    const { provider, debts } = await providerWithDebts([3_000]);
    const payout = await bookingOf(provider);
    h.clock.advance(48 * HOUR + 1000);
    h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "status", status: 500 });
    const runId = "run_tip_waits";
    expect((await h.run("transfer", transferEvent(payout.id), { runId })).error).toBeDefined();
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "processing", amount: 5_000, debtRecoveredAmount: 3_000 });

    // Tipped in the window, received while the transfer waits for its retry: it waits, then is topped up.
    await addTip(h.ctx(), {
      tipExternalId: `tip_${randomUUID()}`,
      bookingId: payout.bookingId,
      amount: 700,
      currency: "USD",
      tippedAt: new Date(h.clock.now().getTime() - 47 * HOUR),
    });
    expect((await h.run("transfer", transferEvent(payout.id), { runId })).error).toBeUndefined();
    const topUps = await db.payoutTransfer.findMany({ where: { payoutId: payout.id, status: "pending" } });
    expect(topUps.map((t) => t.amount)).toEqual([700]);
    for (const leg of topUps) expect((await h.run("topUp", topUpEvent(leg.id, payout.id))).error).toBeUndefined();

    const after = await payoutOf(payout.bookingId);
    expect(after).toMatchObject({ status: "transferred", tipAmount: 700, debtRecoveredAmount: 3_000, amount: 5_700 });
    // What Stripe moved is what the payout says it paid: the debt recovered stays recovered.
    expect(sentFor(payout.id)).toBe(after.amount);
    expect(await debtOf(debts[0]!.id)).toMatchObject({ recoveredAmount: 3_000, status: "settled" });
  });
});
