import path from "node:path";

import type { TestProject } from "vitest/node";

import { databaseUrl, dropDatabase, dropStaleTestDatabases, uniqueDatabaseName, withAdminClient } from "./databases";
import { ensureDatabase, runMigrations } from "../../lib/migrations/run-migrations";

declare module "vitest" {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}

export default async function setup(project: TestProject) {
  await dropStaleTestDatabases("payouts_test", 6 * 60 * 60 * 1000);
  const template = uniqueDatabaseName("payouts_test");
  await ensureDatabase(databaseUrl(template));
  await runMigrations(databaseUrl(template), path.resolve("prisma/migrations"));
  // A template may not have open connections while it is copied.
  await withAdminClient((c) => c.query(`ALTER DATABASE "${template}" WITH ALLOW_CONNECTIONS false`));
  project.provide("templateDatabase", template);

  return async () => {
    const { rows } = await withAdminClient((c) =>
      c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [`${template}%`]),
    );
    for (const { datname } of rows) await dropDatabase(datname);
  };
}
