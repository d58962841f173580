// The payout engine's rules over time: disputes, refunds, tips, the 48 h wait and the sweep.
import { describe, expect, it } from "vitest";

import { cancelBooking } from "@/lib/bookings/cancel-booking";
import { db } from "@/lib/db";
import { openDispute } from "@/lib/disputes/open-dispute";
import { resolveDispute } from "@/lib/disputes/resolve-dispute";
import { publishOutbox } from "@/lib/outbox/publish-outbox";
import { getOverview } from "@/lib/overview/get-overview";
import { claimTransfer } from "@/lib/payouts/transfer-claim";
import { executeTransfer } from "@/lib/payouts/transfer-execute";
import { recordTransferOutcome } from "@/lib/payouts/transfer-outcome";
import { addTip } from "@/lib/tips/add-tip";

import { HOUR, payoutOf, transferEvent, engineHarness } from "../../support/engine";

const h = engineHarness();

let counter = 0;
const uid = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${counter++}`;

describe("booking/completed", () => {
  it("schedules the payout, sleeps until it is due, re-checks and requests the transfer", async () => {
    const completedAt = h.clock.now();
    const { bookingId } = await h.completeBooking({ providerReady: true });
    const payout = await payoutOf(bookingId);
    expect(payout).toMatchObject({ status: "scheduled", amount: 8_000 });
    expect(payout.eligibleAt.getTime()).toBe(completedAt.getTime() + 48 * HOUR);

    let sleptUntil = "";
    const run = await h.run("schedule", { name: "booking/completed", data: { bookingId } }, { sleepUntil: (at) => (sleptUntil = at) });
    expect(run.error).toBeUndefined();
    expect(sleptUntil).toBe(payout.eligibleAt.toISOString());
    expect(run.result).toMatchObject({ payoutId: payout.id, transferRequested: true, status: "scheduled" });
    const sent = globalThis.inngestReceiver.events().filter((e) => e.name === "payout/transfer.requested" && e.data.payoutId === payout.id);
    expect(sent.length).toBeGreaterThanOrEqual(1);

    expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });
    expect(h.transfersFor(payout.id)).toMatchObject([{ amount: 8_000 }]);
  });

  it("does not request a transfer at the due time while a dispute holds the payout", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    await openDispute(h.ctx(), { bookingId, externalId: uid("dsp"), openedAt: h.clock.now() });
    const run = await h.run("schedule", { name: "booking/completed", data: { bookingId } });
    expect(run.result).toMatchObject({ transferRequested: false, status: "on_hold" });
  });
});

describe("disputes", () => {
  it("opened before the due time: on_hold; resolved with refund R: amount = share + tips - R, released and transferred with exactly that", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 10_000 });
    await addTip(h.ctx(), { tipExternalId: uid("tip"), bookingId, amount: 1_500, currency: "USD", tippedAt: h.clock.advance(HOUR) });
    await openDispute(h.ctx(), { bookingId, externalId: uid("dsp"), reason: "service not as described", openedAt: h.clock.advance(HOUR) });
    const held = await payoutOf(bookingId);
    expect(held).toMatchObject({ status: "on_hold", holdReason: "dispute_open", amount: 11_500 });

    // Still held when it becomes due: nothing is transferred.
    h.clock.advance(48 * HOUR);
    expect((await h.run("transfer", transferEvent(held.id))).result).toMatchObject({ kind: "skipped" });
    expect(h.transfersFor(held.id)).toHaveLength(0);

    const dispute = await db.dispute.findFirstOrThrow({ where: { bookingId } });
    const resolved = await resolveDispute(h.ctx(), {
      disputeId: dispute.id,
      outcome: "partial",
      refundedAmount: 2_500,
      resolvedAt: h.clock.now(),
    });
    expect(resolved.payout).toMatchObject({
      status: "scheduled",
      providerShare: 10_000,
      tipAmount: 1_500,
      refundedAmount: 2_500,
      amount: 9_000,
      amountVersion: 3,
    });

    expect((await h.run("transfer", transferEvent(held.id))).result).toMatchObject({ kind: "transferred" });
    expect(h.transfersFor(held.id)).toMatchObject([{ amount: 9_000 }]);
    const actions = (await db.auditLog.findMany({ where: { entityId: held.id }, orderBy: { createdAt: "asc" } })).map((a) => a.action);
    expect(actions).toEqual([
      "payout.scheduled",
      "payout.amount_adjusted",
      "payout.held",
      "payout.amount_adjusted",
      "payout.released",
      "payout.transfer_started",
      "payout.transferred",
    ]);
  });

  it("a refund equal to share + tips cancels the payout as fully refunded, with no transfer", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 6_000 });
    await addTip(h.ctx(), { tipExternalId: uid("tip"), bookingId, amount: 500, currency: "USD", tippedAt: h.clock.now() });
    const opened = await openDispute(h.ctx(), { bookingId, externalId: uid("dsp"), openedAt: h.clock.now() });
    const { payout } = await resolveDispute(h.ctx(), {
      disputeId: opened.dispute.id,
      outcome: "customer_won",
      refundedAmount: 6_500,
      resolvedAt: h.clock.now(),
    });
    // Nothing to pay, but a tip may still join it: it stays open at zero until it is due.
    expect(payout).toMatchObject({ status: "scheduled", amount: 0 });
    // When it is due (the tip window has closed), the payout's run cancels it.
    await h.run("schedule", { name: "booking/completed", data: { bookingId } });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "cancelled", cancelReason: "fully refunded", amount: 0 });
    expect((await h.run("transfer", transferEvent(payout!.id))).result).toMatchObject({ kind: "skipped", reason: "already_settled" });
    expect(h.transfersFor(payout!.id)).toHaveLength(0);
  });

  it("opened while the transfer is in flight, before Stripe was called: nothing is transferred until it is resolved", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    h.clock.advance(48 * HOUR + 1);
    const payout = await payoutOf(bookingId);
    const ctx = { ...h.ctx(), runId: "run_in_flight" };
    const claimed = await claimTransfer(ctx, { payoutId: payout.id });
    if (claimed.kind !== "claimed") throw new Error("expected a claim");
    expect(await payoutOf(bookingId)).toMatchObject({ status: "processing" });

    const opened = await openDispute(h.ctx(), { bookingId, externalId: uid("dsp"), openedAt: h.clock.now() });
    const outcome = await executeTransfer(ctx, h.stripe, claimed.claim);
    expect(outcome).toEqual({ made: [], result: { kind: "deferred_for_dispute" } });
    await recordTransferOutcome(ctx, claimed.claim, outcome);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "dispute_open" });
    expect(h.fake.requests().filter((r) => r.params["metadata[payoutId]"] === payout.id)).toHaveLength(0);

    await resolveDispute(h.ctx(), { disputeId: opened.dispute.id, outcome: "provider_won", refundedAmount: 0, resolvedAt: h.clock.now() });
    expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });
    expect(h.transfersFor(payout.id)).toMatchObject([{ amount: 8_000 }]);
  });

  it("opened after the transfer and lost with refund R: one reversal of R, never two, even if the resolution arrives twice", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 12_000 });
    h.clock.advance(48 * HOUR + 1);
    const payout = await payoutOf(bookingId);
    await h.run("transfer", transferEvent(payout.id));
    const transferId = h.transfersFor(payout.id)[0]!.id;

    const externalId = uid("dsp");
    const opened = await openDispute(h.ctx(), { bookingId, externalId, openedAt: h.clock.now() });
    expect(opened.dispute.openedAfterTransfer).toBe(true);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred" });

    const input = { externalId, outcome: "customer_won" as const, refundedAmount: 4_000, resolvedAt: h.clock.now() };
    const [first, second] = await Promise.all([resolveDispute(h.ctx(), input), resolveDispute(h.ctx(), input)]);
    const reversalIds = [...first.reversalIds, ...second.reversalIds];
    expect(reversalIds).toHaveLength(1);
    const event = { name: "payout/reversal.requested", data: { reversalId: reversalIds[0]!, payoutId: payout.id } };
    const runs = await Promise.all([h.run("reverse", event), h.run("reverse", event), h.run("reverse", event)]);
    expect(runs.map((r) => r.error)).toEqual([undefined, undefined, undefined]);

    const reversals = h.fake.reversals().filter((r) => r.transfer === transferId);
    expect(reversals).toMatchObject([{ amount: 4_000 }]);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "partially_reversed", reversedAmount: 4_000, amount: 12_000 });
    expect(await db.transferReversal.findMany({ where: { payoutId: payout.id } })).toMatchObject([
      { amount: 4_000, status: "succeeded", stripeReversalId: reversals[0]!.id },
    ]);

    // A third delivery of the resolution, later: still one reversal.
    const third = await resolveDispute(h.ctx(), input);
    expect(third).toMatchObject({ duplicate: true, reversalIds: [] });
    expect(h.fake.reversals().filter((r) => r.transfer === transferId)).toHaveLength(1);
  });

  it("a reversal Stripe already made for the record (its idempotency key forgotten after 24 h) is confirmed, not made again", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 12_000 });
    h.clock.advance(48 * HOUR + 1);
    const payout = await payoutOf(bookingId);
    await h.run("transfer", transferEvent(payout.id));
    const transferId = h.transfersFor(payout.id)[0]!.id;
    const opened = await openDispute(h.ctx(), { bookingId, externalId: uid("dsp"), openedAt: h.clock.now() });
    const { reversalIds } = await resolveDispute(h.ctx(), {
      disputeId: opened.dispute.id,
      outcome: "partial",
      refundedAmount: 3_000,
      resolvedAt: h.clock.now(),
    });
    const reversalId = reversalIds[0]!;
    // An earlier try reached Stripe and its answer was lost; a day later Stripe no longer knows its key.
    const earlier = await h.stripe.transfers.createReversal(
      transferId,
      { amount: 3_000, metadata: { payoutId: payout.id, reversalId } },
      { idempotencyKey: "expired-key" },
    );

    const run = await h.run("reverse", { name: "payout/reversal.requested", data: { reversalId, payoutId: payout.id } });
    expect(run.error).toBeUndefined();
    expect(h.fake.reversals().filter((r) => r.transfer === transferId)).toHaveLength(1);
    expect(await db.transferReversal.findUniqueOrThrow({ where: { id: reversalId } })).toMatchObject({
      status: "succeeded",
      stripeReversalId: earlier.id,
    });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "partially_reversed", reversedAmount: 3_000 });
  });

  it("a reversal refused for lack of balance records what the provider owes and alerts", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    h.clock.advance(48 * HOUR + 1);
    const payout = await payoutOf(bookingId);
    await h.run("transfer", transferEvent(payout.id));
    const opened = await openDispute(h.ctx(), { bookingId, externalId: uid("dsp"), openedAt: h.clock.now() });
    const { reversalIds } = await resolveDispute(h.ctx(), {
      disputeId: opened.dispute.id,
      outcome: "customer_won",
      refundedAmount: 8_000,
      resolvedAt: h.clock.now(),
    });
    h.fake.failNext(
      { method: "POST", path: /\/v1\/transfers\/.+\/reversals/ },
      {
        kind: "error",
        status: 400,
        type: "invalid_request_error",
        code: "balance_insufficient",
        message: "Insufficient funds in the connected account.",
      },
    );
    const run = await h.run("reverse", { name: "payout/reversal.requested", data: { reversalId: reversalIds[0]!, payoutId: payout.id } });
    expect(run.result).toMatchObject({ kind: "failed", debtRecorded: true });
    expect(await db.providerDebt.findMany({ where: { payoutId: payout.id } })).toMatchObject([
      { amount: 8_000, currency: "USD", status: "open" },
    ]);
    expect(await db.alert.findMany({ where: { payoutId: payout.id } })).toMatchObject([{ kind: "reversal_failed", severity: "critical" }]);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", reversedAmount: 0 });
  });
});

describe("tips", () => {
  it("a tip at completion + 23 h joins the payout; one at + 25 h is rejected, recorded, not paid", async () => {
    const completedAt = h.clock.now();
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 7_000 });
    const early = await addTip(h.ctx(), {
      tipExternalId: uid("tip"),
      bookingId,
      amount: 1_000,
      currency: "USD",
      tippedAt: new Date(completedAt.getTime() + 23 * HOUR),
    });
    expect(early.tip).toMatchObject({ status: "accepted" });
    const late = await addTip(h.ctx(), {
      tipExternalId: uid("tip"),
      bookingId,
      amount: 2_000,
      currency: "USD",
      tippedAt: new Date(completedAt.getTime() + 25 * HOUR),
    });
    expect(late.tip).toMatchObject({ status: "rejected", payoutId: null });
    expect(late.tip.rejectionReason).toMatch(/after the 24-hour window/);
    expect(await db.auditLog.findFirst({ where: { entityId: late.tip.id, action: "tip.rejected" } })).not.toBeNull();

    const payout = await payoutOf(bookingId);
    expect(payout).toMatchObject({ tipAmount: 1_000, amount: 8_000 });
    expect(early.tip.payoutId ?? (await db.tip.findUniqueOrThrow({ where: { id: early.tip.id } })).payoutId).toBe(payout.id);

    h.clock.set(new Date(completedAt.getTime() + 48 * HOUR + 1));
    await h.run("transfer", transferEvent(payout.id));
    expect(h.transfersFor(payout.id)).toMatchObject([{ amount: 8_000 }]);
  });

  it("a tip in another currency is rejected with the reason; a repeated tip id changes nothing", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    const tipExternalId = uid("tip");
    const other = await addTip(h.ctx(), { tipExternalId, bookingId, amount: 500, currency: "EUR", tippedAt: h.clock.now() });
    expect(other.tip).toMatchObject({ status: "rejected", rejectionReason: "tip currency EUR differs from the booking's USD" });
    const again = await addTip(h.ctx(), { tipExternalId, bookingId, amount: 500, currency: "USD", tippedAt: h.clock.now() });
    expect(again).toMatchObject({ duplicate: true, tip: { id: other.tip.id, status: "rejected" } });
    expect(await payoutOf(bookingId)).toMatchObject({ tipAmount: 0, amount: 8_000 });
  });
});

describe("cancellation", () => {
  it("cancels a scheduled payout; the booking's cancellation is audited with its reason", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    const { payout } = await cancelBooking(h.ctx(), { bookingId, cancelledAt: h.clock.now(), reason: "provider no-show" });
    expect(payout).toMatchObject({ status: "cancelled", cancelReason: "booking cancelled" });
    expect(
      await db.auditLog.findFirst({ where: { entityId: payout!.id, action: "payout.cancelled", reason: "provider no-show" } }),
    ).not.toBeNull();
  });
});

describe("reconciliation sweep", () => {
  it("transfers a payout whose booking/completed event was never delivered, once it is due", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    const payout = await payoutOf(bookingId);
    // No Inngest function ever ran for this booking. Before the due time the sweep does nothing for it.
    await h.run("reconcile", null);
    expect(
      globalThis.inngestReceiver
        .events()
        .some((e) => e.name === "payout/transfer.requested" && e.data.payoutId === payout.id && String(e.id).startsWith("sweep:")),
    ).toBe(false);

    h.clock.advance(48 * HOUR + 1);
    const run = await h.run("reconcile", null);
    expect(run.error).toBeUndefined();
    const requested = globalThis.inngestReceiver
      .events()
      .filter((e) => e.name === "payout/transfer.requested" && e.data.payoutId === payout.id);
    expect(requested.length).toBeGreaterThanOrEqual(1);
    // Inngest delivers it to the transfer function.
    await h.run("transfer", { name: requested[0]!.name, data: requested[0]!.data });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred" });
    expect(h.transfersFor(payout.id)).toHaveLength(1);
  });

  it("settles a payout stuck in processing for over an hour against Stripe", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    h.clock.advance(48 * HOUR + 1);
    const payout = await payoutOf(bookingId);
    // The run died after Stripe made the transfer and before it was recorded.
    const ctx = { ...h.ctx(), runId: "run_died" };
    const claimed = await claimTransfer(ctx, { payoutId: payout.id });
    if (claimed.kind !== "claimed") throw new Error("expected a claim");
    await executeTransfer(ctx, h.stripe, claimed.claim);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "processing" });

    h.clock.advance(30 * 60 * 1000);
    await h.run("reconcile", null);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "processing" });

    h.clock.advance(31 * 60 * 1000);
    await h.run("reconcile", null);
    const settled = await payoutOf(bookingId);
    expect(settled).toMatchObject({ status: "transferred", stripeTransferId: h.transfersFor(payout.id)[0]!.id });
    expect(h.transfersFor(payout.id)).toHaveLength(1);
  });

  it("puts a stuck payout with no transfer at Stripe back to scheduled, to be transferred once", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    h.clock.advance(48 * HOUR + 1);
    const payout = await payoutOf(bookingId);
    const claimed = await claimTransfer({ ...h.ctx(), runId: "run_died_early" }, { payoutId: payout.id });
    expect(claimed.kind).toBe("claimed");
    h.clock.advance(2 * HOUR);
    await h.run("reconcile", null);
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled", attempts: 1 });
    await h.run("transfer", transferEvent(payout.id));
    expect(await payoutOf(bookingId)).toMatchObject({ status: "transferred", attempts: 2 });
    expect(h.transfersFor(payout.id)).toHaveLength(1);
  });
});

describe("with Inngest unreachable", () => {
  it("the change is recorded, its events wait in the outbox, the engine is marked unreachable, and the sweep catches up", async () => {
    globalThis.inngestReceiver.setDown(true);
    const { bookingId } = await h.completeBooking({ providerReady: true });
    const publish = await publishOutbox(db);
    expect(publish.failed).toBeGreaterThan(0);
    const payout = await payoutOf(bookingId);
    expect(payout.status).toBe("scheduled");
    const waiting = await db.outboxEvent.findUniqueOrThrow({ where: { eventId: `booking-completed:${bookingId}` } });
    expect(waiting).toMatchObject({ sentAt: null, attempts: 1 });
    expect(waiting.lastError).toBeTruthy();
    const state = await db.systemState.findUniqueOrThrow({ where: { key: "workflow_engine" } });
    expect(state.value).toMatchObject({ reachable: false });

    // The Overview says so, with the work waiting for the engine.
    h.clock.advance(48 * HOUR + 1);
    const overview = await getOverview(db, h.clock.now());
    expect(overview.engine).toMatchObject({
      reachable: false,
      payoutsWaiting: await db.payout.count({ where: { status: "scheduled", eligibleAt: { lte: h.clock.now() } } }),
    });
    expect(overview.engine.payoutsWaiting).toBeGreaterThanOrEqual(1);
    expect(overview.engine.unsentEvents).toBe(await db.outboxEvent.count({ where: { sentAt: null } }));
    expect(overview.engine.unsentEvents).toBeGreaterThanOrEqual(1);

    globalThis.inngestReceiver.setDown(false);
    await h.run("reconcile", null);
    expect(await db.outboxEvent.findUniqueOrThrow({ where: { eventId: `booking-completed:${bookingId}` } })).toMatchObject({ attempts: 2 });
    expect((await db.outboxEvent.findUniqueOrThrow({ where: { eventId: `booking-completed:${bookingId}` } })).sentAt).not.toBeNull();
    expect((await db.systemState.findUniqueOrThrow({ where: { key: "workflow_engine" } })).value).toMatchObject({ reachable: true });
    expect(globalThis.inngestReceiver.events().some((e) => e.name === "payout/transfer.requested" && e.data.payoutId === payout.id)).toBe(
      true,
    );
    expect((await getOverview(db, h.clock.now())).engine).toMatchObject({ reachable: true, unsentEvents: 0 });
  });
});
