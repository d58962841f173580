// npm run test:e2e — Playwright in Chromium against a production build (`next build` +
// `next start`) on a fresh, migrated and seeded database that is dropped afterwards.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

import pg from "pg";

const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (!existsSync(chromium)) {
  console.error(
    `✗ Chromium was not found at ${chromium}. The end-to-end tests need it:\n` +
      "    sudo apt-get update && sudo apt-get install -y chromium\n" +
      "  or point CHROMIUM_PATH at a Chromium or Chrome binary.",
  );
  process.exit(1);
}

const adminUrl = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const dbName = `payouts_e2e_${Date.now().toString(36)}`;
const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${dbName}` }).toString();
const port = process.env.E2E_PORT ?? "3100";

// Production mode needs every secret; these are throwaway values for the test server.
const env = {
  ...process.env,
  DATABASE_URL: databaseUrl,
  E2E_DATABASE_URL: databaseUrl,
  E2E_PORT: port,
  NEXTAUTH_URL: `http://127.0.0.1:${port}`,
  NEXTAUTH_SECRET: "e2e-nextauth-secret-0123456789abcdef",
  BOOKING_WEBHOOK_SECRETS: "whsec_booking_e2e_secret",
  STRIPE_SECRET_KEY: "sk_test_e2e",
  STRIPE_WEBHOOK_SECRET: "whsec_stripe_e2e",
  INNGEST_SIGNING_KEY: "signkey-test-e2e",
  INNGEST_EVENT_KEY: "e2e-event-key",
  NEXT_TELEMETRY_DISABLED: "1",
};

function run(label, command, args, extraEnv = {}) {
  const started = Date.now();
  console.log(`\n▸ ${label}`);
  const result = spawnSync(command, args, { stdio: "inherit", env: { ...env, ...extraEnv } });
  console.log(`  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return result.status ?? 1;
}

async function dropDatabase() {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await client.end();
}

let status = run("Migrating a fresh e2e database", "node_modules/.bin/tsx", ["scripts/migrate.ts"]);
if (status === 0)
  status = run("Seeding demo data", "node_modules/.bin/tsx", ["--conditions=react-server", "scripts/seed.ts"], { NODE_ENV: "development" });
if (status === 0 && process.env.E2E_SKIP_BUILD !== "1") {
  status = run("Building (next build)", "node_modules/.bin/next", ["build"], { NODE_ENV: "production" });
}
if (status === 0) {
  status = run("Playwright", "node_modules/.bin/playwright", ["test", ...process.argv.slice(2)], { NODE_ENV: "production" });
}
await dropDatabase().catch((error) => console.error(`warning: could not drop ${dbName}:`, error));
process.exit(status);
