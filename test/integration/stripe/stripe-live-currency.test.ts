// Stripe in live mode, a EUR booking on a platform whose Stripe balance settles in USD only: the
// charge is converted by Stripe, so the provider is paid in USD from that charge at its own rate
// (rounded down); without a charge nothing can convert it, and it is held from the start.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { formatMoney } from "@/lib/money/format-money";
import { getPayoutDetail } from "@/lib/payouts/get-payout-detail";

import { HOUR, payoutOf, startEngineHarness, transferEvent, type TEngineHarness } from "../../support/engine";

const DAY = 24 * HOUR;

let h: TEngineHarness;
let adminId: string;

beforeAll(async () => {
  h = await startEngineHarness();
  const admin = await db.adminUser.create({ data: { email: "fx@payouts.test", name: "Felix Fx", role: "admin", passwordHash: "x" } });
  adminId = admin.id;
});

afterAll(async () => {
  await h.fake.stop();
});

const transferPosts = (payoutId: string) =>
  h.fake.requests().filter((r) => r.method === "POST" && r.path === "/v1/transfers" && r.params["metadata[payoutId]"] === payoutId);

describe("a EUR booking on a platform that settles in USD", () => {
  const saved = process.env.STRIPE_SETTLEMENT_CURRENCIES;

  beforeAll(() => {
    process.env.STRIPE_SETTLEMENT_CURRENCIES = "usd";
    resetEnvForTests();
  });

  afterAll(() => {
    if (saved === undefined) delete process.env.STRIPE_SETTLEMENT_CURRENCIES;
    else process.env.STRIPE_SETTLEMENT_CURRENCIES = saved;
    resetEnvForTests();
  });

  beforeEach(() => {
    h.clock.set(new Date());
    // Nothing in the balance: only the charge can pay, and only in the currency it settled in.
    h.fake.setBalance("usd", 0);
    h.fake.setBalance("eur", 0);
  });

  it("is converted from the moment it arrives and transferred in USD from its charge, at the charge's rate rounded down", async () => {
    const availableOn = new Date(Math.floor((h.clock.now().getTime() + 5 * DAY) / 1000) * 1000);
    // The fake converts EUR at 1.1: 9999 EUR cents settle as round(10998.9) = 10999 USD cents.
    const charge = h.fake.createCharge({ amount: 9_999, currency: "eur", availableOn });
    const settled = h.fake.balanceTransaction(String(charge.balance_transaction));
    expect(settled).toMatchObject({ amount: 10_999, currency: "usd", exchange_rate: 1.1 });

    const { bookingId, payout: arrived } = await h.completeBooking({
      providerReady: true,
      currency: "EUR",
      providerShare: 7_777,
      stripeChargeId: charge.id,
    });
    expect(arrived).toMatchObject({ status: "scheduled", currency: "EUR", amount: 7_777, transferCurrency: "USD", holdReason: null });
    const converted = await db.auditLog.findMany({ where: { entityId: arrived!.id, action: "payout.currency_converted" } });
    expect(converted).toHaveLength(1);
    expect(converted[0]!.reason).toMatch(/holds USD, not EUR.*\(USD\)/);
    expect(await db.alert.count({ where: { payoutId: arrived!.id } })).toBe(0);

    h.clock.advance(48 * HOUR + 1000);
    const run = await h.run("transfer", transferEvent(arrived!.id));
    expect(run.result).toMatchObject({ kind: "transferred", attemptNumber: 1 });

    // floor(7777 × 10999 / 9999) = 8554 (7777 × 1.1 = 8554.7 would round to 8555).
    const posts = transferPosts(arrived!.id);
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({ status: 200, params: { amount: "8554", currency: "usd", source_transaction: charge.id } });
    const transfers = h.transfersFor(arrived!.id);
    expect(transfers).toMatchObject([{ amount: 8_554, currency: "usd", source_transaction: charge.id }]);
    expect(transfers).toHaveLength(1);
    expect(await payoutOf(bookingId)).toMatchObject({
      status: "transferred",
      amount: 7_777,
      currency: "EUR",
      transferCurrency: "USD",
      stripeTransferId: transfers[0]!.id,
    });

    const detail = await getPayoutDetail(db, arrived!.id, { id: adminId, role: "admin" });
    expect(detail?.payout).toMatchObject({ currency: "EUR", amount: 7_777, transferCurrency: "USD" });
    expect(detail?.transfers).toEqual([
      expect.objectContaining({
        status: "succeeded",
        sourceChargeId: charge.id,
        payoutAmount: 7_777,
        amount: 8_554,
        currency: "USD",
        exchangeRate: "1.1",
        stripeTransferId: transfers[0]!.id,
      }),
    ]);
    const timeline = detail!.timeline.filter((item) => item.kind === "audit").map((item) => item.kind === "audit" && item.action);
    expect(timeline).toContain("payout.currency_converted");
    expect(timeline).toContain("payout.transferred");
  });

  it("without a charge it is held as currency_unsupported when it arrives, with an alert, and never transferred", async () => {
    const { bookingId, payout: arrived } = await h.completeBooking({ providerReady: true, currency: "EUR", providerShare: 6_000 });
    expect(arrived).toMatchObject({ status: "on_hold", holdReason: "currency_unsupported", transferCurrency: null });
    expect(arrived!.holdNote).toMatch(/holds USD, not EUR, and the booking names no charge/);
    const alerts = await db.alert.findMany({ where: { payoutId: arrived!.id } });
    expect(alerts).toMatchObject([{ kind: "payout_currency_unsupported", severity: "critical", providerId: arrived!.providerId }]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.message).toContain(formatMoney(6_000, "EUR"));
    expect(await db.auditLog.count({ where: { entityId: arrived!.id, action: "payout.held" } })).toBe(1);

    // Due, requested, swept: it stays held and Stripe is never asked to move money.
    h.clock.advance(48 * HOUR + 1000);
    const run = await h.run("transfer", transferEvent(arrived!.id));
    expect(run.result).toMatchObject({ kind: "skipped" });
    await h.run("reconcile", null);
    h.clock.advance(8 * DAY);
    await h.run("reconcile", null);
    expect(await payoutOf(bookingId)).toMatchObject({
      status: "on_hold",
      holdReason: "currency_unsupported",
      attempts: 0,
      stripeTransferId: null,
    });
    expect(transferPosts(arrived!.id)).toHaveLength(0);
    expect(h.transfersFor(arrived!.id)).toHaveLength(0);
    expect(await db.transferAttempt.count({ where: { payoutId: arrived!.id } })).toBe(0);
    expect(await db.alert.count({ where: { payoutId: arrived!.id } })).toBe(1);
  });
});
