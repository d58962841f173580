// Issue 14: the tamper-evident audit log. The attacker is the database's owner: triggers off
// (session_replication_role = replica, or ALTER TABLE … DISABLE TRIGGER ALL), rows edited and
// deleted, any plain hash recomputed. The seals are HMACs with a key only the app has, so the
// verification names what changed; writers of audit entries never wait on each other or on the sealer.
import { createHash, createHmac } from "node:crypto";

import { InngestTestEngine } from "@inngest/test";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import { createSealAuditLogFunction } from "@/inngest/functions/seal-audit-log";
import { createVerifyAuditLogFunction } from "@/inngest/functions/verify-audit-log";
import { recordAudit, type TAuditEntry } from "@/lib/audit/record-audit";
import { canonicalAuditEntry, canonicalSeal, type TChainEntry } from "@/lib/audit-chain/audit-chain-hash";
import { readAuditChainStatus } from "@/lib/audit-chain/audit-chain-status";
import { runAuditVerification } from "@/lib/audit-chain/run-audit-verification";
import { sealAuditLog } from "@/lib/audit-chain/seal-audit-log";
import { verifyAuditChain } from "@/lib/audit-chain/verify-audit-chain";
import { db } from "@/lib/db";
import { getEnv } from "@/lib/env";

import { runProjectCommand, type TCommandResult } from "../../support/run-project-command";
import { dashboardUsers, signInAs } from "../../support/sessions";

vi.mock("next-auth", async (importOriginal) => ({ ...(await importOriginal<typeof import("next-auth")>()), getServerSession: vi.fn() }));

const verifyRoute = await import("@/app/api/admin/audit/verify/route");
const users = dashboardUsers("audit-chain");

const KEY = getEnv().AUDIT_CHAIN_KEY;
const SYSTEM = { type: "system", id: "test:audit-chain", label: "Audit chain test" } as const;

// The database's owner, on its own connection.
let owner: pg.Client;

beforeAll(async () => {
  owner = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await owner.connect();
});

afterAll(async () => {
  await owner.end();
});

beforeEach(async () => {
  // TRUNCATE fires no row trigger: every test starts from an empty log.
  await owner.query(
    `TRUNCATE "AuditLog", "AuditUnsealed", "AuditChainLink", "AuditSeal", "AuditVerification", "AlertNotificationItem", "AlertNotification", "Alert"`,
  );
});

/** As the owner with every trigger off for this transaction (the append-only ones included). */
async function asOwner(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  await owner.query("BEGIN");
  try {
    await owner.query("SET LOCAL session_replication_role = replica");
    const result = await owner.query(sql, params);
    await owner.query("COMMIT");
    return result;
  } catch (error) {
    await owner.query("ROLLBACK");
    throw error;
  }
}

function entry(n: number, extra: Partial<TAuditEntry> = {}): TAuditEntry {
  return {
    actor: SYSTEM,
    action: "payout.held",
    entityType: "payout",
    entityId: `payout-${n}`,
    reason: `Reason ${n}`,
    before: { status: "scheduled", n },
    after: { status: "on_hold", n },
    at: new Date(Date.UTC(2026, 11, 23, 9, 0, 0, n)),
    ...extra,
  };
}

async function writeEntries(count: number, from = 1): Promise<void> {
  await db.$transaction(async (tx) => {
    for (let n = from; n < from + count; n++) await recordAudit(tx, entry(n));
  });
}

/** The entries in chain order, with their positions. */
async function chain(): Promise<{ position: string; entryId: string; hash: string }[]> {
  const { rows } = await owner.query<{ position: string; entryId: string; hash: string }>(
    `SELECT l."position"::text, l."entryId"::text AS "entryId", l."hash" FROM "AuditChainLink" l ORDER BY l."position"`,
  );
  return rows;
}

async function sealedLog(count: number): Promise<{ position: string; entryId: string; hash: string }[]> {
  await writeEntries(count);
  await sealAuditLog(db, { key: KEY, batchSize: 4 });
  return chain();
}

describe("writing and sealing", () => {
  it("two open transactions both write audit entries and commit without waiting on each other, or on a sealer", async () => {
    let firstWritten!: () => void;
    const firstHasWritten = new Promise<void>((resolve) => (firstWritten = resolve));
    let releaseFirst!: () => void;
    const secondDone = new Promise<void>((resolve) => (releaseFirst = resolve));
    const first = db.$transaction(
      async (tx) => {
        await recordAudit(tx, entry(1));
        firstWritten();
        await secondDone; // still open while the second writer and the sealer run
      },
      { timeout: 20_000 },
    );
    await firstHasWritten;
    // Any lock the first transaction holds that the second needs would stop it here.
    await db.$transaction(async (tx) => {
      await tx.$executeRaw`SET LOCAL lock_timeout = '2s'`;
      await recordAudit(tx, entry(2));
    });
    const sealedWhileOpen = await sealAuditLog(db, { key: KEY });
    releaseFirst();
    await first;
    expect(sealedWhileOpen).toMatchObject({ seals: 1, entries: 1, busy: false });
    // The entry committed after the seal is sealed by the next run.
    expect(await sealAuditLog(db, { key: KEY })).toMatchObject({ seals: 1, entries: 1 });
    expect((await verifyAuditChain(db, { key: KEY })).ok).toBe(true);
  });

  it("seals idempotently, and two sealers at once make one gapless chain", async () => {
    await writeEntries(30);
    const [a, b] = await Promise.all([
      sealAuditLog(db, { key: KEY, batchSize: 7, wait: true }),
      sealAuditLog(db, { key: KEY, batchSize: 7, wait: true }),
    ]);
    expect(a.entries + b.entries).toBe(30);
    const links = await chain();
    expect(links.map((l) => Number(l.position))).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(new Set(links.map((l) => l.entryId)).size).toBe(30);
    const { rows: seals } = await owner.query<{ sequence: number }>(`SELECT "sequence" FROM "AuditSeal" ORDER BY "sequence"`);
    expect(seals.map((s) => s.sequence)).toEqual([1, 2, 3, 4, 5]);
    expect(await sealAuditLog(db, { key: KEY })).toMatchObject({ seals: 0, entries: 0, busy: false, lastSeal: { sequence: 5 } });
    // A sealer that does not wait leaves when another one holds the lock.
    await db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended('audit-chain-seal', 0))`;
      await writeEntries(1, 31);
      expect(await sealAuditLog(db, { key: KEY })).toMatchObject({ busy: true, entries: 0 });
    });
    expect((await verifyAuditChain(db, { key: KEY })).ok).toBe(true);
  });
});

describe("verification", () => {
  it("passes on an untouched log, records when and what it found, and the page's status shows it", async () => {
    await writeEntries(9);
    const run = await runAuditVerification(db, { key: KEY, trigger: "admin", actorLabel: "Ada Admin (ada@example.com)" });
    expect(run).toMatchObject({ ok: true, entriesChecked: 9, sealsChecked: 1, sealed: 9, problemCount: 0, problems: [] });
    const status = await readAuditChainStatus(db);
    expect(status.lastVerification).toMatchObject({ ok: true, trigger: "admin", entriesChecked: 9, problem: null });
    expect(status.lastSeal).toMatchObject({ sequence: 1, lastPosition: "9", hash: run.lastSeal?.hash });
    expect(status.unsealedEntries).toBe(0);
  });

  it("names the entry whose reason the owner changed behind the trigger's back", async () => {
    const links = await sealedLog(10);
    const target = links[4]!;
    await asOwner(`UPDATE "AuditLog" SET "reason" = 'Nothing to see here' WHERE "id" = $1`, [target.entryId]);
    const result = await verifyAuditChain(db, { key: KEY });
    expect(result.ok).toBe(false);
    expect(result.problemCount).toBe(1);
    expect(result.problems[0]).toMatchObject({ kind: "content_changed", entryId: target.entryId, position: 5n, sealSequence: 2 });
  });

  it.each([
    ["createdAt", `"createdAt" = "createdAt" + interval '1 millisecond'`],
    ["after (one JSON value)", `"after" = jsonb_set("after", '{n}', '999')`],
    ["before (SQL NULL)", `"before" = NULL`],
    ["actorLabel", `"actorLabel" = 'Someone else'`],
  ])("names an entry whose %s changed", async (_column, assignment) => {
    const links = await sealedLog(3);
    await asOwner(`UPDATE "AuditLog" SET ${assignment} WHERE "id" = $1`, [links[1]!.entryId]);
    const result = await verifyAuditChain(db, { key: KEY });
    expect(result.problems).toEqual([expect.objectContaining({ kind: "content_changed", entryId: links[1]!.entryId })]);
  });

  it("names an entry deleted from the middle (ALTER TABLE … DISABLE TRIGGER ALL)", async () => {
    const links = await sealedLog(10);
    const target = links[5]!;
    await owner.query(`ALTER TABLE "AuditLog" DISABLE TRIGGER ALL`);
    try {
      await owner.query(`DELETE FROM "AuditLog" WHERE "id" = $1`, [target.entryId]);
    } finally {
      await owner.query(`ALTER TABLE "AuditLog" ENABLE TRIGGER ALL`);
    }
    const result = await verifyAuditChain(db, { key: KEY });
    expect(result.problems).toEqual([expect.objectContaining({ kind: "entry_missing", entryId: target.entryId, position: 6n })]);
  });

  it("catches the newest sealed entries deleted: with their links, with their seal too (then only an anchor shows it)", async () => {
    const links = await sealedLog(10); // seals 1–3: positions 1–4, 5–8, 9–10
    const anchor = (await verifyAuditChain(db, { key: KEY })).lastSeal!;
    const tail = links.slice(8).map((l) => l.entryId);
    await asOwner(`DELETE FROM "AuditLog" WHERE "id" = ANY($1::uuid[])`, [tail]);
    let result = await verifyAuditChain(db, { key: KEY });
    expect(result.problems.map((p) => [p.kind, p.entryId])).toEqual([
      ["entry_missing", tail[0]],
      ["entry_missing", tail[1]],
    ]);

    await asOwner(`DELETE FROM "AuditChainLink" WHERE "position" >= 9`);
    result = await verifyAuditChain(db, { key: KEY });
    expect(result.problems[0]).toMatchObject({ kind: "link_missing", position: 9n, sealSequence: 3 });

    // The seal goes too: what is left is a whole, shorter chain, which the anchor kept outside shows.
    await asOwner(`DELETE FROM "AuditSeal" WHERE "sequence" = 3`);
    expect((await verifyAuditChain(db, { key: KEY })).ok).toBe(true);
    result = await verifyAuditChain(db, { key: KEY, anchor: { sequence: anchor.sequence, hash: anchor.hash } });
    expect(result.problems).toEqual([expect.objectContaining({ kind: "seal_missing", sealSequence: 3 })]);
    expect(result.problems[0]?.detail).toMatch(/Seal 3, anchored outside the database, is missing: the log ends at seal 2/);
  });

  it("catches a seal deleted from the middle", async () => {
    await sealedLog(10);
    await asOwner(`DELETE FROM "AuditSeal" WHERE "sequence" = 2`);
    const result = await verifyAuditChain(db, { key: KEY });
    expect(result.problems[0]).toMatchObject({ kind: "seal_missing", sealSequence: 2, position: 5n });
  });

  it("catches an edit re-hashed with a plain SHA-256 (no key), while the same re-hash with the key would pass", async () => {
    await sealedLog(6);
    const { rows } = await owner.query<{ id: string }>(`SELECT "entryId"::text AS id FROM "AuditChainLink" WHERE "position" = 3`);
    const target = rows[0]!.id;
    await asOwner(`UPDATE "AuditLog" SET "reason" = 'Rewritten' WHERE "id" = $1`, [target]);

    // The owner's best effort: every hash from the edit on recomputed, links and seals alike.
    const forge = async (hash: (text: string) => string) => {
      const entries = (
        await owner.query<TChainEntry & { position: string }>(
          `SELECT l."position"::text AS "position", a."id"::text AS "id",
                  to_char(a."createdAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt",
                  a."actorType"::text AS "actorType", a."actorId", a."actorLabel", a."action", a."entityType", a."entityId",
                  a."reason", a."before"::text AS "before", a."after"::text AS "after", a."requestId", a."runId"
           FROM "AuditChainLink" l JOIN "AuditLog" a ON a."id" = l."entryId" ORDER BY l."position"`,
        )
      ).rows;
      let previous: string | null = null;
      const hashes = new Map<bigint, string>();
      for (const e of entries) {
        previous = hash(`audit-link/v1\n${e.position}\n${previous ?? ""}\n${canonicalAuditEntry(e)}`);
        hashes.set(BigInt(e.position), previous);
        await asOwner(`UPDATE "AuditChainLink" SET "hash" = $1 WHERE "position" = $2`, [previous, e.position]);
      }
      const seals = (
        await owner.query<{ sequence: number; firstPosition: string; lastPosition: string; entryCount: number; sealedAt: Date }>(
          `SELECT "sequence", "firstPosition"::text AS "firstPosition", "lastPosition"::text AS "lastPosition", "entryCount", "sealedAt"
           FROM "AuditSeal" ORDER BY "sequence"`,
        )
      ).rows;
      let previousSeal: string | null = null;
      for (const s of seals) {
        const content = {
          sequence: s.sequence,
          firstPosition: BigInt(s.firstPosition),
          lastPosition: BigInt(s.lastPosition),
          entryCount: s.entryCount,
          lastLinkHash: hashes.get(BigInt(s.lastPosition)) ?? "",
          previousHash: previousSeal,
          sealedAt: s.sealedAt,
        };
        const sealed = hash(`audit-seal/v1\n${canonicalSeal(content)}`);
        await asOwner(`UPDATE "AuditSeal" SET "lastLinkHash" = $1, "previousHash" = $2, "hash" = $3 WHERE "sequence" = $4`, [
          content.lastLinkHash,
          previousSeal,
          sealed,
          s.sequence,
        ]);
        previousSeal = sealed;
      }
    };

    await forge((text) => createHash("sha256").update(text).digest("hex"));
    const result = await verifyAuditChain(db, { key: KEY });
    expect(result.ok).toBe(false);
    // The first link's hash no longer matches, whatever comes after it.
    expect(result.problems[0]).toMatchObject({ kind: "content_changed", position: 1n });
    expect(result.problems.map((p) => p.kind)).toContain("seal_changed");

    // Proof that the forgery is complete: with the key it would have passed.
    await forge((text) => createHmac("sha256", KEY).update(text).digest("hex"));
    expect((await verifyAuditChain(db, { key: KEY })).ok).toBe(true);
  });

  it("catches an entry written with the triggers off, and one deleted before it was sealed", async () => {
    await sealedLog(2);
    await writeEntries(2, 3); // queued, not sealed yet
    const { rows } = await owner.query<{ id: string }>(
      `SELECT "entryId"::text AS id FROM "AuditUnsealed" u JOIN "AuditLog" a ON a."id" = u."entryId" ORDER BY a."createdAt" LIMIT 1`,
    );
    await asOwner(`DELETE FROM "AuditLog" WHERE "id" = $1`, [rows[0]!.id]);
    const { rows: forged } = await asOwner(
      `INSERT INTO "AuditLog" ("actorType", "actorLabel", "action", "entityType", "entityId")
       VALUES ('system', 'Nobody', 'payout.released', 'payout', 'payout-x') RETURNING "id"::text AS id`,
    );
    const result = await verifyAuditChain(db, { key: KEY });
    expect(result.problems.map((p) => [p.kind, p.entryId])).toEqual([
      ["entry_not_in_chain", (forged[0] as { id: string }).id],
      ["unsealed_entry_missing", rows[0]!.id],
    ]);
    expect(result.unsealedEntries).toBe(1);
  });
});

describe("the scheduled functions", () => {
  const deps = {
    db,
    stripe: () => {
      throw new Error("The audit functions never call Stripe.");
    },
  };

  it("seal every few minutes, and verify daily: recorded, and a broken chain raises one critical alert", async () => {
    await writeEntries(3);
    await new InngestTestEngine({ function: createSealAuditLogFunction(deps) }).execute();
    expect(await chain()).toHaveLength(3);

    const verify = () => new InngestTestEngine({ function: createVerifyAuditLogFunction(deps) }).execute();
    expect((await verify()).result).toMatchObject({ ok: true, entriesChecked: 3, problemCount: 0 });
    const [target] = await chain();
    await asOwner(`UPDATE "AuditLog" SET "entityId" = 'another' WHERE "id" = $1`, [target!.entryId]);
    expect((await verify()).result).toMatchObject({ ok: false, problemCount: 1 });
    await verify();
    const alerts = await db.alert.findMany({ where: { kind: "audit_chain_broken" } });
    expect(alerts).toEqual([expect.objectContaining({ severity: "critical", title: "The audit log's chain is broken" })]);
    expect(alerts[0]?.message).toContain(`Entry ${target!.entryId} (position 1) was changed after it was sealed`);
    const status = await readAuditChainStatus(db);
    expect(status.lastVerification).toMatchObject({ ok: false, trigger: "schedule", brokenEntryId: target!.entryId, brokenPosition: "1" });
  });
});

describe("Verify now (POST /api/admin/audit/verify)", () => {
  const verifyNow = () =>
    verifyRoute.POST(
      new Request("http://localhost/api/admin/audit/verify", { method: "POST", headers: { origin: "http://localhost" } }),
      undefined,
    );

  it("seals, verifies and records the admin who asked; other roles get 403", async () => {
    await writeEntries(4);
    signInAs(users.operator);
    expect((await verifyNow()).status).toBe(403);
    signInAs(users.admin);
    const answer = await verifyNow();
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ ok: true, entriesChecked: 4, sealed: 4, problemCount: 0, firstProblem: null });
    const status = await readAuditChainStatus(db);
    expect(status.lastVerification).toMatchObject({ ok: true, trigger: "admin", actorLabel: expect.stringContaining(users.admin.email) });
  });
});

describe("npm run audit:verify", () => {
  function runScript(args: string[] = []): Promise<TCommandResult> {
    return runProjectCommand("npm", ["run", "--silent", "audit:verify", "--", ...args], {
      NODE_ENV: "development",
      DATABASE_URL: process.env.DATABASE_URL ?? "",
    });
  }

  it("exits 0 on an intact log and 1 naming the first broken link, recording both runs", async () => {
    await writeEntries(5);
    const intact = await runScript();
    expect(intact.stderr).toBe("");
    expect(intact.stdout).toMatch(/Audit chain intact: 5 sealed entries in 1 seal \(5 sealed by this run\)\./);
    const anchor = /Latest seal: (\d+:[0-9a-f]{64})/.exec(intact.stdout)?.[1];
    expect(anchor).toBeDefined();
    expect(intact.code).toBe(0);

    const links = await chain();
    await asOwner(`UPDATE "AuditLog" SET "reason" = 'Edited' WHERE "id" = $1`, [links[2]!.entryId]);
    const broken = await runScript(["--anchor", anchor!]);
    expect(broken.stderr).toContain("Audit chain BROKEN: 1 problem in 5 sealed entries in 1 seal.");
    expect(broken.stderr).toContain(`First broken link: Entry ${links[2]!.entryId} (position 3) was changed after it was sealed`);
    expect(broken.stderr).toContain(`problem=content_changed entry=${links[2]!.entryId} position=3 seal=1`);
    expect(broken.code).toBe(1);

    const bad = await runScript(["--anchor", "nonsense"]);
    expect(bad.code).toBe(2);

    const { rows } = await owner.query<{ ok: boolean; trigger: string; brokenEntryId: string | null; problem: string | null }>(
      `SELECT "ok", "trigger", "brokenEntryId"::text AS "brokenEntryId", "problem" FROM "AuditVerification" ORDER BY "finishedAt"`,
    );
    expect(rows).toEqual([
      { ok: true, trigger: "script", brokenEntryId: null, problem: null },
      { ok: false, trigger: "script", brokenEntryId: links[2]!.entryId, problem: "content_changed" },
    ]);
  });
});
