// Found by the random simulation, now fixed: a tip tipped within the window that arrived while
// the payout's transfer was in flight (or waiting for its retry) was refused as "busy", and when
// the sweep re-applied it after the transfer it was rejected as "the payout was already
// transferred": never paid, though it was received before any money moved. Now the tip is
// accepted and waits for the transfer: it joins the payout if the transfer is tried again, or is
// paid with a top-up transfer after it (its own leg and key, exactly once). What decides is when
// the tip's delivery was received, not when it was applied: one received after the transfer was
// made is still rejected.
import { beforeEach, describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { openDispute } from "@/lib/disputes/open-dispute";
import { resolveDispute } from "@/lib/disputes/resolve-dispute";
import { claimTransfer } from "@/lib/payouts/transfer-claim";
import { refreshProviderAccount } from "@/lib/payouts/update-provider-account";
import { storeDelivery } from "@/lib/webhooks/store-delivery";

import { bookingCompletedEvent, sendBookingEvent, type TBookingEvent } from "../../support/booking-webhook";
import { HOUR, payoutOf, transferEvent, engineHarness } from "../../support/engine";

const h = engineHarness();

beforeEach(() => {
  h.fake.setBalance("usd", 1_000_000_000);
});

let seq = 0;
const uid = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(seq++).toString(36)}`;

function tipEvent(bookingId: string, tippedAt: Date, amount = 700, tipId = uid("tip")): TBookingEvent {
  return {
    id: uid("evt"),
    type: "tip.created",
    createdAt: tippedAt.toISOString(),
    data: { tipId, bookingId, amount, currency: "USD", createdAt: tippedAt.toISOString() },
  };
}

/** A booking completed 49 h ago through the webhook (so its payout is due now), to an account Stripe said is ready. */
async function dueBooking() {
  const bookingExternalId = uid("bk");
  const completedAt = new Date(h.clock.now().getTime() - 49 * HOUR);
  const stripeAccountId = h.account();
  expect(
    (await sendBookingEvent(bookingCompletedEvent({ bookingId: bookingExternalId, providerId: uid("prov"), stripeAccountId, completedAt })))
      .status,
  ).toBe(200);
  expect(await refreshProviderAccount(h.ctx(), h.stripe, stripeAccountId)).toMatchObject({ ready: true });
  const booking = await db.booking.findUniqueOrThrow({ where: { externalId: bookingExternalId }, include: { payout: true } });
  return { bookingExternalId, bookingId: booking.id, completedAt, payout: booking.payout! };
}

async function sendTip(event: TBookingEvent) {
  expect((await sendBookingEvent(event)).status).toBe(200);
  return db.webhookEvent.findUniqueOrThrow({ where: { source_externalId: { source: "booking_platform", externalId: event.id } } });
}

const tipOf = (event: TBookingEvent) => db.tip.findUniqueOrThrow({ where: { externalId: event.data.tipId as string } });
const legsOf = (payoutId: string) => db.payoutTransfer.findMany({ where: { payoutId }, orderBy: { leg: "asc" } });
const topUpEvent = (transferId: string, payoutId: string) => ({ name: "payout/top-up.requested", data: { transferId, payoutId } });

/** Waits until the fake Stripe has a transfer request for the payout that it has not answered yet. */
async function untilTransferInFlight(payoutId: string) {
  for (let i = 0; i < 200; i++) {
    if (
      h.fake
        .requests()
        .some((r) => r.method === "POST" && r.path === "/v1/transfers" && r.status === null && r.params["metadata[payoutId]"] === payoutId)
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("the transfer request never reached Stripe");
}

describe("a tip in the window received while the payout's transfer waits to retry", () => {
  it("is accepted, waits, and is paid with a top-up transfer after the retry pays the share", async () => {
    const { bookingExternalId, bookingId, completedAt, payout } = await dueBooking();
    h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "status", status: 500 });
    const runId = "run_5xx_then_tip";
    const first = await h.run("transfer", transferEvent(payout.id), { runId });
    expect(first.error).toBeDefined();
    expect(await payoutOf(bookingId)).toMatchObject({ status: "processing", attempts: 1, amount: 8_000 });

    const tip = tipEvent(bookingExternalId, new Date(completedAt.getTime() + 2 * HOUR));
    const delivery = await sendTip(tip);
    expect(delivery).toMatchObject({ status: "processed", error: null });
    // Accepted, and waiting: the transfer in flight keeps its plan (and its key).
    expect(await tipOf(tip)).toMatchObject({ status: "accepted", payoutId: null, receivedAt: delivery.receivedAt });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "processing", amount: 8_000, tipAmount: 0, amountVersion: 1 });

    // Inngest retries the attempt: the share goes out under its first key; the tip is then paid on top.
    const second = await h.run("transfer", transferEvent(payout.id), { runId });
    expect(second.error).toBeUndefined();
    expect(second.result).toMatchObject({ kind: "transferred" });
    const transferred = await payoutOf(bookingId);
    expect(transferred).toMatchObject({ status: "transferred", providerShare: 8_000, tipAmount: 700, amount: 8_700, amountVersion: 2 });
    expect(await tipOf(tip)).toMatchObject({ status: "accepted", payoutId: payout.id });
    const [share, topUp] = await legsOf(payout.id);
    expect(share).toMatchObject({ leg: 1, amountVersion: 1, status: "succeeded", amount: 8_000, idempotencyKey: `payout:${payout.id}:v1` });
    expect(topUp).toMatchObject({
      leg: 2,
      amountVersion: 2,
      status: "pending",
      amount: 700,
      payoutAmount: 700,
      idempotencyKey: `payout:${payout.id}:v2:l2`,
    });
    expect(globalThis.inngestReceiver.events()).toContainEqual(
      expect.objectContaining({ id: `top-up:${topUp!.id}`, name: "payout/top-up.requested" }),
    );
    const requested = await db.auditLog.findFirstOrThrow({ where: { entityId: payout.id, action: "payout.top_up_requested" } });
    expect(requested.reason).toContain(tip.data.tipId as string);
    expect(requested.after).toMatchObject({ amount: 8_700, tipAmount: 700, topUpAmount: 700 });

    const made = await h.run("topUp", topUpEvent(topUp!.id, payout.id));
    expect(made.error).toBeUndefined();
    expect(made.result).toMatchObject({ kind: "transferred", amount: 700, recovered: false });
    expect(h.transfersFor(payout.id).map((t) => ({ amount: t.amount, leg: t.metadata.leg }))).toEqual([
      { amount: 8_000, leg: "1" },
      { amount: 700, leg: "2" },
    ]);
    expect(await legsOf(payout.id)).toMatchObject([
      { status: "succeeded" },
      { status: "succeeded", stripeTransferId: h.transfersFor(payout.id)[1]!.id },
    ]);
    expect(
      await db.auditLog.count({
        where: { entityId: payout.id, action: "payout.transfer_made", reason: "top-up for tips received before the transfer" },
      }),
    ).toBe(1);
    // Paid in full: what Stripe moved is what the payout owes.
    expect(h.transfersFor(payout.id).reduce((sum, t) => sum + t.amount, 0)).toBe((await payoutOf(bookingId)).amount);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", stripeTransferId: share!.stripeTransferId });
  });
});

describe("a tip in the window received while the transfer request is in flight", () => {
  it("lands between the claim and the record: the share is transferred, then the tip as a top-up", async () => {
    const { bookingExternalId, bookingId, completedAt, payout } = await dueBooking();
    h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "delay", ms: 1_500 });
    const running = h.run("transfer", transferEvent(payout.id));
    await untilTransferInFlight(payout.id);

    const tip = tipEvent(bookingExternalId, new Date(completedAt.getTime() + 23 * HOUR), 1_250);
    expect(await sendTip(tip)).toMatchObject({ status: "processed", error: null });
    expect(await tipOf(tip)).toMatchObject({ status: "accepted", payoutId: null });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "processing", amount: 8_000 });

    const run = await running;
    expect(run.error).toBeUndefined();
    expect(run.result).toMatchObject({ kind: "transferred" });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", tipAmount: 1_250, amount: 9_250 });
    const topUp = (await legsOf(payout.id))[1]!;
    expect(topUp).toMatchObject({ status: "pending", amount: 1_250 });

    expect((await h.run("topUp", topUpEvent(topUp.id, payout.id))).result).toMatchObject({ kind: "transferred", amount: 1_250 });
    expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([8_000, 1_250]);
  });

  it("and when the attempt then waits for funds, the tip joins the payout and one transfer pays share and tip", async () => {
    const { bookingExternalId, bookingId, completedAt, payout } = await dueBooking();
    h.fake.setBalance("usd", 100);
    h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "delay", ms: 1_000 });
    const running = h.run("transfer", transferEvent(payout.id));
    await untilTransferInFlight(payout.id);
    const tip = tipEvent(bookingExternalId, new Date(completedAt.getTime() + HOUR), 700);
    await sendTip(tip);
    expect((await running).result).toMatchObject({ kind: "waiting_for_funds" });

    // No money moved: the tip joined the payout, whose next attempt carries it.
    const waiting = await payoutOf(bookingId);
    expect(waiting).toMatchObject({ status: "on_hold", holdReason: "awaiting_funds", tipAmount: 700, amount: 8_700 });
    expect(await tipOf(tip)).toMatchObject({ payoutId: payout.id });
    h.fake.setBalance("usd", 1_000_000_000);
    h.clock.set(new Date(waiting.fundsExpectedAt!.getTime() + 1_000));
    await h.run("reconcile", null);
    expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });
    expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([8_700]);
    expect(await legsOf(payout.id)).toMatchObject([
      { status: "superseded", amount: 8_000 },
      { status: "succeeded", amount: 8_700 },
    ]);
  });
});

describe("the same tip delivered twice, top-up requests repeated, an answer lost", () => {
  it("pays the tip exactly once", async () => {
    const { bookingExternalId, bookingId, completedAt, payout } = await dueBooking();
    const runId = "run_duplicates";
    expect((await claimTransfer({ ...h.ctx(), runId }, { payoutId: payout.id })).kind).toBe("claimed");

    const tipId = uid("tip");
    const tip = tipEvent(bookingExternalId, new Date(completedAt.getTime() + HOUR), 700, tipId);
    await sendTip(tip);
    // The same delivery again, and the same tip in another delivery.
    expect(await sendBookingEvent(tip)).toEqual({ status: 200, body: { received: true, duplicate: true } });
    const again = await sendTip(tipEvent(bookingExternalId, new Date(completedAt.getTime() + HOUR), 700, tipId));
    expect(again).toMatchObject({ status: "processed", error: "tip already recorded; nothing changed" });

    // The run that claimed the payout continues it (a retry of that run).
    expect((await h.run("transfer", transferEvent(payout.id), { runId })).result).toMatchObject({ kind: "transferred" });
    // Later follow-ups and sweeps change nothing more.
    await h.run("followUp", {
      name: "tip/added",
      data: { tipId: (await db.tip.findUniqueOrThrow({ where: { externalId: tipId } })).id, bookingId },
    });
    const topUps = (await legsOf(payout.id)).slice(1);
    expect(topUps).toHaveLength(1);
    const topUp = topUps[0]!;

    // Stripe makes the top-up but never answers; the retry finds it instead of making another.
    h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "timeout", process: true });
    const lost = await h.run("topUp", topUpEvent(topUp.id, payout.id), { runId: "run_top_up" });
    expect(lost.error).toBeDefined();
    const retried = await h.run("topUp", topUpEvent(topUp.id, payout.id), { runId: "run_top_up" });
    expect(retried.result).toMatchObject({ kind: "transferred", recovered: true });
    // A duplicate request, and the sweep a while later.
    expect((await h.run("topUp", topUpEvent(topUp.id, payout.id))).result).toMatchObject({ kind: "already_done", status: "succeeded" });
    h.clock.advance(30 * 60 * 1000);
    expect((await h.run("reconcile", null)).result).toMatchObject({ swept: { topUpRequests: 0 } });

    expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([8_000, 700]);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", tipAmount: 700, amount: 8_700 });
    expect(await db.tip.count({ where: { bookingId } })).toBe(1);
    expect(await db.auditLog.count({ where: { entityId: payout.id, action: "payout.top_up_requested" } })).toBe(1);
  });
});

describe("what decides is when the tip was received, not when it was applied", () => {
  it("a tip received after the transfer was made is still rejected", async () => {
    const { bookingExternalId, bookingId, completedAt, payout } = await dueBooking();
    expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });

    const late = tipEvent(bookingExternalId, new Date(completedAt.getTime() + HOUR));
    expect(await sendTip(late)).toMatchObject({ status: "processed", error: "tip rejected: the payout was already transferred" });
    expect(await tipOf(late)).toMatchObject({ status: "rejected", payoutId: null });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", amount: 8_000, tipAmount: 0, amountVersion: 1 });
    expect(await legsOf(payout.id)).toHaveLength(1);
    h.clock.advance(30 * 60 * 1000);
    expect((await h.run("reconcile", null)).result).toMatchObject({ swept: { topUpRequests: 0, waitingTipsSettled: 0 } });
    expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([8_000]);
  });

  it("a tip received before the transfer, refused as busy then and re-applied by the sweep after it, is paid", async () => {
    const { bookingExternalId, bookingId, completedAt, payout } = await dueBooking();
    const runId = "run_before_the_fix";
    expect((await claimTransfer({ ...h.ctx(), runId }, { payoutId: payout.id })).kind).toBe("claimed");
    // Received while the transfer was in flight, and left failed as busy (as before this fix).
    const body = tipEvent(bookingExternalId, new Date(completedAt.getTime() + HOUR), 900);
    const { delivery } = await storeDelivery(db, {
      source: "booking_platform",
      externalId: body.id,
      type: body.type,
      payload: JSON.parse(JSON.stringify(body)) as object,
      bookingExternalId,
    });
    await db.webhookEvent.update({
      where: { id: delivery.id },
      data: {
        status: "failed",
        applyAttempts: 1,
        error: "payout_busy: The payout is being transferred; this change will be applied once the transfer settles. Retry later.",
      },
    });

    // The transfer is made a minute later; the sweep re-applies the tip ten minutes after that.
    h.clock.set(new Date(Date.now() + 60_000));
    expect((await h.run("transfer", transferEvent(payout.id), { runId })).result).toMatchObject({ kind: "transferred" });
    const transferredAt = (await payoutOf(bookingId)).transferredAt!;
    expect(delivery.receivedAt.getTime()).toBeLessThan(transferredAt.getTime());
    h.clock.advance(10 * 60 * 1000);
    const sweep = await h.run("reconcile", null);
    expect(sweep.result).toMatchObject({ deliveries: { processed: 1 } });
    expect(await db.webhookEvent.findUniqueOrThrow({ where: { id: delivery.id } })).toMatchObject({ status: "processed", error: null });
    expect(await tipOf(body)).toMatchObject({ status: "accepted", payoutId: payout.id, receivedAt: delivery.receivedAt });

    const topUp = (await legsOf(payout.id))[1]!;
    expect(topUp).toMatchObject({ status: "pending", amount: 900 });
    expect(globalThis.inngestReceiver.events()).toContainEqual(expect.objectContaining({ id: `top-up:${topUp.id}` }));
    expect((await h.run("topUp", topUpEvent(topUp.id, payout.id))).result).toMatchObject({ kind: "transferred", amount: 900 });
    expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([8_000, 900]);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", amount: 8_900, tipAmount: 900 });
  });
});

describe("sending the top-up", () => {
  it("a top-up that no request reached is requested again by the sweep", async () => {
    const { bookingExternalId, completedAt, payout } = await dueBooking();
    globalThis.inngestReceiver.setDown(true);
    try {
      const runId = "run_lost_event";
      expect((await claimTransfer({ ...h.ctx(), runId }, { payoutId: payout.id })).kind).toBe("claimed");
      await sendTip(tipEvent(bookingExternalId, new Date(completedAt.getTime() + HOUR), 400));
      await h.run("transfer", transferEvent(payout.id), { runId });
    } finally {
      globalThis.inngestReceiver.setDown(false);
    }
    const topUp = (await legsOf(payout.id))[1]!;
    expect(topUp).toMatchObject({ status: "pending", amount: 400 });
    h.clock.advance(20 * 60 * 1000);
    const sweep = await h.run("reconcile", null);
    expect(sweep.result).toMatchObject({ swept: { topUpRequests: 1 } });
    expect(globalThis.inngestReceiver.events()).toContainEqual(
      expect.objectContaining({ name: "payout/top-up.requested", data: { transferId: topUp.id, payoutId: payout.id } }),
    );
    expect((await h.run("topUp", topUpEvent(topUp.id, payout.id))).result).toMatchObject({ kind: "transferred", amount: 400 });
    expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([8_000, 400]);
  });

  it("a top-up is not sent while a dispute on the booking is open, and is once it is resolved", async () => {
    const { bookingExternalId, bookingId, completedAt, payout } = await dueBooking();
    const runId = "run_dispute_then_top_up";
    expect((await claimTransfer({ ...h.ctx(), runId }, { payoutId: payout.id })).kind).toBe("claimed");
    await sendTip(tipEvent(bookingExternalId, new Date(completedAt.getTime() + HOUR), 600));
    expect((await h.run("transfer", transferEvent(payout.id), { runId })).result).toMatchObject({ kind: "transferred" });
    const topUp = (await legsOf(payout.id))[1]!;

    const { dispute } = await openDispute(h.ctx(), { bookingId, externalId: uid("dsp"), openedAt: h.clock.now() });
    expect((await h.run("topUp", topUpEvent(topUp.id, payout.id))).result).toEqual({ kind: "waiting_for_dispute" });
    h.clock.advance(20 * 60 * 1000);
    expect((await h.run("reconcile", null)).result).toMatchObject({ swept: { topUpRequests: 0 } });
    expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([8_000]);

    await resolveDispute(h.ctx(), { disputeId: dispute.id, outcome: "provider_won", refundedAmount: 0, resolvedAt: h.clock.now() });
    expect((await h.run("reconcile", null)).result).toMatchObject({ swept: { topUpRequests: 1 } });
    expect((await h.run("topUp", topUpEvent(topUp.id, payout.id))).result).toMatchObject({ kind: "transferred", amount: 600 });
    expect(h.transfersFor(payout.id).map((t) => t.amount)).toEqual([8_000, 600]);
  });
});
