// Generates a large, realistic payout table for measuring the payouts list (not demo data).
//
//   tsx scripts/generate-payouts.ts --count 1000000 [--providers 20000] [--database-url postgresql://…/payouts_bench_1m]
//
// Creates and migrates the database when needed, then inserts providers, bookings and
// payouts with SQL `generate_series` (hundreds of thousands of rows per statement, no rows
// travel through Node). Idempotent: generated rows carry `gen-` external ids, and a second
// run only adds what is missing up to --count. Ends with VACUUM ANALYZE so the planner and
// index-only scans see the real table. Refuses NODE_ENV=production and the development
// database `payouts`; use a scratch database.
import path from "node:path";
import { parseArgs } from "node:util";

import pg from "pg";

import { ensureDatabase, runMigrations } from "../lib/migrations/run-migrations.ts";

const DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/payouts_bench_1m";
const CHUNK = 100_000;

function usage(message?: string): never {
  if (message) console.error(message);
  console.error("Usage: tsx scripts/generate-payouts.ts --count <payouts> [--providers <n>] [--database-url <url>]");
  process.exit(1);
}

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.replaceAll("_", ""));
  if (!Number.isSafeInteger(n) || n <= 0) usage(`--${name} must be a positive integer, got "${value}".`);
  return n;
}

// Payout columns derived from the row number `i` and three hashes of it, so a re-run
// produces the same kind of data. Time spreads over the last two years; recent payouts
// are mostly scheduled (not yet due), older ones mostly transferred.
const INSERT_CHUNK = `
WITH s AS (
  SELECT i,
         abs(hashint4(i)) AS h1,
         abs(hashint4(i + 104729)) AS h2,
         abs(hashint4(i + 1299709)) AS h3
  FROM generate_series($1::int, $2::int) AS i
), rows AS (
  SELECT s.i, gp.id AS "providerId",
         (ARRAY['USD','USD','USD','USD','USD','USD','EUR','EUR','EUR','GBP','GBP','JPY'])[1 + s.h1 % 12] AS currency,
         now() - make_interval(secs => (s.h2 % (730 * 86400))) AS completed,
         s.h3 % 1000 AS roll,
         s.h1 % 997 AS r2
  FROM s JOIN gen_providers gp ON gp.n = 1 + s.h1 % $3::int
), shaped AS (
  SELECT r.*,
         CASE WHEN r.currency = 'JPY' THEN 1000 + (r.r2 * 53) % 49000 ELSE 1500 + (r.r2 * 131) % 48500 END AS share,
         CASE WHEN r.roll % 5 = 0 THEN 100 * (1 + r.r2 % 20) ELSE 0 END AS tip,
         CASE
           WHEN r.completed + interval '48 hours' > now() THEN (CASE WHEN r.roll < 60 THEN 'on_hold' ELSE 'scheduled' END)
           WHEN r.roll < 850 THEN 'transferred'
           WHEN r.roll < 870 THEN 'failed'
           WHEN r.roll < 900 THEN 'cancelled'
           WHEN r.roll < 930 THEN 'on_hold'
           WHEN r.roll < 940 THEN 'reversed'
           WHEN r.roll < 950 THEN 'partially_reversed'
           WHEN r.roll < 952 AND r.completed > now() - interval '7 days' THEN 'processing'
           ELSE 'transferred'
         END AS status
  FROM rows r
), b AS (
  INSERT INTO "Booking" ("externalId", "providerId", currency, "providerShare", "stripeChargeId", "completedAt", "createdAt", "updatedAt")
  SELECT 'gen-b-' || i, "providerId", currency, share, 'ch_gen_' || i, completed, completed - interval '3 hours', completed
  FROM shaped
  RETURNING id, "externalId"
)
INSERT INTO "Payout" (
  "bookingId", "providerId", currency, "providerShare", "tipAmount", "refundedAmount", amount, "reversedAmount",
  status, "holdReason", "holdNote", "cancelReason", "eligibleAt", attempts, "lastError", "stripeTransferId",
  "transferredAt", version, "createdAt", "updatedAt"
)
SELECT b.id, x."providerId", x.currency, x.share, x.tip, 0, x.share + x.tip,
       CASE x.status WHEN 'reversed' THEN x.share + x.tip WHEN 'partially_reversed' THEN (x.share + x.tip) / 2 ELSE 0 END,
       x.status::"PayoutStatus",
       CASE WHEN x.status = 'on_hold' THEN (ARRAY['admin_hold','dispute_open','provider_account_not_ready'])[1 + x.r2 % 3]::"HoldReason" END,
       CASE WHEN x.status = 'on_hold' AND x.r2 % 3 = 0 THEN 'Generated hold for load testing' END,
       CASE WHEN x.status = 'cancelled' THEN 'Booking cancelled' END,
       x.completed + interval '48 hours',
       CASE WHEN x.status = 'failed' THEN 3 WHEN x.status IN ('transferred','reversed','partially_reversed') THEN 1 ELSE 0 END,
       CASE WHEN x.status = 'failed' THEN 'Generated failure: account_invalid' END,
       CASE WHEN x.status IN ('transferred','reversed','partially_reversed') THEN 'tr_gen_' || x.i END,
       CASE WHEN x.status IN ('transferred','reversed','partially_reversed') THEN x.completed + interval '48 hours 5 minutes' END,
       1, x.completed + interval '1 second', x.completed + interval '48 hours 5 minutes'
FROM b JOIN shaped x ON x.i = substr(b."externalId", 7)::int
`;

async function main(): Promise<void> {
  if (process.env.NODE_ENV === "production") {
    console.error("Refusing to run with NODE_ENV=production: this script writes a million fake payouts.");
    process.exit(1);
  }
  const { values } = parseArgs({
    options: { count: { type: "string" }, providers: { type: "string" }, "database-url": { type: "string" } },
  });
  const count = positiveInt(values.count, "count") ?? usage("--count is required.");
  const providers = positiveInt(values.providers, "providers") ?? Math.max(10, Math.round(count / 50));
  const databaseUrl = values["database-url"] ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const dbName = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  if (dbName === "payouts") usage("Refusing to fill the development database `payouts`: point --database-url at a scratch database.");

  if (await ensureDatabase(databaseUrl)) console.log(`Created database ${dbName}`);
  await runMigrations(databaseUrl, path.resolve("prisma/migrations"));

  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const started = performance.now();
  try {
    await client.query(
      `INSERT INTO "Provider" ("externalId", name, email, "stripeAccountId", "payoutsEnabled", "accountUpdatedAt", "createdAt", "updatedAt")
       SELECT 'gen-p-' || n,
              (ARRAY['Bright','Clean','Happy','Swift','Green','Golden','Urban','Coastal','Alpine','Prime','Blue','Silver','Nordic','Sunny','Royal'])[1 + abs(hashint4(n)) % 15]
                || ' ' ||
              (ARRAY['Cleaning','Plumbing','Tutors','Movers','Gardens','Repairs','Painters','Pet Care','Chefs','Photography','Fitness','Beauty'])[1 + abs(hashint4(n + 7)) % 12]
                || ' ' || n,
              'gen-provider-' || n || '@example.test', 'acct_gen_' || n, n % 50 <> 0, now(), now() - interval '3 years', now()
       FROM generate_series(1, $1::int) AS n
       ON CONFLICT ("externalId") DO NOTHING`,
      [providers],
    );
    await client.query(
      `CREATE TEMP TABLE gen_providers AS
       SELECT substr("externalId", 7)::int AS n, id FROM "Provider" WHERE "externalId" LIKE 'gen-p-%'`,
    );
    await client.query("CREATE UNIQUE INDEX ON gen_providers (n)");
    const providerCount = Number((await client.query<{ n: string }>("SELECT count(*) AS n FROM gen_providers")).rows[0]?.n ?? 0);

    // Rows are numbered 1..count; continue after the highest one already there.
    const existing = Number(
      (
        await client.query<{ n: string | null }>(
          `SELECT max(substr("externalId", 7)::int) AS n FROM "Booking" WHERE "externalId" LIKE 'gen-b-%'`,
        )
      ).rows[0]?.n ?? 0,
    );
    if (existing >= count) {
      console.log(`${existing} generated payouts already present (asked for ${count}); nothing to add.`);
    } else {
      console.log(`Generating payouts ${existing + 1}..${count} for ${providerCount} providers in ${dbName}`);
      for (let from = existing + 1; from <= count; from += CHUNK) {
        const to = Math.min(count, from + CHUNK - 1);
        const t = performance.now();
        await client.query("BEGIN");
        await client.query(INSERT_CHUNK, [from, to, providerCount]);
        await client.query("COMMIT");
        console.log(`  ${to.toLocaleString("en-US")} (${Math.round(performance.now() - t)} ms)`);
      }
    }
    console.log("VACUUM ANALYZE …");
    for (const table of ["Provider", "Booking", "Payout"]) await client.query(`VACUUM (ANALYZE) "${table}"`);
    const { rows } = await client.query<{ status: string; n: string }>(
      `SELECT status::text, count(*) AS n FROM "Payout" GROUP BY 1 ORDER BY 2 DESC`,
    );
    console.log(`Payouts by status: ${rows.map((r) => `${r.status} ${Number(r.n).toLocaleString("en-US")}`).join(", ")}`);
    console.log(`Done in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  } finally {
    await client.end();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
