// Provider debts are recovered from the provider's next payouts in the same currency: reserved when
// a payout is claimed for its transfer, applied with the transfer, released when it is not made;
// a payout the debts take whole is closed as applied to debt; admins waive or write off with four eyes.
import { randomUUID } from "node:crypto";

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { openDispute } from "@/lib/disputes/open-dispute";
import { resolveDispute } from "@/lib/disputes/resolve-dispute";
import { decideDebtClosing, requestDebtClosing } from "@/lib/payouts/close-provider-debt";
import { getPayoutDetail } from "@/lib/payouts/get-payout-detail";
import { retryPayout } from "@/lib/payouts/retry-payout";
import { claimTransfer } from "@/lib/payouts/transfer-claim";

import { ADMIN_ACTOR, HOUR, payoutOf, startEngineHarness, type TEngineHarness, transferEvent } from "../../support/engine";
import { bookingOf, debtOf, providerWithDebts } from "../../support/provider-debts";

let h: TEngineHarness;
let ada: string;
let bob: string;

beforeAll(async () => {
  h = await startEngineHarness();
  const created = h.clock.now();
  ada = (
    await db.adminUser.create({
      data: {
        email: "ada@payouts.test",
        name: "Ada Admin",
        role: "admin",
        passwordHash: "x",
        createdAt: new Date(created.getTime() - HOUR),
      },
    })
  ).id;
  bob = (
    await db.adminUser.create({
      data: {
        email: "bob@payouts.test",
        name: "Bob Admin",
        role: "admin",
        passwordHash: "x",
        createdAt: new Date(created.getTime() - HOUR),
      },
    })
  ).id;
});

afterAll(async () => {
  await h.fake.stop();
});

beforeEach(() => {
  h.clock.set(new Date());
});

const transferCreates = (payoutId: string) =>
  h.fake.requests().filter((r) => r.method === "POST" && r.path === "/v1/transfers" && r.params["metadata[payoutId]"] === payoutId);

describe("debt recovery", () => {
  it("nets an open debt when the payout is claimed, not before; the transfer is for the net amount; the breakdown and timeline show it", async () => {
    const { provider, debts, earlier } = await providerWithDebts(h, [3_000]);
    const payout = await bookingOf(h, provider);
    // Scheduled, still subject to tips and refunds: not reduced yet.
    expect(payout).toMatchObject({ status: "scheduled", amount: 8_000, debtRecoveredAmount: 0 });
    expect(await debtOf(debts[0]!.id)).toMatchObject({ recoveredAmount: 0, status: "open" });

    h.clock.advance(48 * HOUR + 1000);
    const run = await h.run("transfer", transferEvent(payout.id));
    expect(run.error).toBeUndefined();
    expect(h.transfersFor(payout.id)).toMatchObject([{ amount: 5_000, currency: "usd" }]);
    expect(await payoutOf(payout.bookingId)).toMatchObject({
      status: "transferred",
      amount: 5_000,
      debtRecoveredAmount: 3_000,
      providerShare: 8_000,
    });
    expect(await debtOf(debts[0]!.id)).toMatchObject({ recoveredAmount: 3_000, status: "settled" });
    expect(await db.debtRecovery.findMany({ where: { payoutId: payout.id } })).toMatchObject([
      { debtId: debts[0]!.id, amount: 3_000, status: "applied" },
    ]);

    // Audited on both payouts' timelines.
    expect(await db.auditLog.count({ where: { entityId: payout.id, action: "payout.debt_recovery_reserved" } })).toBe(1);
    const recovered = await db.auditLog.findMany({ where: { entityId: earlier.id, action: "provider.debt_recovered" } });
    expect(recovered).toMatchObject([{ after: { debtId: debts[0]!.id, amount: 3_000, left: 0, recoveredFromPayoutId: payout.id } }]);
    const detail = await getPayoutDetail(db, payout.id, { id: ada, role: "admin" });
    expect(detail?.payout).toMatchObject({ debtRecoveredAmount: 3_000, amount: 5_000 });
    expect(detail?.timeline.flatMap((t) => (t.kind === "audit" ? [t.action] : []))).toContain("payout.debt_recovery_reserved");
    const earlierDetail = await getPayoutDetail(db, earlier.id, { id: ada, role: "admin" });
    expect(earlierDetail?.timeline.flatMap((t) => (t.kind === "audit" ? [t.action] : []))).toContain("provider.debt_recovered");
  });

  it("recovers over several payouts: one taken whole is applied to debt and never sent to Stripe, the next pays the rest; debts oldest first", async () => {
    const { provider, debts } = await providerWithDebts(h, [6_000, 4_000]);
    const first = await bookingOf(h, provider);
    const second = await bookingOf(h, provider);
    h.clock.advance(48 * HOUR + 1000);

    const one = await h.run("transfer", transferEvent(first.id));
    expect(one.result).toMatchObject({ kind: "skipped", reason: "already_settled", status: "applied_to_debt" });
    expect(await payoutOf(first.bookingId)).toMatchObject({ status: "applied_to_debt", amount: 0, debtRecoveredAmount: 8_000 });
    expect(transferCreates(first.id)).toHaveLength(0);
    expect(await db.transferAttempt.count({ where: { payoutId: first.id } })).toBe(0);
    // The oldest debt is settled, the next one partly recovered: it shows what is left.
    expect(await debtOf(debts[0]!.id)).toMatchObject({ recoveredAmount: 6_000, status: "settled" });
    expect(await debtOf(debts[1]!.id)).toMatchObject({ recoveredAmount: 2_000, status: "open" });
    expect(await db.auditLog.count({ where: { entityId: first.id, action: "payout.applied_to_debt" } })).toBe(1);
    // The debts' payout shows each debt with what recoveries took and what is left.
    const earlierDetail = await getPayoutDetail(db, debts[0]!.payoutId, { id: ada, role: "admin" });
    expect(earlierDetail?.debts).toMatchObject([
      { id: debts[0]!.id, status: "settled", recoveredAmount: 6_000, left: 0, canClose: false },
      { id: debts[1]!.id, status: "open", recoveredAmount: 2_000, left: 2_000, canClose: true },
    ]);

    // A duplicate request changes nothing.
    expect((await h.run("transfer", transferEvent(first.id))).result).toMatchObject({ kind: "skipped", status: "applied_to_debt" });

    await h.run("transfer", transferEvent(second.id));
    expect(h.transfersFor(second.id)).toMatchObject([{ amount: 6_000 }]);
    expect(await debtOf(debts[1]!.id)).toMatchObject({ recoveredAmount: 4_000, status: "settled" });
    expect(await payoutOf(second.bookingId)).toMatchObject({ status: "transferred", amount: 6_000, debtRecoveredAmount: 2_000 });
  });

  it("does not net a debt in another currency", async () => {
    const { provider, debts } = await providerWithDebts(h, [3_000], "EUR");
    const payout = await bookingOf(h, provider, 8_000, "USD");
    h.clock.advance(48 * HOUR + 1000);
    await h.run("transfer", transferEvent(payout.id));
    expect(h.transfersFor(payout.id)).toMatchObject([{ amount: 8_000, currency: "usd" }]);
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "transferred", amount: 8_000, debtRecoveredAmount: 0 });
    expect(await debtOf(debts[0]!.id)).toMatchObject({ recoveredAmount: 0, status: "open" });
  });

  it("a transfer that fails gives the reservation back to the debt; retried, it is reserved again and the net amount sent", async () => {
    const { provider, debts, earlier } = await providerWithDebts(h, [3_000]);
    const payout = await bookingOf(h, provider);
    h.clock.advance(48 * HOUR + 1000);
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
    await h.run("transfer", transferEvent(payout.id));
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "failed", amount: 8_000, debtRecoveredAmount: 0 });
    expect(await debtOf(debts[0]!.id)).toMatchObject({ recoveredAmount: 0, status: "open" });
    expect(await db.debtRecovery.findMany({ where: { payoutId: payout.id } })).toMatchObject([{ status: "released" }]);
    expect(await db.auditLog.count({ where: { entityId: payout.id, action: "payout.debt_recovery_released" } })).toBe(1);
    expect(await db.auditLog.count({ where: { entityId: earlier.id, action: "provider.debt_recovered" } })).toBe(0);

    await retryPayout(h.ctx({ ...ADMIN_ACTOR(ada) } as never), { payoutId: payout.id, reason: "destination fixed" });
    await h.run("transfer", transferEvent(payout.id));
    const after = await payoutOf(payout.bookingId);
    expect(after).toMatchObject({ status: "transferred", amount: 5_000, debtRecoveredAmount: 3_000 });
    const made = h.transfersFor(payout.id);
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ amount: 5_000 });
    expect(await debtOf(debts[0]!.id)).toMatchObject({ recoveredAmount: 3_000, status: "settled" });
    expect(await db.debtRecovery.findMany({ where: { payoutId: payout.id } })).toMatchObject([{ status: "applied", amount: 3_000 }]);
  });

  it("a claim put back (a dispute opened before the transfer was sent) releases the reservation", async () => {
    const { provider, debts } = await providerWithDebts(h, [3_000]);
    const payout = await bookingOf(h, provider);
    h.clock.advance(48 * HOUR + 1000);
    const runId = "run_put_back";
    const claimed = await claimTransfer({ ...h.ctx(), runId }, { payoutId: payout.id });
    expect(claimed).toMatchObject({ kind: "claimed", claim: { amount: 5_000 } });
    expect(await debtOf(debts[0]!.id)).toMatchObject({ recoveredAmount: 3_000, status: "open" });
    // Re-running the claim step (Inngest re-runs it) reserves nothing more.
    await claimTransfer({ ...h.ctx(), runId }, { payoutId: payout.id });
    expect(await debtOf(debts[0]!.id)).toMatchObject({ recoveredAmount: 3_000 });
    expect(await db.debtRecovery.count({ where: { payoutId: payout.id } })).toBe(1);

    // Put back on hold through the state machine (as a claim that finds a dispute opened does). (A claim
    // merely put back to scheduled keeps it, so its retry sends the same transfer under the same key.)
    const { changePayout, lockPayout } = await import("@/lib/payouts/change-payout");
    await db.$transaction(async (tx) => {
      const locked = await lockPayout(tx, payout.id);
      await changePayout(tx, locked, {
        event: "unclaim_to_hold",
        data: { holdReason: "dispute_open" },
        audit: { actor: h.ctx().actor, action: "payout.held" },
      });
    });
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "on_hold", amount: 8_000, debtRecoveredAmount: 0 });
    expect(await debtOf(debts[0]!.id)).toMatchObject({ recoveredAmount: 0, status: "open" });
  });

  it("two payouts of one provider claimed at once recover the debt exactly once", async () => {
    const { provider, debts } = await providerWithDebts(h, [3_000]);
    const a = await bookingOf(h, provider);
    const b = await bookingOf(h, provider);
    h.clock.advance(48 * HOUR + 1000);
    const runs = await Promise.all([
      h.run("transfer", transferEvent(a.id), { runId: "run_race_a" }),
      h.run("transfer", transferEvent(b.id), { runId: "run_race_b" }),
      h.run("transfer", transferEvent(a.id), { runId: "run_race_a2" }),
      h.run("transfer", transferEvent(b.id), { runId: "run_race_b2" }),
    ]);
    expect(runs.filter((r) => r.error)).toEqual([]);
    const amounts = [...h.transfersFor(a.id), ...h.transfersFor(b.id)].map((t) => t.amount).sort((x, y) => x - y);
    expect(amounts).toEqual([5_000, 8_000]);
    expect(await debtOf(debts[0]!.id)).toMatchObject({ recoveredAmount: 3_000, status: "settled" });
    const rows = await db.debtRecovery.findMany({ where: { debtId: debts[0]!.id } });
    expect(rows).toMatchObject([{ amount: 3_000, status: "applied" }]);
  });

  it("a transfer step run again (same run) does not recover twice", async () => {
    const { provider, debts } = await providerWithDebts(h, [3_000]);
    const payout = await bookingOf(h, provider);
    h.clock.advance(48 * HOUR + 1000);
    h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "status", status: 500 });
    const runId = "run_rerun";
    const first = await h.run("transfer", transferEvent(payout.id), { runId });
    expect(first.error).toBeDefined();
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "processing", debtRecoveredAmount: 3_000 });
    await h.run("transfer", transferEvent(payout.id), { runId });
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "transferred", amount: 5_000, debtRecoveredAmount: 3_000 });
    expect(h.transfersFor(payout.id)).toMatchObject([{ amount: 5_000 }]);
    expect(await debtOf(debts[0]!.id)).toMatchObject({ recoveredAmount: 3_000, status: "settled" });
    expect(await db.auditLog.count({ where: { entityId: payout.id, action: "payout.debt_recovery_reserved" } })).toBe(1);
  });
});

describe("after the recovery", () => {
  it("a refund on a payout applied to debt is not parked silently: a critical alert asks for the debts to be adjusted", async () => {
    const { provider } = await providerWithDebts(h, [20_000]);
    const payout = await bookingOf(h, provider);
    h.clock.advance(48 * HOUR + 1000);
    await h.run("transfer", transferEvent(payout.id));
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "applied_to_debt", debtRecoveredAmount: 8_000 });
    const opened = await openDispute(h.ctx(), { bookingId: payout.bookingId, externalId: `dsp_${randomUUID()}`, openedAt: h.clock.now() });
    await resolveDispute(h.ctx(), { disputeId: opened.dispute.id, outcome: "partial", refundedAmount: 2_000, resolvedAt: h.clock.now() });
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "applied_to_debt", amount: 0, debtRecoveredAmount: 8_000 });
    expect(await db.alert.findMany({ where: { payoutId: payout.id, kind: "refund_after_debt_recovery" } })).toMatchObject([
      { severity: "critical", acknowledgedAt: null },
    ]);
  });

  it("every debt's recovered amount is what its recoveries not released add up to, and every payout's likewise", async () => {
    const debts = await db.providerDebt.findMany({ include: { recoveries: true } });
    expect(debts.length).toBeGreaterThan(5);
    for (const d of debts) {
      const kept = d.recoveries.filter((r) => r.status !== "released").reduce((s, r) => s + r.amount, 0);
      expect(d.recoveredAmount, d.id).toBe(kept);
      expect(d.recoveredAmount, d.id).toBeLessThanOrEqual(d.amount);
    }
    const payouts = await db.payout.findMany({ include: { recoveries: true } });
    for (const p of payouts) {
      const kept = p.recoveries.filter((r) => r.status !== "released").reduce((s, r) => s + r.amount, 0);
      expect(p.debtRecoveredAmount, p.id).toBe(kept);
      // Reserved while being transferred, or put back to be retried under the same keys (unclaim_to_scheduled).
      if (p.recoveries.some((r) => r.status === "reserved")) expect(["processing", "scheduled"], p.id).toContain(p.status);
    }
  });
});

describe("waive and write off", () => {
  const threshold = 100_000; // 1,000.00

  it("below the threshold an admin waives what is left at once, with a reason, audited on the debt's payout", async () => {
    const { debts, earlier } = await providerWithDebts(h, [3_000]);
    await db.providerDebt.update({ where: { id: debts[0]!.id }, data: { recoveredAmount: 1_000 } });
    const admin = { ...h.ctx(), actor: ADMIN_ACTOR(ada) };
    await expect(
      requestDebtClosing(admin, { debtId: debts[0]!.id, closing: "waive", reason: "" }, { fourEyesThreshold: threshold }),
    ).rejects.toMatchObject({ status: 400 });
    const done = await requestDebtClosing(
      admin,
      { debtId: debts[0]!.id, closing: "waive", reason: "goodwill" },
      { fourEyesThreshold: threshold },
    );
    expect(done).toMatchObject({ outcome: "closed", debt: { status: "waived", closedReason: "goodwill" } });
    expect(await db.auditLog.findMany({ where: { entityId: earlier.id, action: "provider.debt_waived" } })).toMatchObject([
      { actorId: ada, reason: "goodwill", after: { debtId: debts[0]!.id, amount: 2_000, recovered: 1_000 } },
    ]);
    // Closed: not recovered from the next payout, and not closed twice.
    await expect(
      requestDebtClosing(admin, { debtId: debts[0]!.id, closing: "write_off", reason: "again" }, { fourEyesThreshold: threshold }),
    ).rejects.toMatchObject({ status: 409 });
  });

  it("at or above the threshold a write-off waits for a second, independent admin", async () => {
    const { provider, debts, earlier } = await providerWithDebts(h, [150_000]);
    const asAda = { ...h.ctx(), actor: ADMIN_ACTOR(ada) };
    const asBob = { ...h.ctx(), actor: ADMIN_ACTOR(bob, "Bob Admin") };
    const requested = await requestDebtClosing(
      asAda,
      { debtId: debts[0]!.id, closing: "write_off", reason: "provider gone" },
      { fourEyesThreshold: threshold },
    );
    expect(requested).toMatchObject({ outcome: "approval_requested", request: { status: "pending", amount: 150_000 } });
    expect(await debtOf(debts[0]!.id)).toMatchObject({ status: "open" });
    // The same request again (a retried click) is the same pending request.
    const again = await requestDebtClosing(
      asAda,
      { debtId: debts[0]!.id, closing: "write_off", reason: "provider gone" },
      { fourEyesThreshold: threshold },
    );
    expect(again.outcome === "approval_requested" && again.request.id).toBe(
      requested.outcome === "approval_requested" && requested.request.id,
    );
    const requestId = requested.outcome === "approval_requested" ? requested.request.id : "";

    await expect(decideDebtClosing(asAda, { requestId, approve: true, reason: "my own request" })).rejects.toMatchObject({ status: 403 });
    const approved = await decideDebtClosing(asBob, { requestId, approve: true, reason: "checked" });
    expect(approved).toMatchObject({ request: { status: "approved", decidedById: bob }, debt: { status: "written_off" } });
    const actions = (await db.auditLog.findMany({ where: { entityId: earlier.id }, orderBy: { createdAt: "asc" } })).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(["provider.debt_closing_requested", "provider.debt_written_off"]));

    // A written-off debt is not recovered from the next payout.
    const next = await bookingOf(h, provider);
    h.clock.advance(48 * HOUR + 1000);
    await h.run("transfer", transferEvent(next.id));
    expect(h.transfersFor(next.id)).toMatchObject([{ amount: 8_000 }]);
  });

  it("a debt a payout in flight is recovering cannot be closed until the transfer settles", async () => {
    const { provider, debts } = await providerWithDebts(h, [3_000]);
    const payout = await bookingOf(h, provider);
    h.clock.advance(48 * HOUR + 1000);
    await claimTransfer({ ...h.ctx(), runId: "run_in_flight" }, { payoutId: payout.id });
    await expect(
      requestDebtClosing(
        { ...h.ctx(), actor: ADMIN_ACTOR(ada) },
        { debtId: debts[0]!.id, closing: "waive", reason: "goodwill" },
        { fourEyesThreshold: threshold },
      ),
    ).rejects.toMatchObject({ status: 409 });
  });
});
