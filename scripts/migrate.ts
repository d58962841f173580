// npm run db:migrate — creates the database if missing and applies pending migrations.
import path from "node:path";

import { getEnv } from "../lib/env.ts";
import { ensureDatabase, runMigrations } from "../lib/migrations/run-migrations.ts";

async function main() {
  const { DATABASE_URL } = getEnv();
  const url = new URL(DATABASE_URL);
  const target = `${url.hostname}:${url.port || 5432}${url.pathname}`;
  if (await ensureDatabase(DATABASE_URL)) console.log(`Created database ${target}`);
  const { applied, skipped } = await runMigrations(DATABASE_URL, path.resolve("prisma/migrations"));
  for (const name of applied) console.log(`Applied ${name}`);
  console.log(`Database ${target} is up to date (${applied.length} applied, ${skipped.length} already applied).`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
