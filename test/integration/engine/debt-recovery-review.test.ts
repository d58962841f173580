// Adversarial review of debt recovery (docs/architecture.md, "Debt recovery"): each test attacks one
// way the money could disagree (payout amount vs transfers vs debt recovered vs debt left).
import { randomUUID } from "node:crypto";

import { describe, expect, it } from "vitest";

import { cancelBooking } from "@/lib/bookings/cancel-booking";
import { db } from "@/lib/db";
import { decideDebtClosing, requestDebtClosing } from "@/lib/payouts/close-provider-debt";
import { claimTransfer } from "@/lib/payouts/transfer-claim";
import { addTip } from "@/lib/tips/add-tip";

import { ADMIN_ACTOR, HOUR, payoutOf, transferEvent } from "../../support/engine";
import { bookingOf, debtOf, newProvider, providerWithDebts } from "../../support/provider-debts";
import { stripeEvent } from "../../support/stripe-fixtures";
import { appEngineHarness, sendProcessed } from "../../support/stripe-webhook";

// The engine with the app's Stripe pointed at the fake, so Stripe's webhooks (refunds) reach it too.
const h = appEngineHarness();
const REVERSALS = /\/v1\/transfers\/.+\/reversals/;

const sentFor = (payoutId: string) => h.transfersFor(payoutId).reduce((sum, t) => sum + t.amount, 0);
const topUpEvent = (transferId: string, payoutId: string) => ({ name: "payout/top-up.requested", data: { transferId, payoutId } });

/** P0 (80.00 of a 100.00 charge) transferred; 25.00 refunded after it, its 20.00 reversal refused: a 20.00 debt. */
async function debtFromRefusedReversal() {
  // P0 (80.00 of a 100.00 charge) is transferred; 25.00 refunded: its 20.00 reversal is refused, a debt.
  const provider = newProvider(h, "P");
  const charge = h.fake.createCharge({ amount: 10_000, currency: "usd" });
  const p0 = await bookingOf(h, provider, 8_000, "USD", charge.id);
  h.clock.advance(48 * HOUR + 1);
  expect((await h.run("transfer", transferEvent(p0.id))).result).toMatchObject({ kind: "transferred" });
  const refund = h.fake.refundCharge(charge.id, { amount: 2_500 });
  await sendProcessed(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
  const [reversal] = await db.transferReversal.findMany({ where: { payoutId: p0.id } });
  h.fake.failNext(
    { method: "POST", path: REVERSALS },
    { kind: "error", status: 400, type: "invalid_request_error", code: "balance_insufficient", message: "Insufficient funds." },
  );
  const reverse = { name: "payout/reversal.requested", data: { reversalId: reversal!.id, payoutId: p0.id } };
  expect((await h.run("reverse", reverse)).result).toMatchObject({ kind: "failed", debtRecorded: true });
  const [debt] = await db.providerDebt.findMany({ where: { payoutId: p0.id } });
  expect(debt).toMatchObject({ amount: 2_000, status: "open" });
  return { provider, p0, debt: debt!, refund };
}

describe("debt recovery under attack", () => {
  it("a tip that waited for the transfer is topped up by the tip alone, not by the debt recovered too", async () => {
    const { provider, debts } = await providerWithDebts(h, [3_000]);
    const payout = await bookingOf(h, provider);
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

  it("a refund that fails after its refused reversal's debt was recovered from a later payout gives the provider the recovery back", async () => {
    const { provider, p0, debt, refund } = await debtFromRefusedReversal();

    // P1 recovers the whole debt: 60.00 sent.
    const p1 = await bookingOf(h, provider);
    h.clock.advance(48 * HOUR + 1);
    expect((await h.run("transfer", transferEvent(p1.id))).result).toMatchObject({ kind: "transferred" });
    expect(sentFor(p1.id)).toBe(6_000);
    expect(await debtOf(debt.id)).toMatchObject({ recoveredAmount: 2_000, status: "settled" });

    // The refund fails: the provider did not owe the 20.00 after all, and P1 kept it from them.
    const failed = h.fake.setRefundStatus(refund.id, "failed", "expired_or_canceled_card");
    await sendProcessed(stripeEvent({ type: "refund.failed", object: failed }));
    const repayments = await db.payoutTransfer.findMany({ where: { payoutId: p0.id, kind: "repayment" } });
    for (const r of repayments) await h.run("repay", { name: "payout/repayment.requested", data: { repaymentId: r.id, payoutId: p0.id } });
    // Owed 80.00 + 80.00, paid 80.00 + 60.00: a person is told to give the 20.00 back, and it is not also repaid.
    expect(await db.alert.findMany({ where: { providerId: p0.providerId, kind: "forgiven_debt_was_recovered" } })).toMatchObject([
      { severity: "critical", message: expect.stringContaining("$20.00 of it had already been kept") },
    ]);
    expect(await db.providerDebt.findUniqueOrThrow({ where: { id: debt.id } })).toMatchObject({ status: "written_off" });
    expect(h.transfersFor(p0.id).filter((t) => t.metadata?.repaymentOf)).toEqual([]);
  });

  it("a run that died after Stripe made its transfer: the sweep records it and applies the recovery once", async () => {
    const { provider, debts, earlier } = await providerWithDebts(h, [3_000]);
    const payout = await bookingOf(h, provider);
    h.clock.advance(48 * HOUR + 1000);
    await claimTransfer({ ...h.ctx(), runId: "run_died" }, { payoutId: payout.id });
    const [leg] = await db.payoutTransfer.findMany({ where: { payoutId: payout.id } });
    const booking = await db.booking.findUniqueOrThrow({ where: { id: payout.bookingId } });
    await h.stripe.transfers.create(
      {
        amount: leg!.amount,
        currency: "usd",
        destination: provider.stripeAccountId,
        transfer_group: `booking_${booking.externalId}`,
        metadata: { payoutId: payout.id, amountVersion: String(leg!.amountVersion), leg: String(leg!.leg) },
      },
      { idempotencyKey: leg!.idempotencyKey },
    );
    h.clock.advance(HOUR + 60_000);
    await h.run("reconcile", null);
    await h.run("reconcile", null);
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "transferred", amount: 5_000, debtRecoveredAmount: 3_000 });
    expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([5_000]);
    expect(await debtOf(debts[0]!.id)).toMatchObject({ recoveredAmount: 3_000, status: "settled" });
    expect(await db.auditLog.count({ where: { entityId: earlier.id, action: "provider.debt_recovered" } })).toBe(1);
  });

  it("a booking cancelled between the claim and the transfer: nothing sent, the reservation given back to the debt", async () => {
    const { provider, debts } = await providerWithDebts(h, [3_000]);
    const payout = await bookingOf(h, provider);
    h.clock.advance(48 * HOUR + 1000);
    const runId = "run_cancel_between";
    await claimTransfer({ ...h.ctx(), runId }, { payoutId: payout.id });
    expect(await debtOf(debts[0]!.id)).toMatchObject({ recoveredAmount: 3_000 });
    await cancelBooking(h.ctx(), { bookingId: payout.bookingId, cancelledAt: h.clock.now(), reason: "provider no-show" });
    await h.run("transfer", transferEvent(payout.id), { runId });
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "cancelled", debtRecoveredAmount: 0 });
    expect(h.transfersFor(payout.id)).toEqual([]);
    expect(await debtOf(debts[0]!.id)).toMatchObject({ recoveredAmount: 0, status: "open" });
    expect(await db.debtRecovery.findMany({ where: { payoutId: payout.id } })).toMatchObject([{ status: "released" }]);
  });

  it("a booking cancelled after its payout was applied to the provider's debt is not passed over in silence", async () => {
    const { provider, debts } = await providerWithDebts(h, [9_000]);
    const payout = await bookingOf(h, provider);
    h.clock.advance(48 * HOUR + 1000);
    await h.run("transfer", transferEvent(payout.id));
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "applied_to_debt", debtRecoveredAmount: 8_000 });
    expect(await debtOf(debts[0]!.id)).toMatchObject({ recoveredAmount: 8_000 });

    // The provider did not earn it after all: the 80.00 it paid of their debt must be looked at by a person.
    await cancelBooking(h.ctx(), { bookingId: payout.bookingId, cancelledAt: h.clock.now(), reason: "provider no-show" });
    expect(await db.alert.findMany({ where: { payoutId: payout.id } })).toMatchObject([
      { kind: "booking_cancelled_after_transfer", message: expect.stringContaining("debt") },
    ]);
  });

  it("a payout put back after an unknown outcome is retried under the same key: a transfer Stripe makes late is not made twice", async () => {
    const { provider, debts } = await providerWithDebts(h, [3_000]);
    const payout = await bookingOf(h, provider);
    h.clock.advance(48 * HOUR + 1000);
    // Attempt 1 gets a 500 (Stripe's outcome unknown); an hour later the sweep finds nothing and puts it back.
    h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "status", status: 500 });
    await h.run("transfer", transferEvent(payout.id), { runId: "run_unknown" });
    const [leg] = await db.payoutTransfer.findMany({ where: { payoutId: payout.id } });
    expect(leg).toMatchObject({ amount: 5_000, status: "pending" });
    h.clock.advance(HOUR + 60_000);
    await h.run("reconcile", null);
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "scheduled" });

    // Tried again; and attempt 1's request, lagging at Stripe, is made after all (its key, its parameters).
    await h.run("transfer", transferEvent(payout.id));
    await h.stripe.transfers.create(
      {
        amount: leg!.amount,
        currency: "usd",
        destination: provider.stripeAccountId,
        transfer_group: `booking_${(await db.booking.findUniqueOrThrow({ where: { id: payout.bookingId } })).externalId}`,
        metadata: { payoutId: payout.id, amountVersion: String(leg!.amountVersion), leg: String(leg!.leg) },
      },
      { idempotencyKey: leg!.idempotencyKey },
    );
    // One transfer of the net amount, the debt recovered once.
    expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([5_000]);
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "transferred", amount: 5_000, debtRecoveredAmount: 3_000 });
    expect(await debtOf(debts[0]!.id)).toMatchObject({ recoveredAmount: 3_000, status: "settled" });
  });

  it("a refund of the whole booking after a netted transfer reverses what was sent and alerts the part that paid the debt", async () => {
    const { provider, debts } = await providerWithDebts(h, [3_000]);
    const charge = h.fake.createCharge({ amount: 10_000, currency: "usd" });
    const payout = await bookingOf(h, provider, 8_000, "USD", charge.id);
    h.clock.advance(48 * HOUR + 1000);
    expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });
    expect(sentFor(payout.id)).toBe(5_000);

    h.fake.refundCharge(charge.id, { amount: 10_000 });
    await sendProcessed(stripeEvent({ type: "charge.refunded", object: h.fake.charge(charge.id) }));
    const reversals = await db.transferReversal.findMany({ where: { payoutId: payout.id } });
    // Never more than Stripe holds of the transfer; the 30.00 that paid the debt is a person's to recover.
    expect(reversals.map((r) => r.amount)).toEqual([5_000]);
    for (const r of reversals)
      await h.run("reverse", { name: "payout/reversal.requested", data: { reversalId: r.id, payoutId: payout.id } });
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "reversed", reversedAmount: 5_000, debtRecoveredAmount: 3_000 });
    expect(await db.alert.findMany({ where: { payoutId: payout.id, kind: "reversal_not_covered" } })).toMatchObject([
      { message: expect.stringContaining("$30.00") },
    ]);
    expect(await debtOf(debts[0]!.id)).toMatchObject({ status: "settled", recoveredAmount: 3_000 });
  });

  it.each([
    ["refused", 0],
    ["made", 1],
  ] as const)(
    "a refund that fails while a payout in flight reserves its debt, that transfer then %s: given back only what was kept",
    async (outcome, alerts) => {
      const { provider, p0, debt, refund } = await debtFromRefusedReversal();
      const p1 = await bookingOf(h, provider);
      h.clock.advance(48 * HOUR + 1);
      const runId = `run_p1_in_flight_${outcome}`;
      await claimTransfer({ ...h.ctx(), runId }, { payoutId: p1.id });
      expect(await debtOf(debt.id)).toMatchObject({ recoveredAmount: 2_000, status: "open" });

      const failed = h.fake.setRefundStatus(refund.id, "failed", "expired_or_canceled_card");
      await sendProcessed(stripeEvent({ type: "refund.failed", object: failed }));
      expect(await debtOf(debt.id)).toMatchObject({ status: "written_off" });

      if (outcome === "refused")
        h.fake.failNext(
          { method: "POST", path: "/v1/transfers" },
          {
            kind: "error",
            status: 400,
            type: "invalid_request_error",
            code: "resource_missing",
            param: "destination",
            message: "No such destination",
          },
        );
      await h.run("transfer", transferEvent(p1.id), { runId });
      expect(await payoutOf(p1.bookingId)).toMatchObject(
        outcome === "refused" ? { status: "failed", debtRecoveredAmount: 0 } : { status: "transferred", debtRecoveredAmount: 2_000 },
      );
      // Refused: nothing was kept, nobody is told to give anything back. Made: the 20.00 kept is named.
      const told = await db.alert.findMany({ where: { providerId: p0.providerId, kind: "forgiven_debt_was_recovered" } });
      expect(told).toHaveLength(alerts);
      if (alerts) expect(told[0]!.message).toContain("$20.00 of that payout was kept");
    },
  );
});

describe("closing a debt under attack", () => {
  async function admins() {
    const make = (name: string) =>
      db.adminUser.create({
        data: {
          email: `${name}-${randomUUID().slice(0, 6)}@payouts.test`,
          name,
          role: "admin",
          passwordHash: "x",
          createdAt: new Date(h.clock.now().getTime() - HOUR),
        },
      });
    const [a, b] = [await make("Ada"), await make("Bob")];
    return { asAda: { ...h.ctx(), actor: ADMIN_ACTOR(a.id) }, asBob: { ...h.ctx(), actor: ADMIN_ACTOR(b.id, "Bob Admin") } };
  }

  it("a four-eyes request overtaken by a recovery is cancelled on approval, and the cancellation is audited", async () => {
    const { asAda, asBob } = await admins();
    const { provider, debts, earlier } = await providerWithDebts(h, [3_000]);
    const requested = await requestDebtClosing(
      asAda,
      { debtId: debts[0]!.id, closing: "write_off", reason: "provider account closed" },
      { fourEyesThreshold: 1_000 },
    );
    const requestId = requested.outcome === "approval_requested" ? requested.request.id : "";
    // A payout recovers 1,000 of it meanwhile (applied to debt whole).
    const payout = await bookingOf(h, provider, 1_000);
    h.clock.advance(48 * HOUR + 1000);
    await h.run("transfer", transferEvent(payout.id));
    expect(await debtOf(debts[0]!.id)).toMatchObject({ recoveredAmount: 1_000, status: "open" });

    // Approving what no longer matches the debt writes nothing off: the request is cancelled, on the record.
    await expect(decideDebtClosing(asBob, { requestId, approve: true, reason: "checked with finance" })).rejects.toMatchObject({
      status: 409,
    });
    expect(await db.debtClosingRequest.findUniqueOrThrow({ where: { id: requestId } })).toMatchObject({ status: "cancelled" });
    expect(await debtOf(debts[0]!.id)).toMatchObject({ status: "open", recoveredAmount: 1_000 });
    expect(await db.auditLog.findMany({ where: { entityId: earlier.id, action: "provider.debt_closing_cancelled" } })).toMatchObject([
      { after: { debtId: debts[0]!.id, requestId, requested: 3_000, left: 2_000 } },
    ]);
  });

  it("a waive racing the claim that reserves the same debt: one of them takes it, never both", async () => {
    const { asAda } = await admins();
    for (let i = 0; i < 3; i++) {
      const { provider, debts } = await providerWithDebts(h, [3_000]);
      const payout = await bookingOf(h, provider);
      h.clock.advance(48 * HOUR + 1000);
      const [claim, waive] = await Promise.allSettled([
        claimTransfer({ ...h.ctx(), runId: `run_waive_race_${i}` }, { payoutId: payout.id }),
        requestDebtClosing(asAda, { debtId: debts[0]!.id, closing: "waive", reason: "goodwill" }, { fourEyesThreshold: 1_000_000 }),
      ]);
      expect(claim.status).toBe("fulfilled");
      const debt = await debtOf(debts[0]!.id);
      const after = await payoutOf(payout.bookingId);
      if (waive.status === "fulfilled") {
        expect(debt).toMatchObject({ status: "waived", recoveredAmount: 0 });
        expect(after).toMatchObject({ status: "processing", amount: 8_000, debtRecoveredAmount: 0 });
      } else {
        expect(waive.reason).toMatchObject({ status: 409 });
        expect(debt).toMatchObject({ status: "open", recoveredAmount: 3_000 });
        expect(after).toMatchObject({ status: "processing", amount: 5_000, debtRecoveredAmount: 3_000 });
      }
    }
  });
});
