// The demo seed: idempotent, believable (every rule in docs/design.md holds in the data),
// and refused in production.
import path from "node:path";

import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

import type { PayoutStatus } from "@/generated/prisma/enums";
import { verifyPassword } from "@/lib/auth/password";
import { db } from "@/lib/db";
import { buildDemoDataset } from "@/lib/seed/build-demo-dataset";
import { DEMO_USERS } from "@/lib/seed/demo-users";
import { seedDemoData, type TSeedSummary } from "@/lib/seed/seed-demo-data";

import { databaseUrl, dropDatabase, withAdminClient } from "../../support/databases";
import { PROJECT_BIN, runProjectCommand, type TCommandResult } from "../../support/run-project-command";

const HOUR = 3_600_000;
const NOW = new Date("2026-11-24T10:17:00.000Z");

const TABLES = [
  "AdminUser",
  "Provider",
  "Booking",
  "Payout",
  "Tip",
  "Dispute",
  "TransferAttempt",
  "TransferReversal",
  "ProviderDebt",
  "PayoutApproval",
  "AuditLog",
  "WebhookEvent",
  "OutboxEvent",
  "Alert",
  "SystemState",
  "PlatformWebhookEndpoint",
  "PlatformWebhookEvent",
  "PlatformWebhookDelivery",
  "PlatformWebhookAttempt",
] as const;

const ALL_STATUSES: PayoutStatus[] = [
  "scheduled",
  "on_hold",
  "processing",
  "transferred",
  "partially_reversed",
  "reversed",
  "failed",
  "cancelled",
];

async function countRows(connectionString: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const counts: Record<string, number> = {};
    for (const table of TABLES) {
      const { rows } = await client.query<{ count: number }>(`SELECT count(*)::int AS count FROM "${table}"`);
      counts[table] = rows[0]?.count ?? -1;
    }
    return counts;
  } finally {
    await client.end();
  }
}

function ownDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set by the test setup");
  return url;
}

describe("seedDemoData", () => {
  let first: TSeedSummary;
  let second: TSeedSummary;
  let countsAfterFirst: Record<string, number>;
  let countsAfterSecond: Record<string, number>;
  const messages: string[] = [];

  beforeAll(async () => {
    first = await seedDemoData(db, { now: NOW, log: (m) => messages.push(m) });
    countsAfterFirst = await countRows(ownDatabaseUrl());
    second = await seedDemoData(db, { now: new Date(NOW.getTime() + 5 * HOUR), log: (m) => messages.push(m) });
    countsAfterSecond = await countRows(ownDatabaseUrl());
    console.info(`seed: first run ${first.durationMs} ms, second run ${second.durationMs} ms`);
  });

  it("creates the data set on the first run, quickly", () => {
    expect(first.created).toBe(true);
    expect(first.users).toBe(3);
    expect(first.providers).toBe(50);
    expect(first.bookings).toBe(2_000);
    for (const status of ALL_STATUSES) expect(first.payouts[status], status).toBeGreaterThan(0);
    expect(first.durationMs).toBeLessThan(15_000);
    expect(messages.join("\n")).toMatch(/inserted \d+ rows in \d+ ms/);
  });

  it("creates nothing on a second run: every table has the same row count", () => {
    expect(second.created).toBe(false);
    expect(second.users).toBe(0);
    expect(second.providers).toBe(0);
    expect(second.bookings).toBe(0);
    expect(Object.values(second.payouts).every((n) => n === 0)).toBe(true);
    expect(countsAfterSecond).toEqual(countsAfterFirst);
    expect(countsAfterFirst.Provider).toBe(50);
    expect(countsAfterFirst.Booking).toBe(2_000);
    expect(countsAfterFirst.AdminUser).toBe(3);
  });

  it("seals the demo's audit log and records its verification, intact", async () => {
    expect(first.auditSealed).toBe(countsAfterFirst.AuditLog);
    expect(first.auditChainIntact).toBe(true);
    expect(second).toMatchObject({ auditSealed: 0, auditChainIntact: null });
    expect(await db.auditUnsealed.count()).toBe(0);
    expect(await db.auditVerification.findMany({ select: { ok: true, trigger: true, entriesChecked: true } })).toEqual([
      { ok: true, trigger: "seed", entriesChecked: countsAfterFirst.AuditLog },
    ]);
  });

  it("creates the three demo users with bcrypt hashes that still verify after a second run", async () => {
    for (const demo of DEMO_USERS) {
      const user = await db.adminUser.findUniqueOrThrow({ where: { email: demo.email } });
      expect(user.role).toBe(demo.role);
      expect(user.name).toBe(demo.name);
      expect(user.passwordHash).toMatch(/^\$2[aby]\$\d{2}\$/);
      expect(await verifyPassword(demo.password, user.passwordHash)).toBe(true);
      expect(await verifyPassword(`${demo.password}x`, user.passwordHash)).toBe(false);
    }
  });

  it("leaves an existing user's password alone", async () => {
    const viewer = DEMO_USERS.find((u) => u.role === "viewer");
    if (!viewer) throw new Error("no demo viewer");
    const before = await db.adminUser.findUniqueOrThrow({ where: { email: viewer.email } });
    await seedDemoData(db, { now: NOW });
    const after = await db.adminUser.findUniqueOrThrow({ where: { email: viewer.email } });
    expect(after.passwordHash).toBe(before.passwordHash);
    expect(after.updatedAt).toEqual(before.updatedAt);
  });

  it("has about 50 providers, three of them not ready for payouts", async () => {
    const providers = await db.provider.findMany();
    expect(providers).toHaveLength(50);
    expect(new Set(providers.map((p) => p.email)).size).toBe(50);
    for (const p of providers) {
      expect(p.externalId).toMatch(/^prov_\d{4}$/);
      expect(p.email).toMatch(/^[a-z0-9.]+@[a-z.]+$/);
      if (p.stripeAccountId) expect(p.stripeAccountId).toMatch(/^acct_[A-Za-z0-9]{16}$/);
    }
    const notReady = providers.filter((p) => !p.payoutsEnabled);
    expect(notReady).toHaveLength(3);
    expect(notReady.some((p) => p.stripeAccountId === null)).toBe(true);
    expect(notReady.some((p) => p.stripeAccountId !== null)).toBe(true);
  });

  it("has 2,000 bookings over the last 30 days, some cancelled before completion without a payout", async () => {
    const bookings = await db.booking.findMany({ include: { payout: { select: { id: true } } } });
    expect(bookings).toHaveLength(2_000);
    const from = NOW.getTime() - 30 * 24 * HOUR;
    for (const b of bookings) {
      expect(b.externalId).toMatch(/^bk_\d{6}$/);
      const at = (b.completedAt ?? b.cancelledAt)?.getTime() ?? 0;
      expect(at).toBeGreaterThanOrEqual(from);
      expect(at).toBeLessThanOrEqual(NOW.getTime());
      if (b.currency === "JPY") {
        expect(b.providerShare).toBeGreaterThanOrEqual(3_000);
        expect(b.providerShare).toBeLessThanOrEqual(20_000);
      } else {
        expect(["USD", "EUR", "GBP"]).toContain(b.currency);
        expect(b.providerShare).toBeGreaterThanOrEqual(2_000);
        expect(b.providerShare).toBeLessThanOrEqual(30_000);
      }
    }
    const neverCompleted = bookings.filter((b) => b.completedAt === null);
    expect(neverCompleted.length).toBeGreaterThanOrEqual(10);
    for (const b of neverCompleted) {
      expect(b.cancelledAt).not.toBeNull();
      expect(b.cancellationReason).toBeTruthy();
      expect(b.payout).toBeNull();
    }
    for (const b of bookings.filter((x) => x.completedAt !== null)) expect(b.payout).not.toBeNull();
    expect(new Set(bookings.map((b) => b.currency))).toEqual(new Set(["USD", "EUR", "GBP", "JPY"]));
  });

  it("keeps every payout's amounts consistent with its booking, tips, disputes and reversals", async () => {
    const payouts = await db.payout.findMany({
      include: {
        booking: { include: { disputes: true } },
        tips: true,
        reversals: true,
      },
    });
    expect(payouts).toHaveLength(2_000 - (await db.booking.count({ where: { completedAt: null } })));
    for (const p of payouts) {
      const context = `payout ${p.id} (${p.status})`;
      // Net of what the provider's debts took at the claim (debtRecoveredAmount, 0 for almost all).
      expect(p.amount, context).toBe(Math.max(0, p.providerShare + p.tipAmount - p.refundedAmount) - p.debtRecoveredAmount);
      expect(p.providerShare, context).toBe(p.booking.providerShare);
      expect(p.currency, context).toBe(p.booking.currency);
      expect(p.eligibleAt.getTime(), context).toBe((p.booking.completedAt?.getTime() ?? NaN) + 48 * HOUR);
      expect(p.tipAmount, context).toBe(p.tips.filter((t) => t.status === "accepted").reduce((s, t) => s + t.amount, 0));
      // Refunds decided before the transfer are subtracted (refundAppliedAt); later ones are reversed.
      const applied = p.booking.disputes.filter((d) => d.refundAppliedAt !== null);
      expect(p.refundedAmount, context).toBe(applied.reduce((s, d) => s + d.refundedAmount, 0));
      for (const d of applied) expect(d.openedAfterTransfer, context).toBe(false);
      const reversed = p.reversals.filter((r) => r.status === "succeeded").reduce((s, r) => s + r.amount, 0);
      expect(p.reversedAmount, context).toBe(reversed);
      expect(p.reversedAmount, context).toBeLessThanOrEqual(p.amount);
      expect(p.amountVersion, context).toBeGreaterThanOrEqual(1);
      // No transfer while a dispute opened before it is still open.
      if (p.transferredAt) {
        for (const d of p.booking.disputes.filter((x) => x.status === "open")) {
          expect(d.openedAfterTransfer, context).toBe(true);
          expect(d.openedAt.getTime(), context).toBeGreaterThan(p.transferredAt.getTime());
        }
      }
    }
  });

  it("has every payout status, each with a believable audit history", async () => {
    const grouped = await db.payout.groupBy({ by: ["status"], _count: { _all: true } });
    const byStatus = Object.fromEntries(grouped.map((g) => [g.status, g._count._all]));
    for (const status of ALL_STATUSES) expect(byStatus[status], status).toBeGreaterThan(0);
    expect(byStatus.transferred).toBeGreaterThan(1_500);

    const payouts = await db.payout.findMany({ select: { id: true, status: true, amount: true, createdAt: true, updatedAt: true } });
    const audit = await db.auditLog.findMany({ where: { entityType: "payout" }, orderBy: [{ createdAt: "asc" }] });
    const byPayout = new Map<string, typeof audit>();
    // Entries about the provider's debts sit on the payout whose reversal made them, without its snapshot.
    for (const entry of audit.filter((a) => !a.action.startsWith("provider."))) {
      const list = byPayout.get(entry.entityId) ?? [];
      list.push(entry);
      byPayout.set(entry.entityId, list);
    }
    for (const p of payouts) {
      const entries = byPayout.get(p.id) ?? [];
      expect(entries.length, p.id).toBeGreaterThanOrEqual(1);
      expect(entries[0]?.action, p.id).toBe("payout.scheduled");
      const last = entries.at(-1);
      const after = last?.after as { status?: string; amount?: number } | null | undefined;
      expect(after?.status, p.id).toBe(p.status);
      expect(after?.amount, p.id).toBe(p.amount);
      expect(last?.createdAt.getTime(), p.id).toBeGreaterThanOrEqual(p.updatedAt.getTime());
      // Each entry starts where the previous one ended.
      for (let i = 1; i < entries.length; i++) {
        const before = entries[i]?.before as { status?: string } | null | undefined;
        const previous = entries[i - 1]?.after as { status?: string } | null | undefined;
        expect(before?.status, `${p.id} ${entries[i]?.action}`).toBe(previous?.status);
      }
    }
    const latest = await db.auditLog.findFirstOrThrow({ orderBy: { createdAt: "desc" } });
    expect(latest.createdAt.getTime()).toBeLessThanOrEqual(NOW.getTime());

    const actions = new Set(audit.map((a) => a.action));
    for (const action of [
      "payout.scheduled",
      "payout.amount_adjusted",
      "payout.held",
      "payout.released",
      "payout.transfer_started",
      "payout.transfer_attempt_failed",
      "payout.transfer_attempt_started",
      "payout.transferred",
      "payout.failed",
      "payout.retried",
      "payout.cancelled",
      "payout.reversal_requested",
      "payout.reversed",
      "payout.reversal_failed",
    ]) {
      expect(actions, action).toContain(action);
    }
    const otherActions = new Set(
      (await db.auditLog.findMany({ where: { entityType: { not: "payout" } }, select: { action: true } })).map((a) => a.action),
    );
    for (const action of [
      "booking.completed",
      "booking.cancelled",
      "tip.accepted",
      "tip.rejected",
      "dispute.opened",
      "dispute.resolved",
      "alert.acknowledged",
    ]) {
      expect(otherActions, action).toContain(action);
    }
  });

  it("pays out tips accepted within 24 h and rejects a handful that came later", async () => {
    const completed = await db.booking.count({ where: { completedAt: { not: null } } });
    const tipped = await db.booking.count({ where: { tips: { some: { status: "accepted" } } } });
    expect(tipped / completed).toBeGreaterThan(0.22);
    expect(tipped / completed).toBeLessThan(0.38);

    const tips = await db.tip.findMany({ include: { booking: true } });
    for (const tip of tips) {
      const hoursAfter = (tip.tippedAt.getTime() - (tip.booking.completedAt?.getTime() ?? NaN)) / HOUR;
      expect(tip.amount).toBeGreaterThan(0);
      expect(tip.currency).toBe(tip.booking.currency);
      if (tip.status === "accepted") {
        expect(hoursAfter).toBeGreaterThan(0);
        expect(hoursAfter).toBeLessThanOrEqual(24);
        expect(tip.payoutId).not.toBeNull();
        expect(tip.rejectionReason).toBeNull();
      } else {
        expect(hoursAfter).toBeGreaterThan(24);
        expect(tip.payoutId).toBeNull();
        expect(tip.rejectionReason).toMatch(/^tip received after the 24-hour window/);
      }
    }
    const rejected = tips.filter((t) => t.status === "rejected");
    expect(rejected.length).toBeGreaterThanOrEqual(3);
    expect(rejected.length).toBeLessThanOrEqual(15);
  });

  it("transfers most older payouts once, some on a second attempt", async () => {
    const transferred = await db.payout.findMany({ where: { status: "transferred" }, include: { attemptsLog: true } });
    for (const p of transferred) {
      expect(p.stripeTransferId).toMatch(/^tr_[A-Za-z0-9]{24}$/);
      expect(p.transferredAt?.getTime()).toBeGreaterThan(p.eligibleAt.getTime());
      expect(p.processingStartedAt).toBeNull();
      const succeeded = p.attemptsLog.filter((a) => a.status === "succeeded");
      expect(succeeded).toHaveLength(1);
      expect(succeeded[0]?.attemptNumber).toBe(p.attemptsLog.length);
      expect(succeeded[0]?.stripeTransferId).toBe(p.stripeTransferId);
      expect(succeeded[0]?.amount).toBe(p.amount);
      expect(succeeded[0]?.idempotencyKey).toContain(p.id);
    }
    expect(transferred.filter((p) => p.attempts === 2).length).toBeGreaterThanOrEqual(5);
    // Failed, retried by an operator, then transferred: attempt numbers keep counting.
    expect(transferred.some((p) => p.attemptsLog.length === 4 && p.attempts === 1)).toBe(true);
    const recent = await db.payout.count({
      where: { status: "scheduled", eligibleAt: { gt: NOW, lt: new Date(NOW.getTime() + 48 * HOUR) } },
    });
    expect(recent).toBeGreaterThan(50);
  });

  it("records every transfer made as the payout's PayoutTransfer, which its platform reversals name", async () => {
    const paid = await db.payout.findMany({ where: { stripeTransferId: { not: null } }, include: { transfers: true, reversals: true } });
    expect(paid.length).toBeGreaterThan(100);
    for (const p of paid) {
      expect(p.transfers).toMatchObject([
        {
          kind: "payout",
          leg: 1,
          status: "succeeded",
          stripeTransferId: p.stripeTransferId,
          payoutAmount: p.amount,
          amount: p.amount,
          currency: p.currency,
        },
      ]);
      for (const r of p.reversals) expect(r.payoutTransferId).toBe(p.transfers[0]!.id);
    }
  });

  it("has transfers in flight, one of them stuck for about two hours", async () => {
    const processing = await db.payout.findMany({
      where: { status: "processing" },
      include: { attemptsLog: { orderBy: { attemptNumber: "asc" } } },
    });
    expect(processing.length).toBeGreaterThanOrEqual(3);
    for (const p of processing) {
      const last = p.attemptsLog.at(-1);
      expect(last?.status).toBe("started");
      expect(last?.finishedAt).toBeNull();
      expect(p.processingStartedAt).not.toBeNull();
    }
    const ages = processing.map((p) => (NOW.getTime() - (p.processingStartedAt?.getTime() ?? 0)) / 60_000);
    expect(ages.filter((minutes) => minutes < 15).length).toBeGreaterThanOrEqual(3);
    expect(ages.some((minutes) => minutes > 100 && minutes < 150)).toBe(true);
  });

  it("fails a few payouts after three retryable errors (one after a permanent error), each with an open critical alert", async () => {
    const failed = await db.payout.findMany({ where: { status: "failed" }, include: { attemptsLog: true, alerts: true } });
    expect(failed.length).toBeGreaterThanOrEqual(5);
    for (const p of failed) {
      expect(p.lastError).toBeTruthy();
      expect(p.attemptsLog.every((a) => a.status === "failed" && a.errorType !== null)).toBe(true);
      const alerts = p.alerts.filter((a) => a.kind === "payout_failed");
      expect(alerts).toHaveLength(1);
      expect(alerts[0]?.severity).toBe("critical");
      expect(alerts[0]?.acknowledgedAt).toBeNull();
      expect(alerts[0]?.dedupeKey).toContain(p.id);
    }
    const afterThree = failed.filter((p) => p.attemptsLog.length === 3);
    expect(afterThree.length).toBeGreaterThanOrEqual(5);
    for (const p of afterThree) expect(p.attemptsLog.every((a) => a.retryable === true)).toBe(true);
    expect(afterThree.flatMap((p) => p.attemptsLog.map((a) => a.errorType))).toEqual(
      expect.arrayContaining(["StripeConnectionError", "StripeAPIError"]),
    );
    const permanent = failed.filter((p) => p.attemptsLog.length === 1);
    expect(permanent).toHaveLength(1);
    expect(permanent[0]?.attemptsLog[0]?.retryable).toBe(false);
    expect(permanent[0]?.lastError).toMatch(/No such destination/);
  });

  it("holds payouts for open disputes, admin holds and providers that cannot receive payouts", async () => {
    const held = await db.payout.findMany({
      where: { status: "on_hold" },
      include: { booking: { include: { disputes: true } }, provider: true },
    });
    const reasons = new Set(held.map((p) => p.holdReason));
    expect(reasons).toEqual(new Set(["dispute_open", "admin_hold", "provider_account_not_ready"]));
    const operator = await db.adminUser.findUniqueOrThrow({ where: { email: "operator@payouts.test" } });
    for (const p of held) {
      if (p.holdReason === "dispute_open") {
        expect(p.booking.disputes.some((d) => d.status === "open")).toBe(true);
      } else if (p.holdReason === "admin_hold") {
        expect(p.holdNote).toBeTruthy();
        const entry = await db.auditLog.findFirstOrThrow({
          where: { entityType: "payout", entityId: p.id, action: "payout.held" },
        });
        expect(entry.actorType).toBe("admin");
        expect(entry.actorId).toBe(operator.id);
        expect(entry.actorLabel).toBe(`${operator.name} <${operator.email}>`);
        expect(entry.reason).toBe(p.holdNote);
      } else {
        expect(p.provider.payoutsEnabled).toBe(false);
        expect(p.eligibleAt.getTime()).toBeLessThan(NOW.getTime());
      }
    }
  });

  it("has open and resolved disputes, including post-transfer ones that were reversed", async () => {
    const disputes = await db.dispute.findMany({ include: { reversals: true, debts: true } });
    expect(disputes.some((d) => d.status === "open" && !d.openedAfterTransfer)).toBe(true);
    expect(disputes.some((d) => d.status === "open" && d.openedAfterTransfer)).toBe(true);
    const outcomes = new Set(disputes.filter((d) => d.status === "resolved").map((d) => d.outcome));
    expect(outcomes).toEqual(new Set(["provider_won", "customer_won", "partial"]));
    for (const d of disputes) {
      if (d.status === "resolved") expect(d.resolvedAt?.getTime()).toBeGreaterThan(d.openedAt.getTime());
      if (d.outcome === "provider_won") expect(d.refundedAmount).toBe(0);
      if (d.outcome === "partial" || d.outcome === "customer_won") expect(d.refundedAmount).toBeGreaterThan(0);
    }

    const reversed = await db.payout.findMany({
      where: { status: { in: ["reversed", "partially_reversed"] } },
      include: { reversals: true },
    });
    expect(reversed.length).toBeGreaterThanOrEqual(4);
    for (const p of reversed) {
      expect(p.reversals).toHaveLength(1);
      expect(p.reversals[0]?.status).toBe("succeeded");
      expect(p.reversals[0]?.stripeReversalId).toMatch(/^trr_[A-Za-z0-9]{24}$/);
      if (p.status === "reversed") expect(p.reversedAmount).toBe(p.amount);
      else {
        expect(p.reversedAmount).toBeGreaterThan(0);
        expect(p.reversedAmount).toBeLessThan(p.amount);
      }
    }

    const failedReversal = disputes.find((d) => d.reversals.some((r) => r.status === "failed"));
    expect(failedReversal?.debts).toHaveLength(1);
    // The debt is being recovered from the provider's next payout (netted at its claim).
    const debt = failedReversal!.debts[0]!;
    expect(debt.status).toBe(debt.recoveredAmount === debt.amount ? "settled" : "open");
    expect(debt.recoveredAmount).toBeGreaterThan(0);
    const recoveries = await db.debtRecovery.findMany({ where: { debtId: debt.id }, include: { payout: true } });
    expect(recoveries).toHaveLength(1);
    const recovery = recoveries[0]!;
    expect(recovery).toMatchObject({ status: "applied", amount: debt.recoveredAmount, currency: debt.currency });
    expect(recovery.payout.debtRecoveredAmount).toBe(recovery.amount);
    expect(["transferred", "applied_to_debt"]).toContain(recovery.payout.status);
    expect(await db.auditLog.count({ where: { entityId: debt.payoutId, action: "provider.debt_recovered" } })).toBe(1);
    expect(await db.alert.count({ where: { kind: "reversal_failed", acknowledgedAt: null } })).toBe(1);
  });

  it("gives every Stripe dispute the charge it is on (the per-charge cap of refunds and chargebacks needs it)", async () => {
    const stripeDisputes = await db.dispute.findMany({ where: { stripeDisputeId: { not: null } }, include: { booking: true } });
    expect(stripeDisputes.length).toBeGreaterThan(0);
    for (const d of stripeDisputes) expect(d.stripeChargeId).toBe(d.booking.stripeChargeId);
    expect(await db.dispute.count({ where: { stripeDisputeId: null, stripeChargeId: { not: null } } })).toBe(0);
  });

  it("shows outbound webhooks to the booking platform in the log: delivered, retried after a 503, given up after 3 days", async () => {
    const { listPlatformWebhooks } = await import("@/lib/platform-webhooks/list-platform-webhooks");
    const view = await listPlatformWebhooks(db);
    expect(view.endpoints).toMatchObject([{ enabled: true, source: "admin", secrets: [{ expiresAt: null }] }]);
    expect(view.deliveries.length).toBeGreaterThan(10);
    const all = await db.platformWebhookDelivery.findMany({ include: { log: true, event: true } });
    expect(all.some((d) => d.status === "succeeded" && d.log.length === 2 && d.log[0]!.statusCode === 503)).toBe(true);
    const gaveUp = all.filter((d) => d.status === "failed");
    expect(gaveUp).toHaveLength(1);
    expect(gaveUp[0]!.log.length).toBeGreaterThan(8);
    expect(all.some((d) => d.status === "pending")).toBe(false); // nothing for a demo server to send
    // Each payout's events in sequence from 1, the types its status gave.
    const byPayout = new Map<string, typeof all>();
    for (const d of all) byPayout.set(d.event.subjectId, [...(byPayout.get(d.event.subjectId) ?? []), d]);
    for (const deliveries of byPayout.values()) {
      expect(deliveries.map((d) => d.event.sequence).sort()).toEqual(deliveries.map((_, i) => i + 1));
    }
  });

  it("cancels payouts of cancelled bookings and fully refunded disputes", async () => {
    const cancelled = await db.payout.findMany({ where: { status: "cancelled" }, include: { booking: true } });
    const fullyRefunded = cancelled.filter((p) => p.cancelReason === "fully refunded");
    expect(fullyRefunded.length).toBeGreaterThanOrEqual(1);
    for (const p of fullyRefunded) {
      expect(p.amount).toBe(0);
      expect(p.refundedAmount).toBe(p.providerShare + p.tipAmount);
    }
    const byBooking = cancelled.filter((p) => p.booking.cancelledAt !== null);
    expect(byBooking.length).toBeGreaterThanOrEqual(3);
    for (const p of byBooking) {
      expect(p.booking.completedAt).not.toBeNull();
      expect(p.booking.cancellationReason).toBeTruthy();
      expect(p.cancelReason).toBe("booking cancelled");
      const entry = await db.auditLog.findFirstOrThrow({ where: { entityType: "payout", entityId: p.id, action: "payout.cancelled" } });
      expect(entry.reason).toBe(p.booking.cancellationReason);
    }
    expect(cancelled.every((p) => p.cancelReason)).toBe(true);
  });

  it("has a few acknowledged alerts, acknowledged by the admin", async () => {
    const admin = await db.adminUser.findUniqueOrThrow({ where: { email: "admin@payouts.test" } });
    const acknowledged = await db.alert.findMany({ where: { acknowledgedAt: { not: null } } });
    expect(acknowledged.length).toBeGreaterThanOrEqual(2);
    for (const alert of acknowledged) {
      expect(alert.acknowledgedById).toBe(admin.id);
      expect(alert.acknowledgedAt?.getTime()).toBeGreaterThan(alert.createdAt.getTime());
    }
    const dedupeKeys = (await db.alert.findMany({ select: { dedupeKey: true } })).map((a) => a.dedupeKey);
    expect(new Set(dedupeKeys).size).toBe(dedupeKeys.length);
  });

  it("shows alert deliveries: every alert routed, critical ones sent by email and chat (one after a retry, one given up on), warnings in digests", async () => {
    expect(await db.alert.count({ where: { notifyRoutedAt: null } })).toBe(0);
    const critical = await db.alert.findMany({
      where: { severity: "critical" },
      include: { notifications: { include: { notification: true } } },
    });
    expect(critical.length).toBeGreaterThan(0);
    for (const alert of critical) expect(alert.notifications.map((n) => n.notification.channel).sort()).toEqual(["chat", "email"]);
    const messages = await db.alertNotification.findMany();
    expect(messages.some((m) => m.status === "sent" && m.attempts === 2)).toBe(true);
    expect(messages.some((m) => m.status === "failed" && m.lastError)).toBe(true);
    expect(messages.some((m) => m.kind === "digest" && m.status === "sent")).toBe(true);
  });
});

describe("buildDemoDataset", () => {
  it("is reproducible and holds its invariants at any time of day or week", () => {
    const admin = { id: "7d1c3b8e-0000-4000-8000-000000000001", name: "Ada Admin", email: "admin@payouts.test" };
    const operator = { id: "7d1c3b8e-0000-4000-8000-000000000002", name: "Oscar Operator", email: "operator@payouts.test" };
    const a = buildDemoDataset({ now: NOW, admin, operator });
    const b = buildDemoDataset({ now: NOW, admin, operator });
    expect(b).toEqual(a);

    for (let i = 1; i <= 6; i++) {
      // Builds throw on any story that breaks a rule (a change after now, a tip on a cancelled payout, …).
      const now = new Date(NOW.getTime() + i * 31 * HOUR + i * 7 * 60_000);
      const data = buildDemoDataset({ now, admin, operator });
      expect(data.bookings).toHaveLength(2_000);
      const statuses = new Set(data.payouts.map((p) => p.status));
      for (const status of ALL_STATUSES) expect(statuses, `${status} at ${now.toISOString()}`).toContain(status);
      for (const p of data.payouts) {
        expect(p.amount).toBe(Math.max(0, p.providerShare + p.tipAmount - p.refundedAmount) - p.debtRecoveredAmount);
      }
    }
  });
});

describe("npm run db:seed (scripts/seed.ts)", () => {
  const name = `${inject("templateDatabase")}_cli_${process.pid}`;
  const url = databaseUrl(name);

  beforeAll(async () => {
    await withAdminClient((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${inject("templateDatabase")}"`));
  });

  afterAll(async () => {
    await dropDatabase(name);
  });

  type TCliEnv = { NODE_ENV: "development" | "production"; DATABASE_URL: string; [name: string]: string };

  function runCli(env: TCliEnv): Promise<TCommandResult> {
    return runProjectCommand(path.join(PROJECT_BIN, "tsx"), ["--conditions=react-server", "scripts/seed.ts"], env);
  }

  it("refuses to run with NODE_ENV=production and writes nothing", async () => {
    const before = await countRows(url);
    const result = await runCli({
      NODE_ENV: "production",
      DATABASE_URL: url,
      // A complete production configuration, so the refusal is the seed's own, not a config error.
      NEXTAUTH_SECRET: "a-production-secret-of-enough-length",
      BOOKING_WEBHOOK_SECRETS: "whsec_booking_production_secret",
      STRIPE_SECRET_KEY: "sk_live_not_a_real_key",
      STRIPE_WEBHOOK_SECRET: "whsec_stripe_production",
      INNGEST_SIGNING_KEY: "signkey-prod-0000",
      INNGEST_EVENT_KEY: "eventkey-prod-0000",
      AUDIT_CHAIN_KEY: "an-audit-chain-key-for-production-0000",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Refusing to seed: NODE_ENV=production");
    expect(result.stdout).toBe("");
    const after = await countRows(url);
    expect(after).toEqual(before);
    expect(after.AdminUser).toBe(0);
    expect(after.Provider).toBe(0);
  });

  it("seeds a development database once and prints a summary", async () => {
    const env: TCliEnv = { NODE_ENV: "development", DATABASE_URL: url };
    const firstRun = await runCli(env);
    expect(firstRun.stderr).toBe("");
    expect(firstRun.code).toBe(0);
    expect(firstRun.stdout).toContain("Created 50 providers, 2000 bookings.");
    expect(firstRun.stdout).toMatch(/Done in \d+ ms\./);
    const counts = await countRows(url);
    expect(counts.Booking).toBe(2_000);

    const secondRun = await runCli(env);
    expect(secondRun.code).toBe(0);
    expect(secondRun.stdout).toContain("nothing new created");
    expect(await countRows(url)).toEqual(counts);
  });
});
