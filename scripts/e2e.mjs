// npm run test:e2e — Playwright in Chromium against a production build (`next build` +
// `next start`) on a fresh, migrated and seeded database that is dropped afterwards. The build
// runs with no secrets in its environment, as a container or CI build would.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

import pg from "pg";

import { chooseChromium } from "../lib/e2e/choose-chromium.ts";

/** Starts and closes Playwright's own Chromium; prints one line when it cannot. */
const LAUNCH_CHECK = `
const { chromium } = await import("@playwright/test");
try {
  await (await chromium.launch()).close();
} catch (error) {
  console.error("Error: " + String(error?.message ?? error).split("\\n")[0]);
  process.exit(1);
}`;

/** The first error line of a child process, for one line of explanation. */
function failure(result) {
  const output = `${result.stderr ?? ""}\n${result.stdout ?? ""}`;
  return result.error?.message ?? output.match(/^\w*Error: (.+)$/m)?.[1] ?? `exit code ${result.status}`;
}

// Playwright's own Chromium when it can be installed, else /usr/bin/chromium, else what to run.
const chromium = chooseChromium({
  chromiumPath: process.env.CHROMIUM_PATH,
  exists: existsSync,
  installPlaywrightChromium() {
    console.log("▸ Installing Playwright's Chromium (npx playwright install chromium; quick when it is there)");
    const result = spawnSync("node_modules/.bin/playwright", ["install", "chromium"], {
      encoding: "utf8",
      // A blocked network fails fast instead of hanging; a real download still has time.
      timeout: 10 * 60 * 1000,
      env: { ...process.env, PLAYWRIGHT_DOWNLOAD_CONNECTION_TIMEOUT: process.env.PLAYWRIGHT_DOWNLOAD_CONNECTION_TIMEOUT ?? "15000" },
    });
    if (result.status !== 0) return { ok: false, reason: failure(result) };
    // Installed is not enough: without its system libraries it does not start.
    const launch = spawnSync(process.execPath, ["--input-type=module", "-e", LAUNCH_CHECK], { encoding: "utf8", timeout: 60_000 });
    if (launch.status === 0) return { ok: true };
    return {
      ok: false,
      reason: `installed, but it does not start (${failure(launch)}; npx playwright install-deps chromium adds its libraries)`,
    };
  },
});
if (!chromium.ok) {
  console.error(`✗ ${chromium.message}`);
  process.exit(1);
}
if (chromium.source === "playwright") console.log("  Chromium: Playwright's own");
else if (chromium.source === "system") console.log(`  Chromium: ${chromium.executablePath} (Playwright's: ${chromium.installError})`);
else console.log(`  Chromium: ${chromium.executablePath} (CHROMIUM_PATH)`);

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
  AUDIT_CHAIN_KEY: "e2e-audit-chain-key-0123456789abcdef",
  NEXT_TELEMETRY_DISABLED: "1",
};
// playwright.config.ts launches this binary, or Playwright's own Chromium when unset.
if (chromium.executablePath) env.CHROMIUM_PATH = chromium.executablePath;
else delete env.CHROMIUM_PATH;

/** The build sees no secrets and no database: configuration is checked when the server starts. */
const BUILD_ENV_KEYS = ["PATH", "HOME", "TMPDIR", "LANG", "CI", "NEXT_DIST_DIR"];
const buildEnv = Object.fromEntries(BUILD_ENV_KEYS.filter((key) => process.env[key] !== undefined).map((key) => [key, process.env[key]]));

function run(label, command, args, extraEnv = {}, baseEnv = env) {
  const started = Date.now();
  console.log(`\n▸ ${label}`);
  const result = spawnSync(command, args, { stdio: "inherit", env: { ...baseEnv, ...extraEnv } });
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
  status = run(
    "Building (next build, without secrets)",
    "node_modules/.bin/next",
    ["build"],
    { NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
    buildEnv,
  );
}
if (status === 0) {
  status = run("Playwright", "node_modules/.bin/playwright", ["test", ...process.argv.slice(2)], { NODE_ENV: "production" });
}
await dropDatabase().catch((error) => console.error(`warning: could not drop ${dbName}:`, error));
process.exit(status);
