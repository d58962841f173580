// Test databases: a migrated template per run, and a copy of it per test file.
import { randomBytes } from "node:crypto";

import pg from "pg";

export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

export function databaseUrl(name: string): string {
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export function uniqueDatabaseName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
}

export async function withAdminClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/** Drops databases left behind by earlier runs that were killed before their teardown. */
export async function dropStaleTestDatabases(prefix: string, olderThanMs: number): Promise<void> {
  const { rows } = await withAdminClient((c) =>
    c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [`${prefix}\\_%`]),
  );
  for (const { datname } of rows) {
    const stamp = Number.parseInt(datname.slice(prefix.length + 1).split("_")[0] ?? "", 36);
    if (Number.isFinite(stamp) && Date.now() - stamp > olderThanMs) await dropDatabase(datname);
  }
}
