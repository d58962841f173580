import "server-only";

import path from "node:path";

import { db as defaultDb, type Db } from "@/lib/db";
import { inngest } from "@/lib/inngest/client";
import { loadMigrations } from "@/lib/migrations/run-migrations";

/** Each check gets this long; a load balancer's probe usually waits 5 s. */
export const HEALTH_CHECK_TIMEOUT_MS = 2_000;

export const HEALTH_CHECKS = ["database", "migrations", "workflowEngine"] as const;
export type THealthCheck = (typeof HEALTH_CHECKS)[number];

/**
 * What GET /api/health answers: "ok" or a short reason per check, and the failing checks by name.
 * Never a connection string, a host name, a key or a driver's error text.
 */
export type THealthReport = {
  status: "ok" | "unhealthy";
  failing: THealthCheck[];
  checks: Record<THealthCheck, string>;
};

export type TCheckHealthOptions = {
  db?: Db;
  /** Folder of the migration files this code expects (default: prisma/migrations under the working directory). */
  migrationsDir?: string;
  /** Where the workflow engine is reached (default: the Inngest client's event API, as the outbox sends to it). */
  engineUrl?: string;
  timeoutMs?: number;
};

class CheckFailed extends Error {}

/** Resolves with the check's answer, or its reason as a failure; never waits past the timeout. */
async function runCheck(run: () => Promise<string>, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckFailed(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return { ok: true, detail: await Promise.race([run(), timeout]) };
  } catch (error) {
    return { ok: false, detail: error instanceof CheckFailed ? error.message : "unreachable" };
  } finally {
    clearTimeout(timer);
  }
}

let expectedMigrations: Promise<string[]> | undefined;

function migrationNames(dir: string | undefined): Promise<string[]> {
  if (dir !== undefined) return loadMigrations(dir).then((all) => all.map((m) => m.name));
  // The files do not change while the server runs.
  expectedMigrations ??= loadMigrations(path.join(process.cwd(), "prisma", "migrations")).then((all) => all.map((m) => m.name));
  expectedMigrations.catch(() => (expectedMigrations = undefined));
  return expectedMigrations;
}

async function checkMigrations(db: Db, dir: string | undefined): Promise<string> {
  const expected = await migrationNames(dir).catch(() => {
    throw new CheckFailed("migration files not found");
  });
  const rows = await db.$queryRaw<{ migration_name: string; finished: boolean; rolled_back: boolean }[]>`
    SELECT migration_name, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back
    FROM "_prisma_migrations"`.catch(() => {
    throw new CheckFailed("no migrations applied");
  });
  const failed = rows.filter((r) => !r.finished && !r.rolled_back).map((r) => r.migration_name);
  if (failed.length > 0) throw new CheckFailed(`failed: ${failed.join(", ")}`);
  const applied = new Set(rows.filter((r) => r.finished && !r.rolled_back).map((r) => r.migration_name));
  const pending = expected.filter((name) => !applied.has(name));
  if (pending.length > 0) throw new CheckFailed(`${pending.length} pending: ${pending.join(", ")}`);
  // Migrations newer than this code (a deploy rolling out) are not a failure: they only add.
  return "ok";
}

/**
 * The database answers, and its sessions run in UTC. Prisma's pg adapter reads a timestamptz by
 * relabelling the session's offset as +00:00 and writes a date without one (prisma/orm#26786):
 * with any other TimeZone every date it reads and writes is off by the offset (the 48-hour wait,
 * when a tip came, when a transfer was made), while the statements that read dates as JSON read
 * them right. So anything but UTC fails the check, saying how to set it.
 */
async function checkDatabase(db: Db, onAnswer: () => void): Promise<string> {
  // UTC by any name (UTC, Etc/UTC, GMT, Zulu…): no offset in winter nor in summer.
  const rows = await db.$queryRaw<{ timeZone: string; offsetSeconds: number }[]>`
    SELECT current_setting('TimeZone') AS "timeZone",
      (abs(extract(timezone FROM '2026-01-15 12:00:00+00'::timestamptz)) + abs(extract(timezone FROM '2026-07-15 12:00:00+00'::timestamptz)))::int AS "offsetSeconds"`;
  onAnswer();
  const row = rows[0];
  if (row && row.offsetSeconds !== 0) {
    throw new CheckFailed(
      `session TimeZone is ${row.timeZone.slice(0, 64)}, not UTC: dates would be read and written shifted; set it with ALTER DATABASE <name> SET TimeZone = 'UTC' (or ALTER ROLE)`,
    );
  }
  return "ok";
}

async function checkEngine(url: string, timeoutMs: number): Promise<string> {
  // Any HTTP answer means the engine is reachable; only a network error or the timeout is not.
  const response = await fetch(url, { method: "GET", redirect: "manual", cache: "no-store", signal: AbortSignal.timeout(timeoutMs) });
  await response.body?.cancel();
  return "ok";
}

/**
 * Database reachable with its sessions in UTC, every migration file of this code applied, workflow engine (Inngest: the
 * dev server in development, Inngest Cloud in production) reachable. The checks run side by side,
 * the migrations once the database answered (in any time zone).
 */
export async function checkHealth(options: TCheckHealthOptions = {}): Promise<THealthReport> {
  const db = options.db ?? defaultDb;
  const timeoutMs = options.timeoutMs ?? HEALTH_CHECK_TIMEOUT_MS;
  const engineUrl = options.engineUrl ?? inngest.eventBaseUrl;

  const engine = runCheck(() => checkEngine(engineUrl, timeoutMs), timeoutMs);
  let answered = false;
  const database = await runCheck(
    () =>
      checkDatabase(db, () => {
        answered = true;
      }),
    timeoutMs,
  );
  const migrations = answered
    ? await runCheck(() => checkMigrations(db, options.migrationsDir), timeoutMs)
    : { ok: false, detail: "not checked: database unreachable" };

  const results: Record<THealthCheck, { ok: boolean; detail: string }> = { database, migrations, workflowEngine: await engine };
  const failing = HEALTH_CHECKS.filter((name) => !results[name].ok);
  return {
    status: failing.length === 0 ? "ok" : "unhealthy",
    failing,
    checks: {
      database: results.database.detail,
      migrations: results.migrations.detail,
      workflowEngine: results.workflowEngine.detail,
    },
  };
}
