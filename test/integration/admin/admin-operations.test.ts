// Admin operations on payouts: each one transaction, audited with the admin and the reason.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { openDispute } from "@/lib/disputes/open-dispute";
import { resolveDispute } from "@/lib/disputes/resolve-dispute";
import { cancelPayout } from "@/lib/payouts/cancel-payout";
import { holdPayout } from "@/lib/payouts/hold-payout";
import { releasePayout } from "@/lib/payouts/release-payout";
import { IllegalTransitionError } from "@/lib/payouts/state-machine";

import { ADMIN_ACTOR, HOUR, payoutOf, startEngineHarness, type TEngineHarness } from "../../support/engine";

let h: TEngineHarness;
let operator: ReturnType<typeof ADMIN_ACTOR>;

beforeAll(async () => {
  h = await startEngineHarness();
  const user = await db.adminUser.create({
    data: { email: "oscar@payouts.test", name: "Oscar Operator", role: "operator", passwordHash: "x" },
  });
  operator = ADMIN_ACTOR(user.id, "Oscar Operator");
});

afterAll(async () => {
  await h.fake.stop();
});

beforeEach(() => {
  h.clock.set(new Date());
});

describe("hold and release", () => {
  it("holds a scheduled payout and releases it, each audited with the operator and the reason", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    const payout = await payoutOf(bookingId);
    const held = await holdPayout(h.ctx(operator), {
      payoutId: payout.id,
      reason: "Provider under review",
      expectedVersion: payout.version,
    });
    expect(held.payout).toMatchObject({ status: "on_hold", holdReason: "admin_hold", holdNote: "Provider under review" });

    const released = await releasePayout(h.ctx(operator), { payoutId: payout.id, reason: "Review passed" });
    expect(released.payout).toMatchObject({ status: "scheduled", holdReason: null });
    expect(released.transferRequested).toBe(false); // not due yet

    const audit = await db.auditLog.findMany({ where: { entityId: payout.id, actorId: operator.id }, orderBy: { createdAt: "asc" } });
    expect(audit.map((a) => [a.action, a.reason, a.actorLabel])).toEqual([
      ["payout.held", "Provider under review", operator.label],
      ["payout.released", "Review passed", operator.label],
    ]);
    expect(audit[0]!.before).toMatchObject({ status: "scheduled" });
    expect(audit[0]!.after).toMatchObject({ status: "on_hold" });
    const events = await db.outboxEvent.findMany({ where: { name: "payout/admin.action" } });
    expect(events.filter((e) => (e.data as { payoutId: string }).payoutId === payout.id)).toHaveLength(2);
  });

  it("a release after the due time requests the transfer at once", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    const payout = await payoutOf(bookingId);
    await holdPayout(h.ctx(operator), { payoutId: payout.id, reason: "Checking the booking" });
    h.clock.advance(72 * HOUR);
    const released = await releasePayout(h.ctx(operator), { payoutId: payout.id, reason: "Booking checked" });
    expect(released.transferRequested).toBe(true);
    expect(
      (await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "release" } })).result,
    ).toMatchObject({ kind: "transferred" });
  });

  it("refuses a stale version, writing nothing", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    const payout = await payoutOf(bookingId);
    await expect(
      holdPayout(h.ctx(operator), { payoutId: payout.id, reason: "Old screen", expectedVersion: payout.version - 1 }),
    ).rejects.toMatchObject({
      status: 409,
      code: "version_conflict",
    });
    expect(await payoutOf(bookingId)).toEqual(payout);
  });

  it("cannot release a dispute hold while the dispute is open; resolving it releases", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    const opened = await openDispute(h.ctx(), { bookingId, externalId: `dsp_${bookingId}`, openedAt: h.clock.now() });
    const payout = await payoutOf(bookingId);
    await expect(releasePayout(h.ctx(operator), { payoutId: payout.id, reason: "Let it go" })).rejects.toMatchObject({
      status: 409,
      message: expect.stringMatching(/open dispute/),
    });
    await resolveDispute(h.ctx(), { disputeId: opened.dispute.id, outcome: "provider_won", refundedAmount: 0, resolvedAt: h.clock.now() });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "scheduled" });
  });

  it("cannot release an admin hold while a dispute on the booking is open", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    const payout = await payoutOf(bookingId);
    await holdPayout(h.ctx(operator), { payoutId: payout.id, reason: "Fraud check" });
    await openDispute(h.ctx(), { bookingId, externalId: `dsp3_${bookingId}`, openedAt: h.clock.now() });
    await expect(releasePayout(h.ctx(operator), { payoutId: payout.id, reason: "Checked" })).rejects.toMatchObject({
      status: 409,
      message: "Cannot release: a dispute on this booking is open; it is released when the dispute is resolved.",
    });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "admin_hold" });
  });

  it("an admin hold survives a dispute that opens and closes meanwhile", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    const payout = await payoutOf(bookingId);
    await holdPayout(h.ctx(operator), { payoutId: payout.id, reason: "Fraud check" });
    const opened = await openDispute(h.ctx(), { bookingId, externalId: `dsp2_${bookingId}`, openedAt: h.clock.now() });
    await resolveDispute(h.ctx(), { disputeId: opened.dispute.id, outcome: "provider_won", refundedAmount: 0, resolvedAt: h.clock.now() });
    expect(await payoutOf(bookingId)).toMatchObject({ status: "on_hold", holdReason: "admin_hold" });
  });
});

describe("cancel", () => {
  it("cancels a held payout with the admin's reason; it is never transferred", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    const payout = await payoutOf(bookingId);
    await holdPayout(h.ctx(operator), { payoutId: payout.id, reason: "Suspicious booking" });
    const cancelled = await cancelPayout(h.ctx(operator), { payoutId: payout.id, reason: "Booking was fraudulent" });
    expect(cancelled.payout).toMatchObject({ status: "cancelled", cancelReason: "Booking was fraudulent" });
    h.clock.advance(49 * HOUR);
    expect(
      (await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "late" } })).result,
    ).toMatchObject({
      kind: "skipped",
      reason: "already_settled",
    });
    expect(h.fake.transfers().filter((t) => t.metadata?.payoutId === payout.id)).toHaveLength(0);
  });

  it("refuses to cancel a transferred payout with a typed error", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    h.clock.advance(49 * HOUR);
    const payout = await payoutOf(bookingId);
    await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "due" } });
    const error = await cancelPayout(h.ctx(operator), { payoutId: payout.id, reason: "Too late" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IllegalTransitionError);
    expect(error).toMatchObject({ status: 409, message: "Cannot cancel a payout that is transferred." });
  });
});

describe("follow-up function", () => {
  it("after a dispute resolution event it re-derives the payout and requests the transfer now due", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    const opened = await openDispute(h.ctx(), { bookingId, externalId: `dsp3_${bookingId}`, openedAt: h.clock.now() });
    h.clock.advance(49 * HOUR);
    const resolved = await resolveDispute(h.ctx(), {
      disputeId: opened.dispute.id,
      outcome: "partial",
      refundedAmount: 1_000,
      resolvedAt: h.clock.now(),
    });
    globalThis.inngestReceiver.clear();
    const run = await h.run("followUp", {
      name: "dispute/resolved",
      data: { disputeId: opened.dispute.id, bookingId, refundedAmount: 1_000 },
    });
    expect(run.error).toBeUndefined();
    expect(run.result).toMatchObject({ payoutId: resolved.payout!.id, status: "scheduled", transferRequested: true });
    // Applying it again changed nothing: the refund counts once.
    expect(await payoutOf(bookingId)).toMatchObject({ refundedAmount: 1_000, amount: 7_000 });
    expect(
      globalThis.inngestReceiver.events().some((e) => e.name === "payout/transfer.requested" && e.data.payoutId === resolved.payout!.id),
    ).toBe(true);
  });
});
