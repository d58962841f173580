// npm run bench:statement-cost — what one statement costs this process through each way the app
// can send it (issue 13: the pipeline's CPU per payout is mostly its ≈ 55 statements). On a
// scratch database (payouts_stmt_…, created, migrated, dropped), the same one-row read by primary
// key, one at a time, N times each way, interleaved over rounds: Prisma's ORM (findUnique),
// Prisma's $queryRaw, pg's own pool with a named (prepared) and an unnamed statement, and the
// ORM read inside a Prisma interactive transaction (BEGIN, the read, COMMIT). Prints CPU µs and
// wall µs per call, and each way's CPU as a ratio of pg's named statement, measured side by side.
//
//   npm run bench:statement-cost                    5,000 calls per way per round, 3 rounds
//   npm run bench:statement-cost -- --calls 2000 --rounds 5
//   TEST_POSTGRES_URL='postgresql://postgres@localhost/postgres?host=/var/run/postgresql' npm run bench:statement-cost
//                                                   the same over PostgreSQL's Unix socket
import path from "node:path";
import { parseArgs } from "node:util";

import pg from "pg";

import { createPrismaClient } from "../lib/db.ts";
import { ensureDatabase, runMigrations } from "../lib/migrations/run-migrations.ts";
import { databaseUrl, dropDatabase, uniqueDatabaseName } from "../test/support/databases.ts";

const { values } = parseArgs({ options: { calls: { type: "string", default: "5000" }, rounds: { type: "string", default: "3" } } });
const CALLS = Number(values.calls);
const ROUNDS = Number(values.rounds);

const name = uniqueDatabaseName("payouts_stmt");
const url = databaseUrl(name);
await ensureDatabase(url);
try {
  await runMigrations(url, path.resolve("prisma/migrations"));
  const db = createPrismaClient(url, { preparedStatements: true });
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const provider = await db.provider.create({ data: { externalId: "p1", name: "P", email: "p@example.test", stripeAccountId: "acct_1" } });
  const SQL = `SELECT id, "externalId", name, email, "stripeAccountId", "payoutsEnabled" FROM "Provider" WHERE id = $1::uuid`;

  const ways: [string, () => Promise<unknown>][] = [
    ["pg, named (prepared)", () => pool.query({ name: "provider_by_id", text: SQL, values: [provider.id] })],
    ["pg, unnamed", () => pool.query({ text: SQL, values: [provider.id] })],
    [
      "Prisma $queryRaw",
      () =>
        db.$queryRaw`SELECT id, "externalId", name, email, "stripeAccountId", "payoutsEnabled" FROM "Provider" WHERE id = ${provider.id}::uuid`,
    ],
    ["Prisma findUnique", () => db.provider.findUnique({ where: { id: provider.id } })],
    ["Prisma $transaction(findUnique)", () => db.$transaction((tx) => tx.provider.findUnique({ where: { id: provider.id } }))],
  ];
  const totals = new Map(ways.map(([label]) => [label, { cpu: 0, wall: 0, calls: 0 }]));
  for (const [, call] of ways) for (let i = 0; i < 300; i++) await call(); // warm-up: plans, JIT, prepared statements

  for (let round = 1; round <= ROUNDS; round++) {
    for (const [label, call] of ways) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < CALLS; i++) await call();
      const cpu = process.cpuUsage(cpu0);
      const total = totals.get(label)!;
      total.cpu += cpu.user + cpu.system;
      total.wall += (performance.now() - t0) * 1000;
      total.calls += CALLS;
    }
  }

  const base = totals.get(ways[0]![0])!;
  console.log(`${ROUNDS} rounds × ${CALLS} calls per way, one at a time, interleaved (${url.replace(/\/\/[^@]*@/, "//")})`);
  console.log(`${"way".padEnd(34)}${"CPU µs/call".padStart(12)}${"wall µs/call".padStart(14)}${"CPU / pg named".padStart(16)}`);
  for (const [label, t] of totals) {
    const cpu = t.cpu / t.calls;
    console.log(
      `${label.padEnd(34)}${cpu.toFixed(0).padStart(12)}${(t.wall / t.calls).toFixed(0).padStart(14)}${(cpu / (base.cpu / base.calls)).toFixed(2).padStart(16)}`,
    );
  }
  await db.$disconnect();
  await pool.end();
} finally {
  await dropDatabase(name);
}
