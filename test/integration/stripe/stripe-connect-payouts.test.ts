// Stripe Connect in live mode: what happens to the money after our transfer. The provider's
// connected account pays it out to their bank (payout.paid / payout.failed on that account,
// signed events through POST /api/webhooks/stripe): recorded on the provider and on the payouts
// whose transfers it carried, a failure alerted; an older state arriving late changes nothing.
import type Stripe from "stripe";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { formatMoney } from "@/lib/money/format-money";
import { getPayoutDetail } from "@/lib/payouts/get-payout-detail";
import { resetStripeForTests } from "@/lib/stripe/client";

import { HOUR, payoutOf, startEngineHarness, transferEvent, type TEngineHarness } from "../../support/engine";
import { stripeEvent } from "../../support/stripe-fixtures";
import { sendStripeEvent, stripeDeliveryOf } from "../../support/stripe-webhook";

const DAY = 24 * HOUR;
const STRIPE_ENV = [
  "STRIPE_API_HOST",
  "STRIPE_API_PORT",
  "STRIPE_API_PROTOCOL",
  "STRIPE_MAX_NETWORK_RETRIES",
  "STRIPE_TIMEOUT_MS",
] as const;

let h: TEngineHarness;
let adminId: string;
const saved: Partial<Record<(typeof STRIPE_ENV)[number], string>> = {};

beforeAll(async () => {
  h = await startEngineHarness();
  // The webhook route uses the app's own Stripe client (to list what a bank payout carried): point it at the fake.
  for (const key of STRIPE_ENV) saved[key] = process.env[key];
  Object.assign(process.env, h.fake.env(), { STRIPE_MAX_NETWORK_RETRIES: "0", STRIPE_TIMEOUT_MS: "2000" });
  resetEnvForTests();
  resetStripeForTests();
  const admin = await db.adminUser.create({
    data: { email: "connect@payouts.test", name: "Connie Connect", role: "admin", passwordHash: "x" },
  });
  adminId = admin.id;
});

afterAll(async () => {
  for (const key of STRIPE_ENV) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
  resetEnvForTests();
  resetStripeForTests();
  await h.fake.stop();
});

beforeEach(() => {
  h.clock.set(new Date());
});

const seconds = (at: Date) => Math.floor(at.getTime() / 1000);

/** A payout transferred from its booking's charge, and the clock moved past the day the charge's (and so the transfer's) funds become available. */
async function transferredPayout(providerShare: number) {
  const availableOn = new Date(Math.floor((h.clock.now().getTime() + 3 * DAY) / 1000) * 1000);
  const charge = h.fake.createCharge({ amount: providerShare + 2_000, currency: "usd", availableOn });
  const account = h.account();
  const { bookingId } = await h.completeBooking({
    providerReady: true,
    stripeAccountId: account,
    stripeChargeId: charge.id,
    providerShare,
  });
  h.clock.advance(48 * HOUR + 1000);
  const payout = await payoutOf(bookingId);
  expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });
  const [transfer] = h.transfersFor(payout.id);
  expect(transfer).toMatchObject({ amount: providerShare, source_transaction: charge.id, destination: account });
  // Until the charge's funds are available the provider has nothing to pay out.
  expect(h.fake.balances("usd", account)).toEqual({ available: 0, pending: providerShare });
  h.clock.set(new Date(availableOn.getTime() + HOUR));
  expect(h.fake.balances("usd", account)).toEqual({ available: providerShare, pending: 0 });
  const provider = await db.provider.findUniqueOrThrow({ where: { id: payout.providerId } });
  return { payout, transfer: transfer!, account, provider };
}

function bankPayoutEvent(type: "payout.paid" | "payout.failed", object: Stripe.Payout, account: string, at: Date) {
  return stripeEvent({ type, object, account, created: seconds(at) });
}

const detailOf = async (payoutId: string) => {
  const detail = await getPayoutDetail(db, payoutId, { id: adminId, role: "admin" });
  if (!detail) throw new Error(`no payout ${payoutId}`);
  return detail;
};

const auditActions = async (payoutId: string) =>
  (await detailOf(payoutId)).timeline.flatMap((item) => (item.kind === "audit" ? [item.action] : []));

describe("the provider's bank payout", () => {
  it("payout.failed (account_closed): recorded failed, a critical alert naming the provider and the amount, on the payout's timeline", async () => {
    const { payout, transfer, account, provider } = await transferredPayout(8_000);
    const bankPayout = h.fake.payoutAccount(account, { status: "failed", failureCode: "account_closed" });
    expect(bankPayout).toMatchObject({ amount: 8_000, currency: "usd", status: "failed", failure_code: "account_closed", automatic: true });
    const event = bankPayoutEvent("payout.failed", bankPayout, account, h.clock.now());

    expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true } });
    expect(await stripeDeliveryOf(event)).toMatchObject({ status: "processed", account, type: "payout.failed" });

    const recorded = await db.providerBankPayout.findUniqueOrThrow({ where: { stripePayoutId: bankPayout.id } });
    expect(recorded).toMatchObject({
      providerId: provider.id,
      amount: 8_000,
      currency: "USD",
      status: "failed",
      automatic: true,
      failureCode: "account_closed",
      failureMessage: "The bank account has been closed.",
      stateAt: new Date(seconds(h.clock.now()) * 1000),
    });
    // Linked through the transfer's payment on the connected account.
    const legs = await db.payoutTransfer.findMany({ where: { payoutId: payout.id } });
    expect(legs).toMatchObject([
      { stripeTransferId: transfer.id, destinationPaymentId: transfer.destination_payment, bankPayoutId: recorded.id },
    ]);

    const alerts = await db.alert.findMany({ where: { providerId: provider.id } });
    expect(alerts).toMatchObject([{ kind: "bank_payout_failed", severity: "critical", payoutId: payout.id }]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.message).toContain(provider.name);
    expect(alerts[0]!.message).toContain(formatMoney(8_000, "USD"));
    expect(alerts[0]!.message).toContain("account_closed");

    const detail = await detailOf(payout.id);
    const entries = detail.timeline.filter((item) => item.kind === "audit" && item.action === "payout.bank_payout_failed");
    expect(entries).toHaveLength(1);
    expect(entries[0]!.kind === "audit" && entries[0]!.reason).toMatch(new RegExp(`${bankPayout.id} of \\$80\\.00 failed: account_closed`));
    expect(detail.transfers).toMatchObject([
      {
        stripeTransferId: transfer.id,
        bankPayout: { stripePayoutId: bankPayout.id, status: "failed", failureCode: "account_closed", amount: 8_000 },
      },
    ]);
    expect(detail.provider.lastBankPayout).toMatchObject({ stripePayoutId: bankPayout.id, status: "failed" });
    expect(await db.auditLog.count({ where: { entityId: provider.id, action: "provider.bank_payout_failed" } })).toBe(1);
    // The payout itself stays transferred: the money is in the provider's Stripe balance.
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "transferred" });

    // Stripe delivers it again: acknowledged, nothing more.
    expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true, duplicate: true } });
    expect(await db.alert.count({ where: { providerId: provider.id } })).toBe(1);
  });

  it("payout.paid: recorded paid and linked to the payout's transfer through its destination payment, no alert", async () => {
    const { payout, transfer, account, provider } = await transferredPayout(5_500);
    const bankPayout = h.fake.payoutAccount(account, { status: "paid" });
    expect(bankPayout).toMatchObject({ amount: 5_500, status: "paid" });
    const event = bankPayoutEvent("payout.paid", bankPayout, account, h.clock.now());

    expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true } });
    expect(await stripeDeliveryOf(event)).toMatchObject({ status: "processed" });
    const recorded = await db.providerBankPayout.findUniqueOrThrow({ where: { stripePayoutId: bankPayout.id } });
    expect(recorded).toMatchObject({
      providerId: provider.id,
      amount: 5_500,
      currency: "USD",
      status: "paid",
      failureCode: null,
      arrivalDate: new Date(bankPayout.arrival_date * 1000),
    });
    const leg = await db.payoutTransfer.findFirstOrThrow({ where: { payoutId: payout.id } });
    expect(leg).toMatchObject({
      stripeTransferId: transfer.id,
      destinationPaymentId: transfer.destination_payment,
      bankPayoutId: recorded.id,
    });

    const detail = await detailOf(payout.id);
    expect(detail.transfers).toMatchObject([
      { stripeTransferId: transfer.id, bankPayout: { stripePayoutId: bankPayout.id, status: "paid" } },
    ]);
    expect(await auditActions(payout.id)).toContain("payout.bank_payout_paid");
    expect(await db.alert.count({ where: { providerId: provider.id } })).toBe(0);
  });

  it("an older event arriving late changes nothing: paid, then returned by the bank (failed), delivered failed first", async () => {
    const { payout, account, provider } = await transferredPayout(3_000);
    const paidAt = h.clock.now();
    const paid = h.fake.payoutAccount(account, { status: "paid" });
    const paidEvent = bankPayoutEvent("payout.paid", paid, account, paidAt);
    h.clock.advance(2 * DAY);
    const failedAt = h.clock.now();
    const failed = h.fake.setPayoutStatus(account, paid.id, "failed", "account_closed");
    const failedEvent = bankPayoutEvent("payout.failed", failed, account, failedAt);

    expect((await sendStripeEvent(failedEvent)).status).toBe(200);
    const before = await db.providerBankPayout.findUniqueOrThrow({ where: { stripePayoutId: paid.id } });
    expect(before).toMatchObject({ status: "failed", failureCode: "account_closed", stateAt: new Date(seconds(failedAt) * 1000) });
    expect(await db.alert.count({ where: { providerId: provider.id, kind: "bank_payout_failed" } })).toBe(1);
    const auditBefore = await db.auditLog.count();

    // The paid event, older, arrives now.
    expect(await sendStripeEvent(paidEvent)).toEqual({ status: 200, body: { received: true } });
    expect(await stripeDeliveryOf(paidEvent)).toMatchObject({ status: "processed" });
    expect(await db.providerBankPayout.findUniqueOrThrow({ where: { stripePayoutId: paid.id } })).toEqual(before);
    expect(await db.auditLog.count()).toBe(auditBefore);
    expect(await db.alert.count({ where: { providerId: provider.id } })).toBe(1);
    const actions = await auditActions(payout.id);
    expect(actions).toContain("payout.bank_payout_failed");
    expect(actions).not.toContain("payout.bank_payout_paid");
    expect((await detailOf(payout.id)).transfers).toMatchObject([{ bankPayout: { stripePayoutId: paid.id, status: "failed" } }]);
  });
});
