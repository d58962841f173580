// Stripe in live mode, money that is not there yet: a charge whose funds are still pending pays
// the provider through `source_transaction`; a part no charge can carry waits for the platform's
// balance (on hold, no attempt spent) until the date Stripe gave, and raises an alert only after
// FUNDS_WAIT_ALERT_DAYS. A tip paid with its own charge is transferred from that charge, once,
// through lost answers and crashes.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { formatMoney } from "@/lib/money/format-money";
import { getPayoutDetail } from "@/lib/payouts/get-payout-detail";
import { claimTransfer } from "@/lib/payouts/transfer-claim";
import { executeTransfer } from "@/lib/payouts/transfer-execute";
import { prepareFunding } from "@/lib/payouts/transfer-funding";
import { transferPayout } from "@/lib/payouts/transfer-payout";
import type { TStripeWriteGate } from "@/lib/stripe/write-gate";
import { addTip } from "@/lib/tips/add-tip";

import { HOUR, payoutOf, startEngineHarness, transferEvent, type TEngineHarness } from "../../support/engine";

const DAY = 24 * HOUR;

let h: TEngineHarness;
let adminId: string;

beforeAll(async () => {
  h = await startEngineHarness();
  const admin = await db.adminUser.create({ data: { email: "funds@payouts.test", name: "Fay Funds", role: "admin", passwordHash: "x" } });
  adminId = admin.id;
});

afterAll(async () => {
  await h.fake.stop();
});

beforeEach(() => {
  h.clock.set(new Date());
  // Live mode: the platform's available USD balance is empty; only charges bring money.
  h.fake.setBalance("usd", 0);
});

/** A whole second (Stripe's available_on has no milliseconds) `ms` from the test clock. */
const secondsFromNow = (ms: number) => new Date(Math.floor((h.clock.now().getTime() + ms) / 1000) * 1000);

const transferPosts = (payoutId: string) =>
  h.fake.requests().filter((r) => r.method === "POST" && r.path === "/v1/transfers" && r.params["metadata[payoutId]"] === payoutId);

const detailOf = async (payoutId: string) => {
  const detail = await getPayoutDetail(db, payoutId, { id: adminId, role: "admin" });
  if (!detail) throw new Error(`no payout ${payoutId}`);
  return detail;
};

async function completeDue(overrides: Parameters<TEngineHarness["completeBooking"]>[0] = {}) {
  const { bookingId } = await h.completeBooking({ providerReady: true, ...overrides });
  h.clock.advance(48 * HOUR + 1000);
  return payoutOf(bookingId);
}

describe("a charge whose funds are pending", () => {
  it("pays the provider with source_transaction = the charge while the platform's available balance is 0", async () => {
    const availableOn = secondsFromNow(5 * DAY);
    const charge = h.fake.createCharge({ amount: 10_000, currency: "usd", availableOn });
    const payout = await completeDue({ stripeChargeId: charge.id, providerShare: 8_000 });
    expect(h.fake.balances("usd")).toEqual({ available: 0, pending: 10_000 });

    const run = await h.run("transfer", transferEvent(payout.id));
    expect(run.error).toBeUndefined();
    expect(run.result).toMatchObject({ kind: "transferred", attemptNumber: 1 });

    const booking = await db.booking.findUniqueOrThrow({ where: { id: payout.bookingId }, include: { provider: true } });
    const posts = transferPosts(payout.id);
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({
      status: 200,
      idempotencyKey: `payout:${payout.id}:v1`,
      params: {
        amount: "8000",
        currency: "usd",
        destination: booking.provider.stripeAccountId,
        source_transaction: charge.id,
        transfer_group: `booking_${booking.externalId}`,
        "metadata[payoutId]": payout.id,
        "metadata[leg]": "1",
      },
    });
    const [transfer] = h.transfersFor(payout.id);
    expect(h.transfersFor(payout.id)).toHaveLength(1);
    expect(transfer).toMatchObject({ amount: 8_000, currency: "usd", source_transaction: charge.id });
    expect(await payoutOf(payout.bookingId)).toMatchObject({
      status: "transferred",
      attempts: 1,
      stripeTransferId: transfer!.id,
      holdReason: null,
      fundsExpectedAt: null,
    });
    // The transfer leaves with the charge: still pending at the platform until the charge is available.
    expect(h.fake.balances("usd")).toEqual({ available: 0, pending: 2_000 });

    const detail = await detailOf(payout.id);
    expect(detail.transfers).toMatchObject([
      {
        kind: "payout",
        leg: 1,
        status: "succeeded",
        sourceChargeId: charge.id,
        payoutAmount: 8_000,
        amount: 8_000,
        currency: "USD",
        exchangeRate: null,
        stripeTransferId: transfer!.id,
      },
    ]);
    expect(detail.transfers).toHaveLength(1);
  });

  it("a part no charge can carry waits for funds until the charge's available_on, then is transferred once with a new key", async () => {
    const availableOn = secondsFromNow(4 * DAY);
    // The provider's share is more than the charge: 5000 comes from the charge, 3000 from the balance.
    const charge = h.fake.createCharge({ amount: 5_000, currency: "usd", availableOn });
    const payout = await completeDue({ stripeChargeId: charge.id, providerShare: 8_000 });
    const refusedAt = h.clock.now();

    const runId = "run_waits_for_funds";
    const first = await h.run("transfer", transferEvent(payout.id), { runId });
    expect(first.error).toBeUndefined();
    expect(first.result).toEqual({ kind: "waiting_for_funds", until: availableOn.toISOString() });

    // The charge's leg was made; the balance leg was refused (and Stripe stored the refusal under its key).
    const posts = transferPosts(payout.id);
    expect(posts.map((p) => [p.params.amount, p.params.source_transaction ?? null, p.idempotencyKey, p.status])).toEqual([
      ["5000", charge.id, `payout:${payout.id}:v1`, 200],
      ["3000", null, `payout:${payout.id}:v1:l2`, 400],
    ]);
    expect(h.transfersFor(payout.id)).toMatchObject([{ amount: 5_000, source_transaction: charge.id }]);

    const waiting = await payoutOf(payout.bookingId);
    expect(waiting).toMatchObject({
      status: "on_hold",
      holdReason: "awaiting_funds",
      attempts: 0,
      fundsExpectedAt: availableOn,
      fundsWaitingSince: refusedAt,
      processingStartedAt: null,
      stripeTransferId: null,
    });
    const attempts = await db.transferAttempt.findMany({ where: { payoutId: payout.id } });
    expect(attempts).toMatchObject([{ attemptNumber: 1, status: "failed", counted: false, errorCode: "balance_insufficient" }]);
    expect(attempts).toHaveLength(1);
    expect(await db.alert.count({ where: { payoutId: payout.id } })).toBe(0);

    const detail = await detailOf(payout.id);
    expect(detail.payout).toMatchObject({
      fundsExpectedAt: availableOn.toISOString(),
      fundsWaitingSince: refusedAt.toISOString(),
      attempts: 0,
    });
    const awaiting = detail.timeline.filter((item) => item.kind === "audit" && item.action === "payout.awaiting_funds");
    expect(awaiting).toHaveLength(1);
    expect(awaiting[0]).toMatchObject({ statusFrom: "processing", statusTo: "on_hold" });
    expect(awaiting[0]!.kind === "audit" && awaiting[0]!.reason).toContain(availableOn.toISOString());
    expect(detail.transfers.map((t) => [t.leg, t.status, t.sourceChargeId, t.amount])).toEqual([
      [1, "succeeded", charge.id, 5_000],
      [2, "pending", null, 3_000],
    ]);

    // A minute before the date the sweep leaves it alone.
    h.clock.set(new Date(availableOn.getTime() - 60_000));
    await h.run("reconcile", null);
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "on_hold", holdReason: "awaiting_funds" });

    // The date has come and the money is there: released, and transferred once more with a new key.
    h.clock.set(new Date(availableOn.getTime() + 60_000));
    h.fake.setBalance("usd", 50_000);
    await h.run("reconcile", null);
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "scheduled", holdReason: null });
    const released = await db.outboxEvent.findMany({ where: { name: "payout/transfer.requested" } });
    expect(
      released.filter(
        (e) =>
          (e.data as { payoutId: string; reason: string }).payoutId === payout.id && (e.data as { reason: string }).reason === "funds_due",
      ),
    ).toHaveLength(1);

    const second = await h.run("transfer", transferEvent(payout.id));
    expect(second.result).toMatchObject({ kind: "transferred", attemptNumber: 2 });
    const after = transferPosts(payout.id);
    expect(after).toHaveLength(3);
    expect(after[2]).toMatchObject({
      status: 200,
      idempotencyKey: `payout:${payout.id}:v1:l2:r1`,
      params: { amount: "3000", currency: "usd" },
    });
    expect(after[2]!.params.source_transaction).toBeUndefined();

    const transfers = h.transfersFor(payout.id);
    expect(transfers.map((t) => [t.amount, t.source_transaction])).toEqual([
      [5_000, charge.id],
      [3_000, null],
    ]);
    expect(transfers.reduce((sum, t) => sum + t.amount, 0)).toBe(8_000);
    expect(await payoutOf(payout.bookingId)).toMatchObject({
      status: "transferred",
      attempts: 1,
      stripeTransferId: transfers[0]!.id,
      fundsExpectedAt: null,
      fundsWaitingSince: null,
    });
    expect(h.fake.balance("usd")).toBe(47_000);
    // Transferred before FUNDS_WAIT_ALERT_DAYS: never alerted.
    h.clock.advance(10 * DAY);
    await h.run("reconcile", null);
    expect(await db.alert.count({ where: { payoutId: payout.id } })).toBe(0);
  });

  it("without a charge it looks again in an hour; an alert comes after FUNDS_WAIT_ALERT_DAYS and not before", async () => {
    expect(getEnv().FUNDS_WAIT_ALERT_DAYS).toBe(7);
    const payout = await completeDue({ providerShare: 8_000 });
    const since = h.clock.now();
    const runId = "run_no_charge";

    const first = await h.run("transfer", transferEvent(payout.id), { runId });
    expect(first.result).toEqual({ kind: "waiting_for_funds", until: new Date(since.getTime() + HOUR).toISOString() });
    expect(await payoutOf(payout.bookingId)).toMatchObject({
      status: "on_hold",
      holdReason: "awaiting_funds",
      attempts: 0,
      fundsExpectedAt: new Date(since.getTime() + HOUR),
      fundsWaitingSince: since,
    });
    const detail = await detailOf(payout.id);
    const entry = detail.timeline.find((item) => item.kind === "audit" && item.action === "payout.awaiting_funds");
    expect(entry?.kind === "audit" && entry.reason).toContain(new Date(since.getTime() + HOUR).toISOString());

    // Every few days the sweep releases it and a new attempt is refused again: the wait keeps its start.
    for (const day of [1, 3, 5]) {
      h.clock.set(new Date(since.getTime() + day * DAY));
      await h.run("reconcile", null);
      expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "scheduled" });
      const again = await h.run("transfer", transferEvent(payout.id));
      expect(again.result).toEqual({ kind: "waiting_for_funds", until: new Date(since.getTime() + day * DAY + HOUR).toISOString() });
      expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "on_hold", attempts: 0, fundsWaitingSince: since });
    }

    h.clock.set(new Date(since.getTime() + 7 * DAY - 60_000));
    await h.run("reconcile", null);
    expect(await db.alert.count({ where: { payoutId: payout.id } })).toBe(0);

    h.clock.set(new Date(since.getTime() + 7 * DAY + 60_000));
    await h.run("reconcile", null);
    await h.run("reconcile", null);
    const alerts = await db.alert.findMany({ where: { payoutId: payout.id } });
    expect(alerts).toMatchObject([{ kind: "payout_waiting_for_funds", severity: "warning", providerId: payout.providerId }]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.message).toContain(formatMoney(8_000, "USD"));
    expect(alerts[0]!.message).toContain(since.toISOString().slice(0, 10));

    // Money arrives: one transfer, with the key after the four refusals.
    h.fake.setBalance("usd", 8_000);
    const paid = await h.run("transfer", transferEvent(payout.id));
    expect(paid.result).toMatchObject({ kind: "transferred" });
    expect(h.transfersFor(payout.id)).toMatchObject([{ amount: 8_000, currency: "usd", source_transaction: null }]);
    expect(h.transfersFor(payout.id)).toHaveLength(1);
    const keys = transferPosts(payout.id).map((p) => [p.idempotencyKey, p.status]);
    expect(keys).toEqual([
      [`payout:${payout.id}:v1`, 400],
      [`payout:${payout.id}:v1:r1`, 400],
      [`payout:${payout.id}:v1:r2`, 400],
      [`payout:${payout.id}:v1:r3`, 400],
      [`payout:${payout.id}:v1:r4`, 200],
    ]);
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "transferred", attempts: 1, fundsWaitingSince: null });
    expect(await db.transferAttempt.count({ where: { payoutId: payout.id, counted: true } })).toBe(1);
  });
});

describe("a tip paid with its own charge", () => {
  async function bookingWithTip() {
    const bookingCharge = h.fake.createCharge({ amount: 10_000, currency: "usd", availableOn: secondsFromNow(3 * DAY) });
    const tipCharge = h.fake.createCharge({ amount: 1_500, currency: "usd", availableOn: secondsFromNow(3 * DAY) });
    const { bookingId } = await h.completeBooking({ providerReady: true, stripeChargeId: bookingCharge.id, providerShare: 8_000 });
    await addTip(h.ctx(), {
      tipExternalId: `tip_${bookingId}`,
      bookingId,
      amount: 1_500,
      currency: "USD",
      tippedAt: h.clock.now(),
      stripeChargeId: tipCharge.id,
    });
    h.clock.advance(48 * HOUR + 1000);
    const payout = await payoutOf(bookingId);
    expect(payout).toMatchObject({ amount: 9_500, providerShare: 8_000, tipAmount: 1_500, amountVersion: 2 });
    return { payout, bookingCharge, tipCharge };
  }

  /** The harness's gate, calling `arm` just before the `n`th write goes out. */
  function armBeforeWrite(n: number, arm: () => void): TStripeWriteGate {
    const gate = h.deps.stripeWrites!;
    let writes = 0;
    return {
      acquire: async () => {
        writes += 1;
        if (writes === n) arm();
        await gate.acquire();
      },
      backoffMs: (retry, failure) => gate.backoffMs(retry, failure),
      sleep: (ms) => gate.sleep(ms),
    };
  }

  async function expectPaidOnce(payoutId: string, charges: { bookingCharge: string; tipCharge: string }) {
    const transfers = h.transfersFor(payoutId);
    expect(transfers.map((t) => [t.amount, t.source_transaction, t.metadata.leg])).toEqual([
      [8_000, charges.bookingCharge, "1"],
      [1_500, charges.tipCharge, "2"],
    ]);
    expect(transfers.reduce((sum, t) => sum + t.amount, 0)).toBe(9_500);
    const payout = await db.payout.findUniqueOrThrow({ where: { id: payoutId } });
    expect(payout).toMatchObject({ status: "transferred", stripeTransferId: transfers[0]!.id });
    const detail = await detailOf(payoutId);
    expect(
      detail.transfers.map((t) => [t.leg, t.status, t.sourceChargeId, t.payoutAmount, t.amount, t.currency, t.stripeTransferId]),
    ).toEqual([
      [1, "succeeded", charges.bookingCharge, 8_000, 8_000, "USD", transfers[0]!.id],
      [2, "succeeded", charges.tipCharge, 1_500, 1_500, "USD", transfers[1]!.id],
    ]);
    expect(await db.auditLog.count({ where: { entityId: payoutId, action: "payout.transferred" } })).toBe(1);
    expect(await db.auditLog.count({ where: { entityId: payoutId, action: "payout.transfer_made" } })).toBe(2);
    expect(await db.alert.count({ where: { payoutId } })).toBe(0);
    return payout;
  }

  it("the provider receives share + tip in two transfers, one per charge, each with its source_transaction", async () => {
    const { payout, bookingCharge, tipCharge } = await bookingWithTip();
    const run = await h.run("transfer", transferEvent(payout.id));
    expect(run.result).toMatchObject({ kind: "transferred", attemptNumber: 1 });
    expect(transferPosts(payout.id).map((p) => [p.params.amount, p.params.source_transaction, p.idempotencyKey])).toEqual([
      ["8000", bookingCharge.id, `payout:${payout.id}:v2`],
      ["1500", tipCharge.id, `payout:${payout.id}:v2:l2`],
    ]);
    const paid = await expectPaidOnce(payout.id, { bookingCharge: bookingCharge.id, tipCharge: tipCharge.id });
    expect(paid.attempts).toBe(1);
  });

  it("the second transfer's answer is lost (and so is the look-up), the retry finds it: still two transfers", async () => {
    const { payout, bookingCharge, tipCharge } = await bookingWithTip();
    const runId = "run_tip_lost_answer";
    // Stripe makes the tip's transfer but the answer never arrives (the SDK retries a dropped
    // connection once, same key), and the look-up right after fails too: the outcome is unknown.
    const ctx = {
      ...h.ctx(),
      runId,
      stripeWrites: armBeforeWrite(2, () => {
        h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "drop_response" }, 2);
        h.fake.failNext({ method: "GET", path: "/v1/transfers" }, { kind: "status", status: 500 });
      }),
    };
    const first = await transferPayout(ctx, h.stripe, { payoutId: payout.id });
    expect(first).toMatchObject({ kind: "retry", counted: true });
    expect(h.transfersFor(payout.id)).toHaveLength(2);
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "processing", stripeTransferId: null, attempts: 1 });
    const legs = await db.payoutTransfer.findMany({ where: { payoutId: payout.id }, orderBy: { leg: "asc" } });
    expect(legs.map((l) => [l.leg, l.status])).toEqual([
      [1, "succeeded"],
      [2, "pending"],
    ]);

    // Inngest retries the run: the retry looks the tip's transfer up before sending anything.
    const retry = await h.run("transfer", transferEvent(payout.id), { runId });
    expect(retry.error).toBeUndefined();
    expect(retry.result).toMatchObject({ kind: "transferred", attemptNumber: 2 });
    const posts = transferPosts(payout.id);
    expect(posts.map((p) => p.idempotencyKey)).toEqual([
      `payout:${payout.id}:v2`,
      `payout:${payout.id}:v2:l2`,
      `payout:${payout.id}:v2:l2`,
    ]);
    const paid = await expectPaidOnce(payout.id, { bookingCharge: bookingCharge.id, tipCharge: tipCharge.id });
    expect(paid.attempts).toBe(2);
  });

  it("the process dies after the first leg, and the retry's second leg loses its answer: still two transfers", async () => {
    const { payout, bookingCharge, tipCharge } = await bookingWithTip();
    const runId = "run_tip_crash";
    const ctx = { ...h.ctx(), runId };
    // One attempt's steps, as transferPayout takes them: learn the charges, claim, ask Stripe, (record).
    expect(await prepareFunding(ctx, h.stripe, { payoutId: payout.id })).toBeNull();
    const claimed = await claimTransfer(ctx, { payoutId: payout.id });
    if (claimed.kind !== "claimed") throw new Error(`expected a claim, got ${JSON.stringify(claimed)}`);
    expect(claimed.claim.legs.map((l) => [l.leg, l.sourceChargeId, l.amount])).toEqual([
      [1, bookingCharge.id, 8_000],
      [2, tipCharge.id, 1_500],
    ]);
    // Stripe makes the share's transfer, then the process dies: the tip's leg is never sent, nothing recorded.
    const partial = await executeTransfer(ctx, h.stripe, { ...claimed.claim, legs: claimed.claim.legs.slice(0, 1) });
    expect(partial.result.kind).toBe("succeeded");
    expect(h.transfersFor(payout.id)).toHaveLength(1);
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "processing", stripeTransferId: null });
    expect(await db.payoutTransfer.count({ where: { payoutId: payout.id, status: "succeeded" } })).toBe(0);

    // Inngest retries the run; this time the tip's transfer is made but its answer is lost (twice: the SDK's own retry).
    h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "drop_response" }, 2);
    const retry = await h.run("transfer", transferEvent(payout.id), { runId });
    expect(retry.error).toBeUndefined();
    expect(retry.result).toMatchObject({ kind: "transferred", attemptNumber: 2 });
    // One POST for the share (before the crash), two for the tip (the same key).
    expect(transferPosts(payout.id).map((p) => [p.idempotencyKey, p.status])).toEqual([
      [`payout:${payout.id}:v2`, 200],
      [`payout:${payout.id}:v2:l2`, null],
      [`payout:${payout.id}:v2:l2`, null],
    ]);
    await expectPaidOnce(payout.id, { bookingCharge: bookingCharge.id, tipCharge: tipCharge.id });

    // A late duplicate request and the sweep change nothing.
    expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "skipped", reason: "already_settled" });
    h.clock.advance(2 * HOUR);
    await h.run("reconcile", null);
    expect(h.transfersFor(payout.id)).toHaveLength(2);
  });
});
