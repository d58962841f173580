// What the triggers that keep the overview's totals (PayoutTotalDelta, migration
// 20261219000000_overview_totals) add to payout writes, side by side on one database: the same
// single-row UPDATEs by primary key on two connections, one with the triggers (as the app runs)
// and one without (`session_replication_role = replica` turns triggers off for that session only;
// needs a superuser, as the local postgres user is). Batches interleave (A, B, B, A, …) so both
// see the same machine load. Two kinds of update: a status change (the trigger appends two delta
// rows: −1 from the old status, +1 to the new one) and a change of no total (attempts, lastError,
// version: the trigger runs and appends nothing). Each payout is changed and changed back, so the
// payouts end as they started and the kept totals stay exact. Prints per-update p50/p95/mean, in
// autocommit (a commit per update, as the app does) and inside one transaction (no commit cost:
// the trigger's own CPU), then one statement updating many rows with and without.
//
//   tsx scripts/bench-payout-totals.ts --database-url postgresql://postgres@127.0.0.1:5432/payouts_bench_1m [--updates 2000]
//
// Scratch databases only (it writes payouts; it refuses `payouts` and NODE_ENV=production).
import { parseArgs } from "node:util";

import pg from "pg";

const { values } = parseArgs({
  options: { "database-url": { type: "string" }, updates: { type: "string", default: "2000" }, batch: { type: "string", default: "100" } },
});
const url = values["database-url"];
if (!url) throw new Error("--database-url is required (a scratch database with payouts, e.g. one made by generate-payouts.ts).");
if (decodeURIComponent(new URL(url).pathname.slice(1)) === "payouts" || process.env.NODE_ENV === "production")
  throw new Error("Refusing to write to the development database `payouts` or in production.");
const UPDATES = Number(values.updates);
const BATCH = Number(values.batch);

type TSide = { name: string; client: pg.Client; ids: string[]; ms: number[] };

async function side(name: string, triggers: boolean, ids: string[]): Promise<TSide> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  if (!triggers) await client.query("SET session_replication_role = replica");
  return { name, client, ids, ms: [] };
}

function stats(ms: number[]) {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN;
  return { p50: at(0.5), p95: at(0.95), mean: ms.reduce((s, x) => s + x, 0) / ms.length };
}

const STATEMENTS = {
  "status change": [
    `UPDATE "Payout" SET status = 'cancelled', "version" = "version" + 1 WHERE id = $1`,
    `UPDATE "Payout" SET status = 'failed', "version" = "version" + 1 WHERE id = $1`,
  ],
  "no total changed": [
    `UPDATE "Payout" SET attempts = attempts + 1, "lastError" = 'bench', "version" = "version" + 1 WHERE id = $1`,
    `UPDATE "Payout" SET attempts = attempts - 1, "lastError" = 'Generated failure: account_invalid', "version" = "version" + 1 WHERE id = $1`,
  ],
} as const;

/** Runs `UPDATES` updates on each side (each payout changed, then changed back), in interleaved batches. */
async function run(sides: [TSide, TSide], statements: readonly [string, string], inTransaction: boolean): Promise<void> {
  for (const s of sides) s.ms = [];
  let round = 0;
  for (let done = 0; done < UPDATES; done += BATCH, round += 1) {
    const order = round % 2 === 0 ? sides : ([sides[1], sides[0]] as const);
    for (const s of order) {
      if (inTransaction) await s.client.query("BEGIN");
      for (let i = done; i < Math.min(UPDATES, done + BATCH); i += 1) {
        const id = s.ids[Math.floor(i / 2) % s.ids.length]!;
        const started = performance.now();
        await s.client.query(statements[i % 2]!, [id]);
        s.ms.push(performance.now() - started);
      }
      if (inTransaction) await s.client.query("COMMIT");
    }
  }
}

async function main(): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const { rows } = await admin.query<{ id: string }>(`SELECT id FROM "Payout" WHERE status = 'failed' ORDER BY id LIMIT $1`, [
    Math.max(2, UPDATES),
  ]);
  if (rows.length < 2) throw new Error("Needs failed payouts to flip (generate-payouts.ts makes ≈ 2 % of them failed).");
  const half = Math.floor(rows.length / 2);
  const withTriggers = await side(
    "with triggers",
    true,
    rows.slice(0, half).map((r) => r.id),
  );
  const without = await side(
    "without",
    false,
    rows.slice(half).map((r) => r.id),
  );
  const sides: [TSide, TSide] = [withTriggers, without];
  const deltaRows = async () => Number((await admin.query<{ n: string }>(`SELECT count(*) AS n FROM "PayoutTotalDelta"`)).rows[0]?.n ?? 0);

  console.log(`${UPDATES} single-row UPDATEs per side and case (after as many to warm up), batches of ${BATCH}, interleaved`);
  console.log("case                                   with p50 / p95 / mean     without p50 / p95 / mean   mean added");
  for (const [kind, statements] of Object.entries(STATEMENTS)) {
    for (const inTransaction of [false, true]) {
      await run(sides, statements, inTransaction); // warm-up
      const rowsBefore = await deltaRows();
      await run(sides, statements, inTransaction);
      const appended = (await deltaRows()) - rowsBefore;
      const [a, b] = sides.map((s) => stats(s.ms)) as [ReturnType<typeof stats>, ReturnType<typeof stats>];
      const f = (x: number) => x.toFixed(3).padStart(6);
      console.log(
        `${`${kind}, ${inTransaction ? "one transaction" : "autocommit"}`.padEnd(38)} ${f(a.p50)} / ${f(a.p95)} / ${f(a.mean)} ms` +
          `   ${f(b.p50)} / ${f(b.p95)} / ${f(b.mean)} ms   ${f(a.mean - b.mean)} ms  (${appended} delta rows appended)`,
      );
    }
  }

  // One statement changing many rows: the trigger reads the transition tables once.
  const ids = rows.map((r) => r.id);
  for (const s of sides) {
    const t: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      for (const sql of STATEMENTS["status change"]) {
        const started = performance.now();
        await s.client.query(sql.replace("id = $1", "id = ANY($1::uuid[])"), [ids]);
        t.push(performance.now() - started);
      }
    }
    console.log(`one UPDATE of ${ids.length} rows (status change), ${s.name}: ${t.map((x) => x.toFixed(1)).join(", ")} ms`);
  }

  const { rows: mismatch } = await admin.query<{ n: string }>(
    `WITH computed AS (SELECT status, currency, count(*)::bigint AS n, sum(amount)::bigint AS amount FROM "Payout" GROUP BY 1, 2),
          kept AS (SELECT status, currency, sum(count)::bigint AS n, sum(amount)::bigint AS amount
                   FROM "PayoutTotalDelta" GROUP BY 1, 2 HAVING sum(count) <> 0 OR sum(amount) <> 0)
     SELECT count(*) AS n FROM ((TABLE computed EXCEPT TABLE kept) UNION ALL (TABLE kept EXCEPT TABLE computed)) x`,
  );
  console.log(`Kept totals vs computed from scratch: ${mismatch[0]?.n === "0" ? "equal" : `${mismatch[0]?.n} keys differ`}`);
  for (const s of sides) await s.client.end();
  await admin.end();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
