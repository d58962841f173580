// changePayout in one statement (UPDATE … RETURNING and the audit INSERT in one CTE), against the way
// it was written before (an ORM update, P2025 → conflict, then recordAudit), kept here as the oracle:
// each case runs both on twin payouts and compares what is stored and what is thrown. From the
// change's adversarial review. Differences kept on purpose, each tested below: a constraint the
// change breaks fails as Prisma's "raw query failed" (P2010) naming the constraint, where the ORM
// gave P2039 / P2002 (nothing reads those codes from changePayout); and a payout passed in that is
// not the row read at its version (no writer changes a payout without bumping it) makes the change
// throw, its transaction rolled back with the entry, where the ORM audited the row it found.
import { randomUUID } from "node:crypto";

import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { AuditLog, Payout } from "@/generated/prisma/client";
import { payoutChangeEntry, recordAudit, type TActor } from "@/lib/audit/record-audit";
import { db, type Tx } from "@/lib/db";
import { changePayout, PayoutVersionConflictError, payoutSnapshot, type TPayoutChange } from "@/lib/payouts/change-payout";
import { settleDebtRecoveries } from "@/lib/payouts/debt-recovery-rows";
import { changedPayoutFields } from "@/lib/payouts/payout-change";
import { recordPayoutEvent } from "@/lib/platform-webhooks/record-event";

import { createPayout } from "../../support/factories";

const ACTOR: TActor = { type: "admin", id: "admin-1", label: "Ada Admin <ada@payouts.test>" };
const ELIGIBLE = new Date("2026-01-02T03:04:05.678Z");

/** changePayout as it was at HEAD. */
async function oldChangePayout(tx: Tx, payout: Payout, change: TPayoutChange): Promise<Payout> {
  let updated: Payout;
  try {
    updated = await tx.payout.update({
      where: { id: payout.id, version: payout.version },
      data: changedPayoutFields(payout, change.event, change.data ?? {}),
    });
  } catch (error) {
    if (!(typeof error === "object" && error !== null && "code" in error && error.code === "P2025")) throw error;
    const current = await tx.payout.findUnique({ where: { id: payout.id }, select: { version: true } });
    throw new PayoutVersionConflictError(payout.id, payout.version, current?.version);
  }
  await recordAudit(
    tx,
    payoutChangeEntry({
      actor: change.audit.actor,
      action: change.audit.action,
      entityId: payout.id,
      reason: change.audit.reason ?? null,
      before: payoutSnapshot(payout),
      after: { ...payoutSnapshot(updated), ...(change.audit.details ?? {}) },
      runId: change.audit.runId ?? null,
      requestId: change.audit.requestId ?? null,
    }),
  );
  await settleDebtRecoveries(tx, payout, updated, change.audit);
  await recordPayoutEvent(tx, payout, updated);
  return updated;
}

type TImpl = typeof changePayout;
const IMPLS: [string, TImpl][] = [
  ["old", oldChangePayout],
  ["new", changePayout],
];

/** A row's columns that do not depend on which twin it is. */
function payoutColumns(p: Payout) {
  const { id: _id, bookingId: _b, providerId: _p, createdAt: _c, updatedAt: _u, ...rest } = p;
  return { ...rest, stripeTransferId: rest.stripeTransferId?.replace(/tr_.*/, "tr_*") ?? null };
}

function auditColumns(a: AuditLog) {
  const { id: _id, entityId: _e, createdAt: _c, ...rest } = a;
  return JSON.parse(JSON.stringify(rest).replace(/tr_[0-9a-f-]{36}/g, "tr_*"));
}

/** Runs `change` on a new payout (made by `setup`) with each implementation: the stored rows or the error. */
async function both(setup: () => Promise<Payout>, change: (p: Payout) => TPayoutChange, before?: (tx: Tx, p: Payout) => Promise<Payout>) {
  const out: Record<string, { payout?: Payout; returned?: Payout; audits: AuditLog[]; error?: unknown; started: Date; ended: Date }> = {};
  for (const [name, impl] of IMPLS) {
    const p = await setup();
    const started = new Date();
    let returned: Payout | undefined;
    let error: unknown;
    try {
      returned = await db.$transaction(async (tx) => {
        const locked = before ? await before(tx, p) : p;
        return impl(tx, locked, change(locked));
      });
    } catch (e) {
      error = e;
    }
    const ended = new Date();
    out[name] = {
      payout: (await db.payout.findUnique({ where: { id: p.id } })) ?? undefined,
      returned,
      audits: await db.auditLog.findMany({ where: { entityId: p.id }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] }),
      error,
      started,
      ended,
    };
  }
  return out as Record<"old" | "new", (typeof out)[string]>;
}

function errorShape(e: unknown) {
  if (!(e instanceof Error)) return e;
  const x = e as Error & { code?: string; meta?: unknown };
  return { name: x.name, constructor: x.constructor.name, code: x.code };
}

let sql: pg.Client;
beforeAll(async () => {
  sql = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await sql.connect();
});
afterAll(async () => {
  await sql.end();
});

describe("changePayout writes what the ORM wrote", () => {
  const mk =
    (o: Parameters<typeof createPayout>[0] = {}) =>
    () =>
      createPayout({ eligibleAt: ELIGIBLE, ...o });
  const cases: [string, () => Promise<Payout>, (p: Payout) => TPayoutChange][] = [
    [
      "hold with a reason and a note",
      mk(),
      () => ({
        event: "hold",
        data: { holdReason: "admin_hold", holdNote: "checking" },
        audit: { actor: ACTOR, action: "payout.held", reason: "checking" },
      }),
    ],
    [
      "release (the hold's reason and note cleared)",
      mk({ status: "on_hold", holdReason: "admin_hold", holdNote: "n" }),
      () => ({ event: "release", audit: { actor: ACTOR, action: "payout.released" } }),
    ],
    [
      "hold with holdReason: undefined (column left as is)",
      mk({ holdNote: "kept?" }),
      () => ({ event: "hold", data: { holdReason: undefined }, audit: { actor: ACTOR, action: "payout.held" } }),
    ],
    [
      "no event, data { lastError: null, holdNote: undefined }",
      mk({ lastError: "boom", status: "on_hold", holdReason: "awaiting_funds", holdNote: "note" }),
      () => ({ data: { lastError: null, holdNote: undefined }, audit: { actor: ACTOR, action: "payout.held" } }),
    ],
    [
      "claim with dates, attempts (nullable dates set)",
      mk(),
      (p) => ({
        event: "claim",
        data: {
          attempts: p.attempts + 1,
          processingStartedAt: new Date("2026-03-01T10:20:30.456Z"),
          fundsExpectedAt: new Date("2026-03-02T00:00:00.000Z"),
        },
        audit: { actor: ACTOR, action: "payout.transfer_started", reason: "attempt 1", runId: "run-1", requestId: "req-1" },
      }),
    ],
    [
      "unclaim with processingStartedAt: null and a new eligibleAt",
      mk({ status: "processing", processingStartedAt: new Date(), attempts: 1 }),
      () => ({
        event: "unclaim_to_scheduled",
        data: { processingStartedAt: null, lastError: "x", eligibleAt: new Date("2030-01-01T00:00:00.001Z") },
        audit: { actor: ACTOR, action: "payout.transfer_rescheduled" },
      }),
    ],
    [
      "a tip (amount and amountVersion move) with nested details",
      mk(),
      () => ({
        data: { tipAmount: 1234 },
        audit: {
          actor: ACTOR,
          action: "payout.amount_adjusted",
          details: { tip: { id: "t1", amounts: [1, 2, { x: null }], note: "é ✓ 😀" }, list: [], empty: {}, n: 1.5, b: false },
        },
      }),
    ],
    [
      "transfer succeeded with stripe ids and a currency",
      mk({ status: "processing" }),
      () => ({
        event: "transfer_succeeded",
        data: { stripeTransferId: `tr_${randomUUID()}`, transferredAt: new Date("2026-05-05T05:05:05.005Z"), transferCurrency: "EUR" },
        audit: { actor: ACTOR, action: "payout.transfer_made", details: { stripeTransferId: "tr_x" } },
      }),
    ],
    [
      "cancel with a cancelReason",
      mk(),
      () => ({
        event: "cancel",
        data: { cancelReason: "booking cancelled" },
        audit: { actor: ACTOR, action: "payout.cancelled", reason: "r" },
      }),
    ],
  ];

  for (const [title, setup, change] of cases) {
    it(title, async () => {
      const r = await both(setup, change);
      expect(errorShape(r.new.error)).toEqual(errorShape(r.old.error));
      expect(payoutColumns(r.new.payout!)).toEqual(payoutColumns(r.old.payout!));
      // The stripeTransferId differs per twin only when the factory is random: compare the rest.
      expect(payoutColumns(r.new.returned!)).toEqual(payoutColumns(r.new.payout!));
      expect(r.new.returned!.updatedAt).toEqual(r.new.payout!.updatedAt);
      expect(r.new.payout!.updatedAt.getTime()).toBeGreaterThanOrEqual(r.new.started.getTime());
      expect(r.new.payout!.updatedAt.getTime()).toBeLessThanOrEqual(r.new.ended.getTime());
      expect(r.new.audits.map(auditColumns)).toEqual(r.old.audits.map(auditColumns));
      // Raw JSON as stored (jsonb text), not just as parsed.
      const rawOf = async (id: string) =>
        (
          await sql.query(
            `SELECT before::text, after::text, reason, "runId", "requestId", "actorId" FROM "AuditLog" WHERE "entityId" = $1 ORDER BY "createdAt", id`,
            [id],
          )
        ).rows;
      const [o, n] = [await rawOf(r.old.payout!.id), await rawOf(r.new.payout!.id)];
      const strip = (rows: { before: string; after: string }[]) =>
        rows.map((x) => ({ ...x, after: x.after.replace(/tr_[0-9a-f-]{36}/g, "tr_*") }));
      expect(strip(n)).toEqual(strip(o));
    });
  }
});

describe("text the audit entry carries", () => {
  it("a lone surrogate in the reason is stored as U+FFFD, as before", async () => {
    const r = await both(
      () => createPayout(),
      () => ({
        event: "hold",
        data: { holdReason: "admin_hold", holdNote: "a\uD800b" },
        audit: { actor: { ...ACTOR, label: "L\uDC00" }, action: "payout.held", reason: "x\uD800y" },
      }),
    );
    expect(errorShape(r.new.error)).toEqual(errorShape(r.old.error));
    expect(r.new.audits.map((a) => [a.reason, a.actorLabel])).toEqual(r.old.audits.map((a) => [a.reason, a.actorLabel]));
    expect(r.new.payout!.holdNote).toEqual(r.old.payout!.holdNote);
  });

  it("a NUL in the reason is refused both ways, nothing written", async () => {
    const r = await both(
      () => createPayout(),
      () => ({ event: "hold", data: { holdReason: "admin_hold" }, audit: { actor: ACTOR, action: "payout.held", reason: "a\u0000b" } }),
    );
    expect(r.old.error).toBeDefined();
    expect(r.new.error).toBeDefined();
    expect(r.new.audits).toEqual([]);
    expect(r.new.payout!.status).toBe("scheduled");
  });

  it("a lone surrogate in details: same outcome both ways", async () => {
    const r = await both(
      () => createPayout(),
      () => ({
        event: "hold",
        data: { holdReason: "admin_hold" },
        audit: { actor: ACTOR, action: "payout.held", details: { note: "a\uD800b" } },
      }),
    );
    expect(r.new.error === undefined).toBe(r.old.error === undefined);
    expect(r.new.audits.map(auditColumns)).toEqual(r.old.audits.map(auditColumns));
  });

  it("a lone surrogate in the stripeTransferId (a snapshot field) is written (as U+FFFD) and audited as before, not refused", async () => {
    const r = await both(
      () => createPayout({ status: "processing" }),
      () => ({
        event: "transfer_succeeded",
        data: { stripeTransferId: `tr_\uD800${randomUUID()}`, transferredAt: new Date() },
        audit: { actor: ACTOR, action: "payout.transfer_made" },
      }),
    );
    expect(errorShape(r.new.error)).toEqual(errorShape(r.old.error));
  });
});

describe("the version conflict", () => {
  for (const [name, impl] of IMPLS) {
    it(`${name}: a stale version throws PayoutVersionConflictError with the current version, writes nothing, and the transaction goes on`, async () => {
      const p = await createPayout();
      await db.payout.update({ where: { id: p.id }, data: { version: { increment: 1 } } });
      const deltasBefore = (await sql.query(`SELECT count(*)::int AS n FROM "PayoutTotalDelta"`)).rows[0].n;
      const after = await db.$transaction(async (tx) => {
        const error = await impl(tx, p, {
          event: "hold",
          data: { holdReason: "admin_hold" },
          audit: { actor: ACTOR, action: "payout.held" },
        }).catch((e) => e);
        expect(error).toBeInstanceOf(PayoutVersionConflictError);
        expect((error as PayoutVersionConflictError).details).toEqual({
          payoutId: p.id,
          expectedVersion: p.version,
          actualVersion: p.version + 1,
        });
        // The transaction is still usable.
        return tx.payout.findUniqueOrThrow({ where: { id: p.id } });
      });
      expect(after.status).toBe("scheduled");
      expect(await db.auditLog.count({ where: { entityId: p.id } })).toBe(0);
      expect((await sql.query(`SELECT count(*)::int AS n FROM "PayoutTotalDelta"`)).rows[0].n).toBe(deltasBefore);
    });

    it(`${name}: a payout that does not exist throws the conflict without a current version`, async () => {
      const p = await createPayout();
      const ghost = { ...p, id: randomUUID() };
      const error = await db
        .$transaction((tx) =>
          impl(tx, ghost, { event: "hold", data: { holdReason: "admin_hold" }, audit: { actor: ACTOR, action: "payout.held" } }),
        )
        .catch((e) => e);
      expect(error).toBeInstanceOf(PayoutVersionConflictError);
      expect((error as PayoutVersionConflictError).details).toEqual({ payoutId: ghost.id, expectedVersion: p.version });
      expect(await db.auditLog.count({ where: { entityId: ghost.id } })).toBe(0);
    });
  }
});

describe("constraint violations", () => {
  it("a CHECK violation (reversed above the amount) fails naming the constraint, nothing written", async () => {
    const r = await both(
      () => createPayout({ status: "transferred" }),
      (p) => ({ event: "reverse_partially", data: { reversedAmount: p.amount + 1 }, audit: { actor: ACTOR, action: "payout.reversed" } }),
    );
    expect(r.old.error).toBeDefined();
    expect(r.new.audits).toEqual([]);
    expect(r.new.payout!.status).toBe("transferred");
    expect(String((r.new.error as Error).message)).toContain("Payout_lost_within_amount");
    expect(errorShape(r.new.error)).toMatchObject({ code: "P2010" });
  });

  it("a unique violation (a stripeTransferId another payout has) fails naming the key, nothing written", async () => {
    const taken = `tr_${randomUUID()}`;
    await createPayout({ status: "transferred", stripeTransferId: taken });
    const r = await both(
      () => createPayout({ status: "processing" }),
      () => ({
        event: "transfer_succeeded",
        data: { stripeTransferId: taken, transferredAt: new Date() },
        audit: { actor: ACTOR, action: "payout.transfer_made" },
      }),
    );
    expect(errorShape(r.old.error)).toMatchObject({ code: "P2002" });
    expect(r.new.audits).toEqual([]);
    expect(r.new.payout!.status).toBe("processing");
    expect(String((r.new.error as Error).message)).toContain("Payout_stripeTransferId_key");
  });
});

describe("audit entries' order in a transaction", () => {
  for (const [name, impl] of IMPLS) {
    it(`${name}: an entry by recordAudit before and after the change sort around it by (createdAt, id)`, async () => {
      const p = await createPayout();
      const entry = (tag: string) => ({
        actor: ACTOR,
        action: "payout.held" as const,
        entityType: "payout" as const,
        entityId: p.id,
        reason: tag,
      });
      await db.$transaction(async (tx) => {
        await tx.$executeRaw`SELECT pg_sleep(0.02)`;
        await recordAudit(tx, entry("first"));
        await tx.$executeRaw`SELECT pg_sleep(0.02)`;
        await impl(tx, p, {
          event: "hold",
          data: { holdReason: "admin_hold" },
          audit: { actor: ACTOR, action: "payout.held", reason: "change" },
        });
        await tx.$executeRaw`SELECT pg_sleep(0.02)`;
        await recordAudit(tx, entry("last"));
      });
      const rows = await db.auditLog.findMany({ where: { entityId: p.id }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
      expect(rows.map((a) => a.reason)).toEqual(["first", "change", "last"]);
      // Strictly increasing times, so the sealer's order is the order written.
      expect(new Set(rows.map((a) => a.createdAt.getTime())).size).toBe(3);
    });
  }

  it("the change entry's createdAt is not before the payout's updatedAt, as before", async () => {
    const r = await both(
      () => createPayout(),
      () => ({ event: "hold", data: { holdReason: "admin_hold" }, audit: { actor: ACTOR, action: "payout.held" } }),
    );
    expect(r.old.audits[0]!.createdAt.getTime()).toBeGreaterThanOrEqual(r.old.payout!.updatedAt.getTime());
    expect(r.new.audits[0]!.createdAt.getTime()).toBeGreaterThanOrEqual(r.new.payout!.updatedAt.getTime());
  });
});

describe("triggers inside the data-modifying CTE", () => {
  it("keeps the overview totals exact through a series of changes, and queues each entry for sealing", async () => {
    const totals = async () => {
      const scratch = (
        await sql.query(
          `SELECT status::text s, currency c, count(*)::text n, sum(amount)::text a FROM "Payout" GROUP BY 1, 2 ORDER BY 1, 2`,
        )
      ).rows;
      const kept = (
        await sql.query(
          `SELECT status::text s, currency c, sum(count)::text n, sum(amount)::text a FROM "PayoutTotalDelta" GROUP BY 1, 2 HAVING sum(count) <> 0 OR sum(amount) <> 0 ORDER BY 1, 2`,
        )
      ).rows;
      return { scratch, kept };
    };
    const p = await createPayout({ currency: "EUR", providerShare: 7_000 });
    const q = await createPayout({ currency: "EUR", providerShare: 3_000 });
    const steps: ((x: Payout) => TPayoutChange)[] = [
      () => ({ data: { tipAmount: 500 }, audit: { actor: ACTOR, action: "payout.amount_adjusted" } }),
      () => ({ event: "hold", data: { holdReason: "admin_hold" }, audit: { actor: ACTOR, action: "payout.held" } }),
      () => ({ data: { refundedAmount: 9_000 }, audit: { actor: ACTOR, action: "payout.amount_adjusted" } }),
      () => ({ event: "release", audit: { actor: ACTOR, action: "payout.released" } }),
      (x) => ({
        event: "claim",
        data: { attempts: x.attempts + 1, processingStartedAt: new Date() },
        audit: { actor: ACTOR, action: "payout.transfer_started" },
      }),
      () => ({ event: "transfer_succeeded", data: { transferredAt: new Date() }, audit: { actor: ACTOR, action: "payout.transfer_made" } }),
    ];
    for (const target of [p, q]) {
      let cur = target;
      for (const step of steps) {
        cur = await db.$transaction(async (tx) => {
          const next = await changePayout(tx, cur, step(cur));
          // Inside the transaction, after the statement: the delta is there already.
          const inside = await tx.$queryRaw<
            { n: bigint }[]
          >`SELECT coalesce(sum(count), 0)::bigint AS n FROM "PayoutTotalDelta" WHERE status = ${next.status}::"PayoutStatus" AND currency = 'EUR'`;
          const rows = await tx.$queryRaw<
            { n: bigint }[]
          >`SELECT count(*)::bigint AS n FROM "Payout" WHERE status = ${next.status}::"PayoutStatus" AND currency = 'EUR'`;
          expect(inside[0]!.n).toBe(rows[0]!.n);
          return next;
        });
        const t = await totals();
        expect(t.kept).toEqual(t.scratch);
      }
    }
    const queued = await sql.query(
      `SELECT count(*)::int AS n FROM "AuditLog" a JOIN "AuditUnsealed" u ON u."entryId" = a.id WHERE a."entityId" IN ($1, $2)`,
      [p.id, q.id],
    );
    expect(queued.rows[0].n).toBe(steps.length * 2);
  });
});

describe("the payout passed in", () => {
  it("a payout object that is not the row at its version makes the change throw, and its transaction rolls back with the entry", async () => {
    // E.g. a row changed without bumping its version (no writer does): the entry would not say what the row holds.
    const r = await both(
      () => createPayout(),
      () => ({ event: "hold", data: { holdReason: "admin_hold" }, audit: { actor: ACTOR, action: "payout.held" } }),
      async (tx, p) => {
        await tx.$executeRaw`UPDATE "Payout" SET attempts = attempts + 1 WHERE id = ${p.id}::uuid`;
        return p;
      },
    );
    expect(r.old.error).toBeUndefined();
    expect(String((r.new.error as Error).message)).toContain("differs from the audited change");
    expect(r.new.audits).toEqual([]);
    expect(r.new.payout).toMatchObject({ status: "scheduled", attempts: 0 });
  });
});

describe("prepared statements", () => {
  it("as many statement texts per column set and key order as the ORM's update had", async () => {
    const { createPrismaClient } = await import("@/lib/db");
    const counts: Record<string, number> = {};
    for (const [name, impl] of IMPLS) {
      const client = createPrismaClient(process.env.DATABASE_URL!, { preparedStatements: true });
      try {
        const p = await createPayout({ status: "on_hold", holdReason: "awaiting_funds" });
        const prepared = await client.$transaction(async (tx) => {
          let cur = p;
          for (let i = 0; i < 3; i++) {
            cur = await impl(tx, cur, { data: { holdNote: `a${i}`, lastError: "e" }, audit: { actor: ACTOR, action: "payout.held" } });
            cur = await impl(tx, cur, { data: { lastError: "e", holdNote: `b${i}` }, audit: { actor: ACTOR, action: "payout.held" } });
          }
          return tx.$queryRaw<{ name: string; statement: string }[]>`SELECT name, statement FROM pg_prepared_statements WHERE NOT from_sql`;
        });
        const mine = prepared.filter((s) => /UPDATE "(public"\.")?Payout"/.test(s.statement));
        counts[name] = mine.length;
      } finally {
        await client.$disconnect();
      }
    }
    expect(counts.new).toBeLessThanOrEqual(counts.old!);
  });
});
