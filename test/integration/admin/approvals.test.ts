// Four-eyes force release: at or above the threshold a force release waits for a second
// admin; the requester cannot approve it; the approval runs the release with both names in
// the audit log, or expires if the payout changed meanwhile. Each step audited; a refusal
// writes nothing.
import { randomUUID } from "node:crypto";

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { approvedReleaseReason, approveForceRelease } from "@/lib/approvals/approve-force-release";
import { rejectForceRelease } from "@/lib/approvals/reject-force-release";
import { requestForceRelease } from "@/lib/approvals/request-force-release";
import { db } from "@/lib/db";
import { openDispute } from "@/lib/disputes/open-dispute";
import { approvalMismatch, fourEyesThresholdFor, needsSecondApproval } from "@/lib/payouts/four-eyes";
import { getPayoutDetail } from "@/lib/payouts/get-payout-detail";
import { holdPayout } from "@/lib/payouts/hold-payout";
import { approvedReleaseWaiting, evaluatePayoutAction, payoutActionsFor, type TPayoutActionFacts } from "@/lib/payouts/payout-actions";
import { addTip } from "@/lib/tips/add-tip";

import { ADMIN_ACTOR, HOUR, payoutOf, startEngineHarness, type TEngineHarness } from "../../support/engine";

let h: TEngineHarness;
let ada: ReturnType<typeof ADMIN_ACTOR>;
let bea: ReturnType<typeof ADMIN_ACTOR>;
let cid: ReturnType<typeof ADMIN_ACTOR>;
let oscar: ReturnType<typeof ADMIN_ACTOR>;

beforeAll(async () => {
  h = await startEngineHarness();
  const make = async (name: string, role: "admin" | "operator") => {
    const user = await db.adminUser.create({ data: { email: `${randomUUID().slice(0, 8)}@payouts.test`, name, role, passwordHash: "x" } });
    // The label the dashboard writes: "Name <email>".
    return { ...ADMIN_ACTOR(user.id, name), label: `${name} <${user.email}>` };
  };
  ada = await make("Ada Admin", "admin");
  bea = await make("Bea Second", "admin");
  cid = await make("Cid Third", "admin");
  oscar = await make("Oscar Operator", "operator");
});

afterAll(async () => {
  await h.fake.stop();
});

beforeEach(() => {
  h.clock.set(new Date());
});

/** A scheduled USD payout of `amount` (default 1,500.00: above the default threshold), not yet due. */
async function bigPayout(amount = 150_000) {
  const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: amount });
  return { bookingId, payout: await payoutOf(bookingId) };
}

async function snapshot(payoutId: string) {
  const [payout, approvals, audit, outbox] = await Promise.all([
    db.payout.findUniqueOrThrow({ where: { id: payoutId } }),
    db.payoutApproval.findMany({ where: { payoutId }, orderBy: { createdAt: "asc" } }),
    db.auditLog.count({ where: { entityType: "payout", entityId: payoutId } }),
    db.outboxEvent.count(),
  ]);
  return { payout, approvals, audit, outbox };
}

describe("four-eyes rules (pure)", () => {
  it("reads the threshold as 1,000.00 in the payout's currency", () => {
    expect(fourEyesThresholdFor("USD", 100_000)).toBe(100_000);
    expect(fourEyesThresholdFor("JPY", 100_000)).toBe(1_000);
    expect(fourEyesThresholdFor("KWD", 100_000)).toBe(1_000_000);
    expect(fourEyesThresholdFor("JPY", 150)).toBe(2); // rounds up, never below the configured value
    expect(needsSecondApproval(99_999, "USD", 100_000)).toBe(false);
    expect(needsSecondApproval(100_000, "USD", 100_000)).toBe(true);
    expect(needsSecondApproval(1_000, "JPY", 100_000)).toBe(true);
  });

  it("says what changed since a request", () => {
    const basis = { status: "scheduled", amount: 150_000, currency: "USD" } as const;
    expect(approvalMismatch(basis, basis)).toBeNull();
    expect(approvalMismatch(basis, { ...basis, status: "on_hold" })).toBe(
      "Since the request, the payout is now on hold (it was scheduled).",
    );
    expect(approvalMismatch(basis, { ...basis, amount: 151_000 })).toBe(
      "Since the request, the amount is now $1,510.00 (it was $1,500.00).",
    );
  });

  it("keeps the audit reason within the limit, naming both admins", () => {
    const reason = approvedReleaseReason("Bea Second <bea@payouts.test>", "x".repeat(500), "Ada Admin <ada@payouts.test>", "y".repeat(500));
    expect(reason.length).toBeLessThanOrEqual(500);
    expect(reason).toContain("Bea Second <bea@payouts.test>");
    expect(reason).toContain("Ada Admin <ada@payouts.test>");
  });

  it("explains every disabled action", () => {
    const facts: TPayoutActionFacts = {
      status: "processing",
      holdReason: null,
      openDisputes: 0,
      providerReady: true,
      pendingApproval: null,
    };
    expect(payoutActionsFor("admin", facts).map((a) => a.disabledReason)).toEqual(
      Array(5).fill("The transfer is in progress; wait until it settles."),
    );
    expect(
      evaluatePayoutAction("release", { ...facts, status: "on_hold", holdReason: "provider_account_not_ready", providerReady: false }),
    ).toEqual({
      allowed: false,
      reason: "The provider's Stripe account still cannot receive payouts.",
    });
    expect(evaluatePayoutAction("retry", { ...facts, status: "failed" })).toEqual({ allowed: true });
    expect(evaluatePayoutAction("cancel", { ...facts, status: "cancelled" })).toEqual({
      allowed: false,
      reason: "The payout is cancelled.",
    });
    expect(payoutActionsFor("viewer", facts)).toEqual([]);
  });

  it("an approved force release waits for its transfer while the payout is scheduled and no transfer was tried since", () => {
    const decidedAt = new Date("2026-12-01T10:00:00Z");
    const approved = { status: "approved", decidedAt, approvedBy: "Bea" };
    const waiting = { approvedBy: "Bea", approvedAt: decidedAt.toISOString() };
    expect(approvedReleaseWaiting("scheduled", approved, null)).toEqual(waiting);
    expect(approvedReleaseWaiting("scheduled", approved, new Date("2026-12-01T09:00:00Z"))).toEqual(waiting);
    expect(approvedReleaseWaiting("scheduled", approved, new Date("2026-12-01T10:05:00Z"))).toBeNull();
    expect(approvedReleaseWaiting("processing", approved, null)).toBeNull();
    expect(approvedReleaseWaiting("on_hold", approved, null)).toBeNull();
    expect(approvedReleaseWaiting("scheduled", { ...approved, status: "pending", decidedAt: null }, null)).toBeNull();
    expect(approvedReleaseWaiting("scheduled", { ...approved, status: "rejected" }, null)).toBeNull();
    expect(approvedReleaseWaiting("scheduled", null, null)).toBeNull();
  });
});

describe("requesting a force release", () => {
  it("below the threshold, force releases at once", async () => {
    const { payout } = await bigPayout(99_999);
    const result = await requestForceRelease(h.ctx(ada), { payoutId: payout.id, reason: "Urgent", expectedVersion: payout.version });
    expect(result.outcome).toBe("applied");
    expect(result.payout.eligibleAt.getTime()).toBeLessThanOrEqual(h.clock.now().getTime());
    expect(await db.payoutApproval.count({ where: { payoutId: payout.id } })).toBe(0);
    expect(await db.auditLog.findFirst({ where: { entityId: payout.id, action: "payout.force_released" } })).toMatchObject({
      actorLabel: ada.label,
      reason: "Urgent",
    });
  });

  it("at or above the threshold, records a pending request and changes nothing else", async () => {
    const { payout } = await bigPayout(100_000);
    const before = await snapshot(payout.id);
    const result = await requestForceRelease(h.ctx(ada), { payoutId: payout.id, reason: "VIP provider", expectedVersion: payout.version });
    expect(result.outcome).toBe("approval_requested");
    const after = await snapshot(payout.id);
    expect(after.payout).toEqual(before.payout);
    expect(after.approvals).toHaveLength(1);
    expect(after.approvals[0]).toMatchObject({
      status: "pending",
      action: "force_release",
      amount: 100_000,
      currency: "USD",
      reason: "VIP provider",
      requestedById: ada.id,
    });
    const entry = await db.auditLog.findFirstOrThrow({ where: { entityId: payout.id, action: "payout.force_release_requested" } });
    expect(entry).toMatchObject({ actorType: "admin", actorId: ada.id, actorLabel: ada.label, reason: "VIP provider" });
    expect(entry.after).toMatchObject({
      approvalId: after.approvals[0]!.id,
      basis: { status: "scheduled", amount: 100_000, currency: "USD" },
    });
  });

  it("refuses a second request while one is pending, writing nothing", async () => {
    const { payout } = await bigPayout();
    await requestForceRelease(h.ctx(ada), { payoutId: payout.id, reason: "First" });
    const before = await snapshot(payout.id);
    await expect(requestForceRelease(h.ctx(bea), { payoutId: payout.id, reason: "Second" })).rejects.toMatchObject({
      status: 409,
      message: "Cannot force release: already awaiting a second admin's approval (requested by Ada Admin).",
    });
    expect(await snapshot(payout.id)).toEqual(before);
  });

  it("refuses while a dispute is open, and for a stale version, writing nothing", async () => {
    const { bookingId, payout } = await bigPayout();
    await expect(
      requestForceRelease(h.ctx(ada), { payoutId: payout.id, reason: "Old screen", expectedVersion: payout.version + 5 }),
    ).rejects.toMatchObject({
      status: 409,
      code: "version_conflict",
    });
    await openDispute(h.ctx(), { bookingId, externalId: `dsp_${randomUUID()}`, openedAt: h.clock.now() });
    const before = await snapshot(payout.id);
    await expect(requestForceRelease(h.ctx(ada), { payoutId: payout.id, reason: "Anyway" })).rejects.toMatchObject({
      status: 409,
      message: "Cannot force release: a dispute on this booking is open; resolve it first.",
    });
    expect(await snapshot(payout.id)).toEqual(before);
  });
});

describe("approving", () => {
  it("the requester's own approval is refused with 403 and writes nothing", async () => {
    const { payout } = await bigPayout();
    const { approval } = (await requestForceRelease(h.ctx(ada), { payoutId: payout.id, reason: "VIP" })) as { approval: { id: string } };
    const before = await snapshot(payout.id);
    await expect(approveForceRelease(h.ctx(ada), { approvalId: approval.id, reason: "Approving my own" })).rejects.toMatchObject({
      status: 403,
      message: "You requested this force release; a second admin must approve it.",
    });
    expect(await snapshot(payout.id)).toEqual(before);
  });

  it("a second admin approves: the force release runs as them, both named in the audit log, in one transaction", async () => {
    const { payout } = await bigPayout();
    const { approval } = (await requestForceRelease(h.ctx(ada), { payoutId: payout.id, reason: "VIP provider" })) as {
      approval: { id: string };
    };
    h.clock.advance(HOUR);
    const result = await approveForceRelease(h.ctx(bea), { approvalId: approval.id, reason: "Checked the booking" });

    expect(result.approval).toMatchObject({ status: "approved", decidedById: bea.id, decisionNote: "Checked the booking" });
    expect(result.payout.status).toBe("scheduled");
    expect(result.payout.eligibleAt.getTime()).toBeLessThanOrEqual(h.clock.now().getTime());
    expect(result.transferRequested).toBe(true);

    const audit = await db.auditLog.findMany({ where: { entityId: payout.id, actorId: bea.id } });
    expect(audit.map((a) => a.action).sort()).toEqual(["payout.force_release_approved", "payout.force_released"]);
    const released = audit.find((a) => a.action === "payout.force_released")!;
    expect(released.actorLabel).toBe(bea.label);
    expect(released.reason).toBe(
      `Four-eyes force release approved by ${bea.label}: "Checked the booking". Requested by ${ada.label}: "VIP provider".`,
    );
    const events = await db.outboxEvent.findMany({ where: { name: { in: ["payout/admin.action", "payout/transfer.requested"] } } });
    expect(
      events
        .filter((e) => (e.data as { payoutId: string }).payoutId === payout.id)
        .map((e) => e.name)
        .sort(),
    ).toEqual(["payout/admin.action", "payout/transfer.requested"]);

    // Decided once: a second decision is refused.
    await expect(approveForceRelease(h.ctx(cid), { approvalId: approval.id, reason: "Me too" })).rejects.toMatchObject({ status: 409 });
    await expect(rejectForceRelease(h.ctx(cid), { approvalId: approval.id, reason: "Too late" })).rejects.toMatchObject({ status: 409 });
  });

  it("once approved, the release reads as approved and waiting for its transfer, and is not offered or accepted again", async () => {
    const { payout } = await bigPayout();
    const { approval } = (await requestForceRelease(h.ctx(ada), { payoutId: payout.id, reason: "VIP provider" })) as {
      approval: { id: string };
    };
    h.clock.advance(HOUR);
    const approved = await approveForceRelease(h.ctx(bea), { approvalId: approval.id, reason: "Checked the booking" });

    const detail = await getPayoutDetail(db, payout.id, { id: cid.id, role: "admin" });
    expect(detail!.payout.status).toBe("scheduled");
    expect(detail!.fourEyes).toMatchObject({
      pendingApprovalId: null,
      approvedRelease: { approvedBy: "Bea Second", approvedAt: approved.approval.decidedAt!.toISOString() },
    });
    expect(detail!.actions.find((a) => a.action === "force_release")).toMatchObject({
      allowed: false,
      disabledReason: "A force release was already approved by Bea Second; it is waiting for the transfer to run.",
    });
    // Hold stays offered: an operator can still stop it before the transfer runs.
    expect(detail!.actions.find((a) => a.action === "hold")).toMatchObject({ allowed: true });

    const before = await snapshot(payout.id);
    await expect(requestForceRelease(h.ctx(cid), { payoutId: payout.id, reason: "Again" })).rejects.toMatchObject({
      status: 409,
      message: "Cannot force release: a force release was already approved by Bea Second; it is waiting for the transfer to run.",
    });
    expect(await snapshot(payout.id)).toEqual(before);
  });

  it("two admins approving at once: exactly one force release", async () => {
    const { payout } = await bigPayout();
    const { approval } = (await requestForceRelease(h.ctx(ada), { payoutId: payout.id, reason: "VIP" })) as { approval: { id: string } };
    const results = await Promise.allSettled([
      approveForceRelease(h.ctx(bea), { approvalId: approval.id, reason: "Yes" }),
      approveForceRelease(h.ctx(cid), { approvalId: approval.id, reason: "Yes too" }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(results.find((r) => r.status === "rejected")).toMatchObject({ reason: { status: 409 } });
    expect(await db.auditLog.count({ where: { entityId: payout.id, action: "payout.force_released" } })).toBe(1);
  });

  it("expires instead of running when the payout's status changed since the request", async () => {
    const { payout } = await bigPayout();
    const { approval } = (await requestForceRelease(h.ctx(ada), { payoutId: payout.id, reason: "VIP" })) as { approval: { id: string } };
    await holdPayout(h.ctx(oscar), { payoutId: payout.id, reason: "Fraud check" });
    const held = await payoutOf(payout.bookingId);

    await expect(approveForceRelease(h.ctx(bea), { approvalId: approval.id, reason: "Fine" })).rejects.toMatchObject({
      status: 409,
      message:
        "This request has expired. Since the request, the payout is now on hold (it was scheduled). Request a new force release if it is still needed.",
    });
    expect(await payoutOf(payout.bookingId)).toEqual(held);
    expect(await db.payoutApproval.findUniqueOrThrow({ where: { id: approval.id } })).toMatchObject({
      status: "cancelled",
      decidedById: null,
    });
    expect(await db.auditLog.findFirst({ where: { entityId: payout.id, action: "payout.force_release_expired" } })).toMatchObject({
      actorLabel: bea.label,
    });
    expect(await db.auditLog.count({ where: { entityId: payout.id, action: "payout.force_released" } })).toBe(0);
  });

  it("expires when the amount changed (a tip joined) since the request", async () => {
    const { bookingId, payout } = await bigPayout();
    const { approval } = (await requestForceRelease(h.ctx(ada), { payoutId: payout.id, reason: "VIP" })) as { approval: { id: string } };
    await addTip(h.ctx(), { tipExternalId: `tip_${randomUUID()}`, bookingId, amount: 500, currency: "USD", tippedAt: h.clock.now() });
    await expect(approveForceRelease(h.ctx(bea), { approvalId: approval.id, reason: "Fine" })).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining("the amount is now $1,505.00 (it was $1,500.00)"),
    });
    // A new request for the new amount can be made.
    const again = await requestForceRelease(h.ctx(ada), { payoutId: payout.id, reason: "VIP, with the tip" });
    expect(again.outcome).toBe("approval_requested");
  });

  it("if the release itself is refused, the approval is not recorded either", async () => {
    // Held by an admin (status unchanged by the dispute that opens meanwhile): the request still
    // matches, but force release refuses while the dispute is open; nothing is written.
    const { bookingId, payout } = await bigPayout();
    await holdPayout(h.ctx(oscar), { payoutId: payout.id, reason: "Fraud check" });
    const { approval } = (await requestForceRelease(h.ctx(ada), { payoutId: payout.id, reason: "Checked, release" })) as {
      approval: { id: string };
    };
    await openDispute(h.ctx(), { bookingId, externalId: `dsp_${randomUUID()}`, openedAt: h.clock.now() });
    const before = await snapshot(payout.id);
    await expect(approveForceRelease(h.ctx(bea), { approvalId: approval.id, reason: "Fine by me" })).rejects.toMatchObject({ status: 409 });
    expect(await snapshot(payout.id)).toEqual(before);
    expect(before.approvals.find((a) => a.id === approval.id)?.status).toBe("pending");
  });
});

describe("rejecting and withdrawing", () => {
  it("another admin rejects; the requester withdraws their own; the payout is untouched; both audited", async () => {
    const first = await bigPayout();
    const r1 = (await requestForceRelease(h.ctx(ada), { payoutId: first.payout.id, reason: "VIP" })) as { approval: { id: string } };
    const rejected = await rejectForceRelease(h.ctx(bea), { approvalId: r1.approval.id, reason: "No reason to rush" });
    expect(rejected).toMatchObject({
      outcome: "rejected",
      approval: { status: "rejected", decidedById: bea.id, decisionNote: "No reason to rush" },
    });
    expect(await payoutOf(first.bookingId)).toEqual(first.payout);
    expect(await db.auditLog.findFirst({ where: { entityId: first.payout.id, action: "payout.force_release_rejected" } })).toMatchObject({
      actorLabel: bea.label,
      reason: "No reason to rush",
    });

    const second = await bigPayout();
    const r2 = (await requestForceRelease(h.ctx(ada), { payoutId: second.payout.id, reason: "VIP" })) as { approval: { id: string } };
    const withdrawn = await rejectForceRelease(h.ctx(ada), { approvalId: r2.approval.id, reason: "Asked by mistake" });
    expect(withdrawn).toMatchObject({ outcome: "withdrawn", approval: { status: "cancelled", decidedById: ada.id } });
    expect(await db.auditLog.findFirst({ where: { entityId: second.payout.id, action: "payout.force_release_withdrawn" } })).toMatchObject({
      actorLabel: ada.label,
    });
  });

  it("needs a reason and an admin actor", async () => {
    const { payout } = await bigPayout();
    const { approval } = (await requestForceRelease(h.ctx(ada), { payoutId: payout.id, reason: "VIP" })) as { approval: { id: string } };
    await expect(rejectForceRelease(h.ctx(bea), { approvalId: approval.id, reason: " " })).rejects.toMatchObject({ status: 400 });
    await expect(approveForceRelease(h.ctx(), { approvalId: approval.id, reason: "webhook" })).rejects.toMatchObject({ status: 400 });
    await expect(approveForceRelease(h.ctx(bea), { approvalId: randomUUID(), reason: "Unknown" })).rejects.toMatchObject({ status: 404 });
  });
});
