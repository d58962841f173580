// The payout detail read model: one payout with everything that happened to it, merged into
// one timeline; the actions each role sees, with the reasons disabled ones give; one statement,
// served by indexes.
import { randomUUID } from "node:crypto";

import { PrismaPg } from "@prisma/adapter-pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { PrismaClient } from "@/generated/prisma/client";
import { requestForceRelease } from "@/lib/approvals/request-force-release";
import { db } from "@/lib/db";
import { openDispute } from "@/lib/disputes/open-dispute";
import { resolveDispute } from "@/lib/disputes/resolve-dispute";
import { getPayoutDetail } from "@/lib/payouts/get-payout-detail";
import { holdPayout } from "@/lib/payouts/hold-payout";
import type { TAuditTimelineItem, TPayoutDetail } from "@/lib/payouts/payout-detail-types";
import { releasePayout } from "@/lib/payouts/release-payout";
import { addTip } from "@/lib/tips/add-tip";

import { ADMIN_ACTOR, HOUR, payoutOf, startEngineHarness, type TEngineHarness } from "../../support/engine";

let h: TEngineHarness;
const users = {} as Record<"viewer" | "operator" | "admin" | "admin2", { id: string; role: "viewer" | "operator" | "admin"; name: string }>;

beforeAll(async () => {
  h = await startEngineHarness();
  for (const [key, role, name] of [
    ["viewer", "viewer", "Vera Viewer"],
    ["operator", "operator", "Oscar Operator"],
    ["admin", "admin", "Ada Admin"],
    ["admin2", "admin", "Bea Second"],
  ] as const) {
    const user = await db.adminUser.create({
      data: { email: `${key}-${randomUUID().slice(0, 6)}@payouts.test`, name, role, passwordHash: "x" },
    });
    users[key] = { id: user.id, role, name };
  }
});

afterAll(async () => {
  await h.fake.stop();
});

beforeEach(() => {
  h.clock.set(new Date());
});

const actor = (key: keyof typeof users) => ADMIN_ACTOR(users[key].id, users[key].name);

async function detailOf(payoutId: string, as: keyof typeof users = "admin"): Promise<TPayoutDetail> {
  const detail = await getPayoutDetail(db, payoutId, users[as], { now: h.clock.now() });
  if (!detail) throw new Error("no detail");
  return detail;
}

function auditItems(detail: TPayoutDetail): TAuditTimelineItem[] {
  return detail.timeline.filter((i): i is TAuditTimelineItem => i.kind === "audit");
}

describe("getPayoutDetail", () => {
  it("returns null for an unknown payout", async () => {
    expect(await getPayoutDetail(db, randomUUID(), users.admin)).toBeNull();
  });

  it("breaks the amount down and merges audit entries, tips, disputes, attempts and reversals into one timeline, newest first", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 8_000 });
    h.clock.advance(HOUR);
    await addTip(h.ctx(), {
      tipExternalId: `tip_${randomUUID()}`,
      bookingId,
      amount: 1_500,
      currency: "USD",
      tippedAt: h.clock.now(),
      stripeChargeId: "ch_tip_1",
    });
    h.clock.advance(HOUR);
    const payout = await payoutOf(bookingId);
    await holdPayout(h.ctx(actor("operator")), { payoutId: payout.id, reason: "Checking the provider" });
    h.clock.advance(HOUR);
    await releasePayout(h.ctx(actor("operator")), { payoutId: payout.id, reason: "Provider checked" });
    h.clock.advance(49 * HOUR);
    await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "due" } });
    h.clock.advance(HOUR);
    const dispute = await openDispute(h.ctx(), {
      bookingId,
      externalId: `dsp_${randomUUID()}`,
      stripeDisputeId: `dp_${randomUUID().slice(0, 8)}`,
      reason: "not as described",
      openedAt: h.clock.now(),
    });
    h.clock.advance(HOUR);
    const resolved = await resolveDispute(h.ctx(), {
      disputeId: dispute.dispute.id,
      outcome: "partial",
      refundedAmount: 2_000,
      resolvedAt: h.clock.now(),
    });
    h.clock.advance(HOUR);
    for (const reversalId of resolved.reversalIds) {
      await h.run("reverse", { name: "payout/reversal.requested", data: { reversalId, payoutId: payout.id } });
    }

    const detail = await detailOf(payout.id);
    expect(detail.payout).toMatchObject({
      providerShare: 8_000,
      tipAmount: 1_500,
      refundedAmount: 0,
      amount: 9_500,
      currency: "USD",
      reversedAmount: 2_000,
    });
    expect(detail.payout.status).toBe("partially_reversed");
    expect(detail.payout.stripeTransferId).toMatch(/^tr_/);

    // Newest first.
    const times = detail.timeline.map((i) => Date.parse(i.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const kinds = new Set(detail.timeline.map((i) => i.kind));
    expect([...kinds].sort()).toEqual(["audit", "dispute_opened", "dispute_resolved", "reversal", "tip", "transfer_attempt"]);

    // The tip's own audit entry is shown on the tip, with who recorded it.
    const tip = detail.timeline.find((i) => i.kind === "tip");
    expect(tip).toMatchObject({ tip: { amount: 1_500, stripeChargeId: "ch_tip_1", joined: true }, recordedBy: { type: "webhook" } });
    expect(auditItems(detail).some((i) => i.action === "tip.accepted")).toBe(false);

    const held = auditItems(detail).find((i) => i.action === "payout.held");
    expect(held).toMatchObject({
      actor: { type: "admin", label: actor("operator").label },
      reason: "Checking the provider",
      statusFrom: "scheduled",
      statusTo: "on_hold",
    });
    const released = auditItems(detail).find((i) => i.action === "payout.released");
    expect(released).toMatchObject({ reason: "Provider checked", statusFrom: "on_hold", statusTo: "scheduled" });
    expect(auditItems(detail).find((i) => i.action === "payout.amount_adjusted")).toMatchObject({ amountFrom: 8_000, amountTo: 9_500 });
    expect(auditItems(detail).find((i) => i.action === "payout.transferred")?.stripeTransferId).toBe(detail.payout.stripeTransferId);

    const attempt = detail.timeline.find((i) => i.kind === "transfer_attempt");
    expect(attempt).toMatchObject({ attempt: { attemptNumber: 1, status: "succeeded", stripeTransferId: detail.payout.stripeTransferId } });
    const reversal = detail.timeline.find((i) => i.kind === "reversal");
    expect(reversal).toMatchObject({ reversal: { amount: 2_000, status: "succeeded", stripeReversalId: expect.stringMatching(/^trr_/) } });
    expect(detail.timeline.find((i) => i.kind === "dispute_opened")).toMatchObject({
      dispute: { stripeDisputeId: expect.stringMatching(/^dp_/), reason: "not as described" },
    });

    // The booking's own entries are part of the story.
    expect(auditItems(detail).some((i) => i.action === "booking.completed")).toBe(true);
    // Settled: nobody can act on it, and each action says why.
    expect(detail.actions.every((a) => !a.allowed && a.disabledReason === "The money has already been transferred.")).toBe(true);
  });

  it("shows each role only its actions, disabled with a reason where the state forbids them", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    const payout = await payoutOf(bookingId);

    expect((await detailOf(payout.id, "viewer")).actions).toEqual([]);
    const operator = await detailOf(payout.id, "operator");
    expect(operator.actions.map((a) => [a.action, a.allowed])).toEqual([
      ["hold", true],
      ["release", false],
      ["retry", false],
    ]);
    expect(operator.actions.find((a) => a.action === "release")?.disabledReason).toBe("The payout is not on hold.");
    const admin = await detailOf(payout.id, "admin");
    expect(admin.actions.map((a) => [a.action, a.allowed])).toEqual([
      ["hold", true],
      ["release", false],
      ["retry", false],
      ["force_release", true],
      ["cancel", true],
    ]);

    await openDispute(h.ctx(), { bookingId, externalId: `dsp_${randomUUID()}`, openedAt: h.clock.now() });
    const disputed = await detailOf(payout.id, "admin");
    expect(disputed.payout).toMatchObject({ status: "on_hold", holdReason: "dispute_open" });
    expect(disputed.openDisputes).toBe(1);
    expect(Object.fromEntries(disputed.actions.map((a) => [a.action, a.disabledReason]))).toEqual({
      hold: "The payout is already on hold.",
      release: "Held for an open dispute; it is released when the dispute is resolved.",
      retry: "Only a failed payout can be retried.",
      force_release: "A dispute on this booking is open; resolve it first.",
      cancel: null,
    });
  });

  it("shows a pending force release: awaiting a second approval, approvable by another admin only", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 150_000 });
    const payout = await payoutOf(bookingId);
    const requested = await requestForceRelease(h.ctx(actor("admin")), { payoutId: payout.id, reason: "VIP provider, pay today" });
    expect(requested.outcome).toBe("approval_requested");

    const asRequester = await detailOf(payout.id, "admin");
    expect(asRequester.fourEyes).toMatchObject({ required: true, thresholdMinor: 100_000, pendingApprovalId: expect.any(String) });
    expect(asRequester.approvals).toHaveLength(1);
    expect(asRequester.approvals[0]).toMatchObject({
      state: "pending",
      reason: "VIP provider, pay today",
      requestedBy: { name: "Ada Admin" },
      canApprove: false,
      canWithdraw: true,
      approveBlockedReason: "You requested this force release; a second admin must approve it.",
    });
    expect(asRequester.actions.find((a) => a.action === "force_release")).toMatchObject({
      allowed: false,
      disabledReason: "Already awaiting a second admin's approval (requested by Ada Admin).",
    });
    expect(auditItems(asRequester)[0]).toMatchObject({ action: "payout.force_release_requested", reason: "VIP provider, pay today" });

    const asSecond = await detailOf(payout.id, "admin2");
    expect(asSecond.approvals[0]).toMatchObject({ canApprove: true, canReject: true, canWithdraw: false, approveBlockedReason: null });
    const asOperator = await detailOf(payout.id, "operator");
    expect(asOperator.approvals[0]).toMatchObject({ canApprove: false, canReject: false, canWithdraw: false });

    // Once the payout changes, the request no longer matches: shown expired, force release possible again.
    await holdPayout(h.ctx(actor("operator")), { payoutId: payout.id, reason: "Wait" });
    const changed = await detailOf(payout.id, "admin2");
    expect(changed.approvals[0]).toMatchObject({
      state: "expired",
      canApprove: false,
      expiredBecause: expect.stringMatching(/now on hold \(it was scheduled\)/),
    });
    expect(changed.fourEyes.pendingApprovalId).toBeNull();
    expect(changed.actions.find((a) => a.action === "force_release")?.allowed).toBe(true);
  });

  /** Every node of an EXPLAIN (FORMAT JSON) plan. */
  function planNodes(plan: unknown): Record<string, unknown>[] {
    const nodes: Record<string, unknown>[] = [];
    const visit = (value: unknown) => {
      if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value === "object") {
        const node = value as Record<string, unknown>;
        if ("Node Type" in node) nodes.push(node);
        Object.values(node).forEach(visit);
      } else if (typeof value === "string" && value.startsWith("[")) visit(JSON.parse(value));
    };
    visit(plan);
    return nodes;
  }

  /** The statements `read` sends, through a client that logs them. */
  async function statementsOf(read: (client: PrismaClient) => Promise<unknown>): Promise<{ query: string; params: string }[]> {
    const logged = new PrismaClient({
      adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL! }),
      log: [{ emit: "event", level: "query" }],
    });
    const queries: { query: string; params: string }[] = [];
    logged.$on("query", (e) => queries.push({ query: e.query, params: e.params }));
    try {
      await read(logged);
    } finally {
      await logged.$disconnect();
    }
    return queries;
  }

  it("reads a payout in one statement, served by indexes whatever the table sizes", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    const payout = await payoutOf(bookingId);
    await addTip(h.ctx(), { tipExternalId: `tip_${randomUUID()}`, bookingId, amount: 100, currency: "USD", tippedAt: h.clock.now() });
    await openDispute(h.ctx(), { bookingId, externalId: `dsp_${randomUUID()}`, openedAt: h.clock.now() });

    for (const as of ["viewer", "operator", "admin"] as const) {
      let detail: TPayoutDetail | null = null;
      const queries = await statementsOf(async (client) => {
        detail = await getPayoutDetail(client, payout.id, users[as]);
      });
      // Payout, booking, provider, tips, disputes, attempts, reversals, approvals, transfers (and
      // their bank payouts), the provider's last bank payout, approvers, audit entries: one
      // statement, one snapshot, no transaction.
      expect(
        queries.map((q) => q.query.trim().split(/\s+/)[0]),
        as,
      ).toEqual(["SELECT"]);
      expect(detail, as).toMatchObject({ payout: { id: payout.id }, tips: [{ amount: 100 }], disputes: [{ status: "open" }] });

      // With sequential scans priced out, the planner still finds an index for every part:
      // none of them needs to read a whole table, whatever its size.
      const [{ query, params }] = queries as [{ query: string; params: string }];
      const plan = await db.$transaction(async (tx) => {
        await tx.$executeRawUnsafe("SET LOCAL enable_seqscan = off");
        return tx.$queryRawUnsafe<{ "QUERY PLAN": unknown }[]>(`EXPLAIN (FORMAT JSON) ${query}`, ...(JSON.parse(params) as unknown[]));
      });
      const text = JSON.stringify(plan);
      expect(text, query).not.toMatch(/"Node Type":"Seq Scan"/);
      // Audit entries are found by entity (entityType and entityId), never by reading every tip's
      // or every dispute's entries.
      const auditScans = planNodes(plan).filter((node) => node["Index Name"] === "AuditLog_entityType_entityId_createdAt_idx");
      expect(auditScans.length).toBeGreaterThan(0);
      for (const node of auditScans) expect(String(node["Index Cond"])).toMatch(/"entityId"/);
    }
  });

  it("reads it again with the four-eyes checks, in one repeatable-read snapshot, for an admin asked to approve", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 150_000 });
    const payout = await payoutOf(bookingId);
    await requestForceRelease(h.ctx(actor("admin")), { payoutId: payout.id, reason: "Needs a second admin" });

    const asRequester = await statementsOf((client) => getPayoutDetail(client, payout.id, users.admin));
    expect(asRequester.map((q) => q.query.trim().split(/\s+/)[0])).toEqual(["SELECT"]);

    let detail: TPayoutDetail | null = null;
    const asSecond = await statementsOf(async (client) => {
      detail = await getPayoutDetail(client, payout.id, users.admin2);
    });
    const statements = asSecond.map((q) => q.query.trim());
    // The read; then, in the transaction (its BEGIN is not logged), the read again, the
    // independence checks (the approver, their access changes, admin grants between the two), COMMIT.
    expect(statements).toHaveLength(6);
    expect(statements.slice(0, 2)).toEqual([
      expect.stringMatching(/^SELECT json_build_object/),
      expect.stringMatching(/^SELECT json_build_object/),
    ]);
    expect(statements.slice(2, 5).join("\n")).toMatch(/"AdminUser"[\s\S]*"AuditLog"[\s\S]*"AdminAccessRequest"/);
    expect(statements.at(-1)).toBe("COMMIT");
    expect(detail).toMatchObject({ approvals: [{ state: "pending", canApprove: true }] });
  });
});
