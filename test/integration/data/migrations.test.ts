import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";

import { ensureDatabase, loadMigrations, runMigrations } from "@/lib/migrations/run-migrations";

import { databaseUrl, dropDatabase } from "../../support/databases";

const created: string[] = [];

async function scratchDatabase(): Promise<string> {
  // Named after this file's database, so the run's teardown drops it even if this file is killed.
  const name = `${process.env.TEST_DATABASE_NAME}_m${created.length}`;
  created.push(name);
  expect(await ensureDatabase(databaseUrl(name))).toBe(true);
  return databaseUrl(name);
}

async function migrationsDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "payouts-migrations-"));
  for (const [name, sql] of Object.entries(files)) {
    await mkdir(path.join(dir, name));
    await writeFile(path.join(dir, name, "migration.sql"), sql);
  }
  return dir;
}

async function queryAll<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  for (const name of created) await dropDatabase(name);
});

describe("runMigrations", () => {
  it("creates the database once, applies the project's migrations in order, then finds nothing to do", async () => {
    const url = await scratchDatabase();
    expect(await ensureDatabase(url)).toBe(false);
    // Created with its sessions in UTC, whatever the server's default.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ setconfig: string[] }>(
        "SELECT setconfig FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND setrole = 0",
      );
      expect(rows[0]?.setconfig).toContain("TimeZone=UTC");
    } finally {
      await client.end();
    }
    const first = await runMigrations(url, "prisma/migrations");
    const names = (await loadMigrations("prisma/migrations")).map((m) => m.name);
    expect(first).toEqual({ applied: names, skipped: [] });
    expect(await runMigrations(url, "prisma/migrations")).toEqual({ applied: [], skipped: names });
  });

  it("rolls back every statement of a failing migration, records the failure and refuses to go on", async () => {
    const url = await scratchDatabase();
    const dir = await migrationsDir({
      "20260101000000_first": `CREATE TABLE "A" (id int);`,
      "20260102000000_broken": `CREATE TABLE "B" (id int);\nINSERT INTO "Nope" VALUES (1);`,
      "20260103000000_third": `CREATE TABLE "C" (id int);`,
    });
    await expect(runMigrations(url, dir)).rejects.toThrow(
      /20260102000000_broken failed and was rolled back: relation "Nope" does not exist/,
    );
    const tables = await queryAll<{ relname: string }>(url, `SELECT relname FROM pg_class WHERE relname IN ('A','B','C') ORDER BY 1`);
    expect(tables.map((t) => t.relname)).toEqual(["A"]);
    const rows = await queryAll<{ migration_name: string; finished: boolean; logs: string | null }>(
      url,
      `SELECT migration_name, finished_at IS NOT NULL AS finished, logs FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(rows.map((r) => [r.migration_name, r.finished])).toEqual([
      ["20260101000000_first", true],
      ["20260102000000_broken", false],
    ]);
    expect(rows[1]?.logs).toMatch(/Nope/);
    await expect(runMigrations(url, dir)).rejects.toThrow(/20260102000000_broken failed earlier and was not resolved/);
  });

  it("applies each migration once when several processes migrate at the same time", async () => {
    const url = await scratchDatabase();
    const dir = await migrationsDir({
      "20260101000000_counter": `CREATE TABLE "Counter" (n int); INSERT INTO "Counter" VALUES (1);`,
      "20260102000000_more": `INSERT INTO "Counter" VALUES (2);`,
    });
    const results = await Promise.all([1, 2, 3, 4].map(() => runMigrations(url, dir)));
    expect(results.flatMap((r) => r.applied).sort()).toEqual(["20260101000000_counter", "20260102000000_more"]);
    const counter = await queryAll<{ n: number }>(url, `SELECT n FROM "Counter" ORDER BY n`);
    expect(counter.map((r) => r.n)).toEqual([1, 2]);
  });

  it("refuses a database that has migrations the code does not know", async () => {
    const url = await scratchDatabase();
    await runMigrations(url, await migrationsDir({ "20260101000000_a": "SELECT 1;", "20260102000000_b": "SELECT 1;" }));
    await expect(runMigrations(url, await migrationsDir({ "20260101000000_a": "SELECT 1;" }))).rejects.toThrow(
      /migrations this code does not know: 20260102000000_b/,
    );
  });
});
