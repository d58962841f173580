// Adversarial review of `{ genericPlan: true }` (lib/direct-sql.ts): statements found by key sent,
// outside a transaction, on a second small pool whose connections plan with `plan_cache_mode =
// force_generic_plan` (at first also the ingest's lane batches and the outbox's mark; now the two
// coalesced reads of the transfer path). Real PostgreSQL, never mocks. It found, each fixed and kept as a test: the
// SET queued behind by an unawaited query (now pg-pool's onConnect); the lane batches' DELETE and
// UPDATE locking lanes in table order while acquireLanes locks them in key order (a deadlock with
// another server's batch, on either pool; now locked in key order); `$disconnect` leaving the pools
// open when Prisma never connected. The other tests guard what was checked and holds.
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { Prisma, type PrismaClient } from "@/generated/prisma/client";
import { joinTransaction } from "@/lib/approvals/join-transaction";
import { createPrismaClient, db } from "@/lib/db";
import { directPools, sqlExecute, sqlRows, transaction } from "@/lib/direct-sql";
import { abandonLanes, acquireLanes, lookAgainAtLanes, releaseLanes, renewLanes } from "@/lib/ingest/apply-in-order";
import { publishOutbox } from "@/lib/outbox/publish-outbox";
import { readAttemptFacts, readAttemptFactsTogether } from "@/lib/payouts/attempt-facts";
import { readClaimFacts } from "@/lib/payouts/transfer-execute";

import { seedTransferredPayouts } from "../../support/transferred-payouts";

const URL_ = () => process.env.DATABASE_URL!;
const mode = Prisma.sql`SELECT current_setting('plan_cache_mode') AS mode, pg_backend_pid() AS pid`;
type TMode = { mode: string; pid: number };

/** Every statement text and its values sent on any pg client while `work` runs. */
type TStatement = { sql: string; values: unknown[] };
type TQueryFn = (this: pg.Client, ...args: unknown[]) => unknown;
const originalQuery = pg.Client.prototype.query as unknown as TQueryFn;
let capture: TStatement[] | undefined;
/** Statements handed to a pg client while it was still busy with another (pg queues them; deprecated, gone in pg@9). */
const sentWhileBusy: string[] = [];
(pg.Client.prototype as unknown as { query: TQueryFn }).query = function (this: pg.Client, ...args: unknown[]) {
  const first = args[0] as string | { text?: string; values?: unknown[] } | undefined;
  const text = typeof first === "string" ? first : first?.text;
  const state = this as unknown as { _queryQueue?: unknown[]; _activeQuery?: unknown; pipeline?: boolean };
  if (text && !state.pipeline && (state._activeQuery || (state._queryQueue?.length ?? 0) > 0)) sentWhileBusy.push(text);
  if (capture && typeof first === "object" && first?.text) capture.push({ sql: first.text, values: first.values ?? [] });
  return originalQuery.apply(this, args);
};
async function captured(work: () => Promise<unknown>): Promise<TStatement[]> {
  const seen: TStatement[] = [];
  capture = seen;
  try {
    await work();
  } finally {
    capture = undefined;
  }
  return seen;
}

const clients: PrismaClient[] = [];
function client(options: { genericPlanConnections?: number; preparedStatements?: boolean } = {}): PrismaClient {
  const made = createPrismaClient(URL_(), options);
  clients.push(made);
  return made;
}
afterAll(async () => {
  for (const made of clients) await made.$disconnect().catch(() => undefined);
});

describe("where a genericPlan statement runs, and what it sees", () => {
  beforeAll(async () => {
    await db.$executeRaw`CREATE TABLE IF NOT EXISTS review_gp_rows (id uuid PRIMARY KEY, n int NOT NULL DEFAULT 0)`;
  });
  const byIds = (ids: string[]) => Prisma.sql`SELECT id::text AS id, n FROM review_gp_rows WHERE id = ANY(${ids}::uuid[]) ORDER BY id`;

  it("a row written in autocommit on the client's own pool is seen at once on the key pool (committed before it is read)", async () => {
    for (let i = 0; i < 10; i++) {
      const id = randomUUID();
      await sqlExecute(db, Prisma.sql`INSERT INTO review_gp_rows (id, n) VALUES (${id}::uuid, ${i})`);
      expect(await sqlRows(db, byIds([id]), { genericPlan: true })).toEqual([{ id, n: i }]);
      await db.$executeRaw`UPDATE review_gp_rows SET n = n + 100 WHERE id = ${id}::uuid`;
      expect(await sqlRows(db, byIds([id]), { genericPlan: true })).toEqual([{ id, n: i + 100 }]);
    }
  });

  it("a row written in transaction() is seen on the key pool as soon as transaction() has returned", async () => {
    const id = randomUUID();
    await transaction(db, async (tx) => {
      await sqlExecute(tx, Prisma.sql`INSERT INTO review_gp_rows (id) VALUES (${id}::uuid)`);
    });
    expect(await sqlRows(db, byIds([id]), { genericPlan: true })).toEqual([{ id, n: 0 }]);
  });

  it("db.$transaction's tx (not tied): through Prisma inside that transaction, seeing its uncommitted write", async () => {
    const id = randomUUID();
    await db
      .$transaction(async (tx) => {
        await tx.$executeRaw`INSERT INTO review_gp_rows (id) VALUES (${id}::uuid)`;
        const [inside] = await sqlRows<TMode[]>(tx, mode, { genericPlan: true });
        const [prisma] = await tx.$queryRaw<TMode[]>(mode);
        expect(inside).toEqual(prisma);
        expect(inside!.mode).toBe("auto");
        expect(await sqlRows(tx, byIds([id]), { genericPlan: true })).toEqual([{ id, n: 0 }]);
        throw new Error("roll back");
      })
      .catch((error: Error) => expect(error.message).toBe("roll back"));
    expect(await sqlRows(db, byIds([id]), { genericPlan: true })).toEqual([]);
  });

  it("joinTransaction's stand-in (lib/approvals): inside the joined transaction, seeing its uncommitted write", async () => {
    const id = randomUUID();
    await transaction(db, async (tx) => {
      await sqlExecute(tx, Prisma.sql`INSERT INTO review_gp_rows (id) VALUES (${id}::uuid)`);
      const joined = joinTransaction(tx);
      expect(await sqlRows(joined, byIds([id]), { genericPlan: true })).toEqual([{ id, n: 0 }]);
      const [inJoined] = await sqlRows<TMode[]>(joined, mode, { genericPlan: true });
      expect(inJoined).toEqual((await sqlRows<TMode[]>(tx, mode))[0]);
      throw new Error("roll back");
    }).catch((error: Error) => expect(error.message).toBe("roll back"));
  });

  it("`db` inside transaction(): another connection, as before the change (never the transaction's write)", async () => {
    const id = randomUUID();
    await transaction(db, async (tx) => {
      await sqlExecute(tx, Prisma.sql`INSERT INTO review_gp_rows (id) VALUES (${id}::uuid)`);
      expect(await sqlRows(db, byIds([id]), { genericPlan: true })).toEqual([]);
      expect(await sqlRows(db, byIds([id]))).toEqual([]);
      throw new Error("roll back");
    }).catch((error: Error) => expect(error.message).toBe("roll back"));
  });

  it("a fresh key pool: the SET comes before the first statement on every new connection, named or not", async () => {
    const fresh = client({ genericPlanConnections: 4 });
    // The text is named from its second sighting on (the client's namer): see it once on the main pool first.
    const probe = Prisma.sql`SELECT current_setting('plan_cache_mode') AS mode, pg_backend_pid() AS pid, ${1}::int AS one`;
    await sqlRows(fresh, probe);
    const rows = await Promise.all(Array.from({ length: 12 }, () => sqlRows<TMode[]>(fresh, probe, { genericPlan: true })));
    expect(new Set(rows.map((r) => r[0]!.mode))).toEqual(new Set(["force_generic_plan"]));
    expect(new Set(rows.map((r) => r[0]!.pid)).size).toBeGreaterThan(1);
  });

  it("a new key connection's first statement waits for its SET to finish instead of being queued behind it (pg@9 drops the queue)", async () => {
    const before = sentWhileBusy.length;
    const fresh = client({ genericPlanConnections: 2 });
    const rows = await Promise.all([
      sqlRows<TMode[]>(fresh, mode, { genericPlan: true }),
      sqlRows<TMode[]>(fresh, mode, { genericPlan: true }),
    ]);
    expect(rows.map((r) => r[0]!.mode)).toEqual(["force_generic_plan", "force_generic_plan"]);
    // At df08033 both were queued behind the unawaited SET of the pool's 'connect' listener; pg 8.23 warns
    // "Calling client.query() when the client is already executing a query is deprecated" (gone in pg@9),
    // and a failed SET left the connection planning as `auto`, silently. Since 251ac5a: pg-pool's onConnect.
    expect(sentWhileBusy.slice(before)).toEqual([]);
  });

  it("DATABASE_GENERIC_PLAN_CONNECTIONS=0 and prepared statements off: on the client's own pool, planned as there", async () => {
    for (const options of [{ genericPlanConnections: 0 }, { preparedStatements: false }]) {
      const other = client(options);
      const [row] = await sqlRows<TMode[]>(other, mode, { genericPlan: true });
      expect(row!.mode).toBe("auto");
      expect(directPools(other)).toHaveLength(1);
    }
  });
});

describe("the key pool's life: errors, $disconnect, the process's exit", () => {
  it("a key connection the server ends mid-statement fails that statement only; the next gets a new connection", async () => {
    const other = client({ genericPlanConnections: 1 });
    const [first] = await sqlRows<TMode[]>(other, mode, { genericPlan: true });
    const slow = sqlRows(other, Prisma.sql`SELECT pg_sleep(5) AS slept`, { genericPlan: true }).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await db.$queryRaw`SELECT pg_terminate_backend(${first!.pid}::int)`;
    expect(await slow).toBeInstanceOf(Error);
    const [second] = await sqlRows<TMode[]>(other, mode, { genericPlan: true });
    expect(second!.pid).not.toBe(first!.pid);
    expect(second!.mode).toBe("force_generic_plan");
  });

  it("$disconnect after Prisma connected ends both pools, with no connection left", async () => {
    const other = createPrismaClient(URL_());
    await other.$queryRaw`SELECT 1`;
    await sqlRows(other, mode, { genericPlan: true });
    const pools = directPools(other);
    await other.$disconnect();
    expect(pools.map((pool) => [pool.ended, pool.totalCount])).toEqual([
      [true, 0],
      [true, 0],
    ]);
  });

  it("$disconnect also ends the key pool when Prisma itself never connected (only direct statements were sent)", async () => {
    const other = createPrismaClient(URL_());
    await sqlRows(other, mode, { genericPlan: true });
    const key = directPools(other)[1]!;
    const [{ pid }] = (await sqlRows<TMode[]>(other, mode, { genericPlan: true })) as [TMode];
    await other.$disconnect();
    // Prisma disposes only an adapter it connected; the client's $disconnect ends the pools itself.
    const open = await db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ${pid}::int`;
    expect({ ended: key.ended, connections: key.totalCount, serverSide: open[0]!.n }).toEqual({
      ended: true,
      connections: 0,
      serverSide: 0,
    });
  });

  it("an idle key connection never keeps the process alive (allowExitOnIdle; also checked by a script that exits in 44 ms)", async () => {
    const other = client();
    await sqlRows(other, mode, { genericPlan: true });
    const key = directPools(other)[1] as unknown as { options: { allowExitOnIdle: boolean } };
    expect(key.options.allowExitOnIdle).toBe(true);
  });
});

describe("no wait across the two pools", () => {
  it("nothing locks a row a key-pool statement writes (IngestLane, OutboxEvent) inside a transaction", () => {
    // A key-pool write can only wait on a lock held by an autocommit statement, or by the outbox's own
    // mark-and-engine-state transaction on the main pool, and none of those waits for the key pool: no cycle
    // across the two pools. (The key pool's reads, readClaimFacts and readAttemptFacts, take no row locks.)
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const full = path.join(dir, name);
        if (statSync(full).isDirectory()) walk(full);
        else if (/\.tsx?$/.test(name) && !name.endsWith(".test.ts")) files.push(full);
      }
    };
    for (const dir of ["lib", "inngest", "app"]) walk(path.resolve(dir));
    const lanes = files.filter((file) => readFileSync(file, "utf8").includes(`"IngestLane"`)).map((file) => path.relative(".", file));
    const outboxWrites = files
      .filter((file) => /(UPDATE|DELETE FROM)\s+"OutboxEvent"|outboxEvent\.(update|delete|upsert)/.test(readFileSync(file, "utf8")))
      .map((file) => path.relative(".", file));
    expect(lanes).toEqual(["lib/ingest/apply-in-order.ts"]);
    expect(outboxWrites).toEqual(["lib/outbox/publish-outbox.ts"]);
  });

  it("a key-pool lane statement waiting on a lane's row lock goes on once it is let go; the main pool is not held up meanwhile", async () => {
    const other = client({ genericPlanConnections: 1 });
    const key = `booking:review-wait-${randomUUID()}`;
    const mine = randomUUID();
    expect(await acquireLanes(other, [key], mine)).toEqual(new Set([key]));
    const locker = new pg.Client({ connectionString: URL_() });
    await locker.connect();
    try {
      await locker.query("BEGIN");
      await locker.query(`SELECT 1 FROM "IngestLane" WHERE key = $1 FOR UPDATE`, [key]);
      const renewing = renewLanes(other, [key], mine);
      const queued = sqlRows<TMode[]>(other, mode, { genericPlan: true });
      expect((await sqlRows<TMode[]>(other, mode))[0]!.mode).toBe("auto");
      await new Promise((resolve) => setTimeout(resolve, 200));
      await locker.query("COMMIT");
      expect(await renewing).toEqual(new Set([key]));
      expect((await queued)[0]!.mode).toBe("force_generic_plan");
    } finally {
      await locker.end();
    }
    expect(await releaseLanes(other, [key], mine)).toEqual(new Set([key]));
  });

  // acquireLanes inserts its lanes in key order "so two batches never wait on each other in a cycle";
  // releaseLanes, abandonLanes, renewLanes and lookAgainAtLanes lock theirs in the order the plan
  // reads the table (a bitmap heap scan or a sequential scan: the rows' physical order), so a batch
  // letting go of lanes X < Y that lie Y-before-X in the table and another server's batch taking X
  // and Y deadlock. A trigger that sleeps on the first lane (instrumentation only) makes the window
  // certain; in production it is a matter of timing (a random race of six batches over 24 lanes
  // deadlocked 6 times in 180 rounds, with the key pool and without it).
  describe("lane batches and another server's take of the same lanes", () => {
    beforeAll(async () => {
      await db.$executeRawUnsafe(`
        CREATE OR REPLACE FUNCTION review_gp_slow_lane() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.key LIKE 'booking:review-slow-%' AND (TG_OP = 'DELETE' OR NOT NEW.dirty) THEN PERFORM pg_sleep(0.4); END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$`);
      await db.$executeRawUnsafe(
        `CREATE TRIGGER review_gp_slow_lane BEFORE DELETE OR UPDATE ON "IngestLane" FOR EACH ROW EXECUTE FUNCTION review_gp_slow_lane()`,
      );
    });
    afterAll(async () => {
      await db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS review_gp_slow_lane ON "IngestLane"`);
    });

    const statements = { releaseLanes, abandonLanes, renewLanes, lookAgainAtLanes } as const;
    // Found on both pools (the lane batches were sent on the key pool at first; they are on the
    // client's own pool now): with and without key connections.
    const cases = [
      ...Object.entries(statements).map(([name, letGo]) => ({ name, letGo, connections: 2, where: "(key connections configured)" })),
      { name: "releaseLanes", letGo: releaseLanes, connections: 0, where: "(no key connections)" },
    ];
    for (const { name, letGo, connections, where } of cases) {
      it(`${name} ${where} of lanes X < Y (Y first in the table) while another batch takes X and Y: neither fails with a deadlock`, async () => {
        const [first, second] = [client({ genericPlanConnections: connections }), client({ genericPlanConnections: connections })];
        const tag = randomUUID().slice(0, 8);
        const x = `booking:review-a-${tag}`;
        const y = `booking:review-slow-${tag}`;
        const holder = randomUUID();
        expect(await acquireLanes(first, [y], holder)).toEqual(new Set([y]));
        expect(await acquireLanes(first, [x], holder)).toEqual(new Set([x]));
        const physical = await db.$queryRaw<{ key: string }[]>`SELECT key FROM "IngestLane" WHERE key IN (${x}, ${y}) ORDER BY ctid`;
        expect(physical.map((row) => row.key)).toEqual([y, x]);
        const letting = (letGo as (db: PrismaClient, keys: string[], token: string) => Promise<unknown>)(first, [x, y], holder);
        await new Promise((resolve) => setTimeout(resolve, 150));
        const taking = acquireLanes(second, [x, y], randomUUID());
        const outcomes = await Promise.allSettled([letting, taking]);
        expect(outcomes.map((o) => (o.status === "rejected" ? (o.reason as Error).message : "ok"))).toEqual(["ok", "ok"]);
      });
    }
  });
});

// Every statement marked genericPlan, as the app sends it, planned once without its values (as the
// key pool runs it) against planned with them, on tables of a realistic size: the pages each reads
// (deterministic, unlike time) and any whole-table read of a large table.
describe("the generic plans of the marked statements, on tables of a realistic size", () => {
  const PAYOUTS = 40_000;
  const LARGE = [
    "Provider",
    "Payout",
    "Booking",
    "PayoutTransfer",
    "TransferAttempt",
    "Tip",
    "StripeCharge",
    "Dispute",
    "OutboxEvent",
    "IngestLane",
  ];
  let legs: { payoutId: string; legId: string }[] = [];
  let unsent: string[] = [];

  beforeAll(async () => {
    await seedTransferredPayouts(db, { prefix: "gp", providers: 20_000, payouts: PAYOUTS });
    await db.$executeRawUnsafe(`
      INSERT INTO "TransferAttempt" ("payoutId", "attemptNumber", amount, currency, "amountVersion", "idempotencyKey", status, "startedAt")
      SELECT p.id, n, p.amount, p.currency, 1, 'gp-att-' || p.id || '-' || n, 'succeeded', p."eligibleAt"
      FROM "Payout" p CROSS JOIN generate_series(1, 3) AS n WHERE n = 1 OR abs(hashtext(p.id::text)) % 10 = 0`);
    await db.$executeRawUnsafe(`
      INSERT INTO "Tip" ("externalId", "bookingId", "payoutId", amount, currency, status, "stripeChargeId", "tippedAt")
      SELECT 'gp-tip-' || p.id || '-' || n, p."bookingId", p.id, 500, 'USD', CASE WHEN n = 1 THEN 'accepted' ELSE 'rejected' END::"TipStatus",
             'ch_gp_tip_' || p.id || '_' || n, p."createdAt"
      FROM "Payout" p CROSS JOIN generate_series(1, 2) AS n WHERE abs(hashtext(p.id::text)) % 5 = 0`);
    await db.$executeRawUnsafe(`
      INSERT INTO "StripeCharge" (id, amount, currency, "settlementCurrency", "settledAmount", "fetchedAt")
      SELECT "stripeChargeId", 10000, 'USD', 'USD', 10000, now() FROM "Booking" WHERE "externalId" LIKE 'gp-b-%'`);
    await db.$executeRawUnsafe(`
      INSERT INTO "Dispute" ("bookingId", status, currency, "openedAt")
      SELECT id, CASE WHEN abs(hashtext(id::text)) % 4 = 0 THEN 'open' ELSE 'resolved' END::"DisputeStatus", 'USD', now()
      FROM "Booking" WHERE abs(hashtext(id::text)) % 50 = 0`);
    await db.$executeRawUnsafe(`
      INSERT INTO "OutboxEvent" ("eventId", name, data, attempts, "createdAt", "sentAt")
      SELECT 'gp-ev-' || n, 'payout/transfer.requested', '{}'::jsonb, 1, now() - make_interval(secs => n), CASE WHEN n > 300 THEN now() END
      FROM generate_series(1, 100000) AS n`);
    // Lanes left by holders that crashed (a delivery's own lane is never taken again), beside the live ones.
    await db.$executeRawUnsafe(`
      INSERT INTO "IngestLane" (key, token, "leasedUntil") SELECT 'delivery:gp-' || n, gen_random_uuid(), now() - interval '1 day'
      FROM generate_series(1, 5000) AS n`);
    await db.systemState.upsert({
      where: { key: "stripe_platform_currencies" },
      create: { key: "stripe_platform_currencies", value: { currencies: ["usd"], checkedAt: new Date().toISOString() } },
      update: {},
    });
    for (const table of LARGE) await db.$executeRawUnsafe(`VACUUM (ANALYZE) "${table}"`);
    legs = await db.$queryRaw<{ payoutId: string; legId: string }[]>`
      SELECT "payoutId"::text AS "payoutId", id::text AS "legId" FROM "PayoutTransfer" ORDER BY random() LIMIT 120`;
    unsent = (await db.$queryRaw<{ eventId: string }[]>`SELECT "eventId" FROM "OutboxEvent" WHERE "sentAt" IS NULL ORDER BY "eventId"`).map(
      (row) => row.eventId,
    );
  }, 300_000);

  /** The SQL literal of a parameter as pg sends it (arrays as array text). */
  function literal(value: unknown): string {
    if (value === null || value === undefined) return "NULL";
    const text = Array.isArray(value)
      ? `{${value.map((item) => (item === null ? "NULL" : `"${String(item).replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`)).join(",")}}`
      : value instanceof Date
        ? value.toISOString()
        : String(value);
    return `'${text.replaceAll("'", "''")}'`;
  }

  type TPlanNode = {
    "Node Type": string;
    "Relation Name"?: string;
    Plans?: TPlanNode[];
    "Shared Hit Blocks"?: number;
    "Shared Read Blocks"?: number;
  };
  const seqScans = (node: TPlanNode): string[] => [
    ...(node["Node Type"] === "Seq Scan" && node["Relation Name"] ? [node["Relation Name"]] : []),
    ...(node.Plans ?? []).flatMap(seqScans),
  ];

  /** Pages read and whole-table reads of a statement under one plan_cache_mode (its writes rolled back). */
  async function planned(connection: pg.Client, { sql, values }: TStatement, planMode: string): Promise<{ pages: number; seq: string[] }> {
    await connection.query("BEGIN");
    try {
      await connection.query(`SET LOCAL plan_cache_mode = ${planMode}`);
      await connection.query(`PREPARE review_gp_plan AS ${sql}`);
      const { rows } = await connection.query<{ "QUERY PLAN": [{ Plan: TPlanNode }] }>(
        `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE review_gp_plan(${values.map(literal).join(", ")})`,
      );
      const plan = rows[0]!["QUERY PLAN"][0].Plan;
      return { pages: Number(plan["Shared Hit Blocks"] ?? 0) + Number(plan["Shared Read Blocks"] ?? 0), seq: seqScans(plan) };
    } finally {
      await connection.query("ROLLBACK");
      await connection.query("DEALLOCATE ALL");
    }
  }

  it("every marked statement: no dearer planned once than planned for its values, and no large table read whole", async () => {
    const token = randomUUID();
    const lanes = [...Array.from({ length: 6 }, (_, i) => `booking:gp-live-${i}`), "delivery:gp-17", "delivery:gp-4242"];
    const sent = await captured(async () => {
      await readClaimFacts(db, legs.slice(0, 3));
      await readClaimFacts(db, legs);
      await readAttemptFacts(db, legs[0]!.payoutId);
      // Coalesced: the runs of this process that ask at the same moment, in one statement.
      await Promise.all(legs.slice(0, 40).map((leg) => readAttemptFactsTogether(db, leg.payoutId)));
      const held = await acquireLanes(db, lanes, token);
      await renewLanes(db, [...held], token);
      await lookAgainAtLanes(db, [...held], token);
      await releaseLanes(db, [...held].slice(0, 3), token);
      await abandonLanes(db, [...held], token);
      // The first mark may go with the engine's state in a transaction; the next ones are on the key pool.
      const send = async () => undefined;
      await publishOutbox(db, { eventIds: unsent.slice(0, 2), send, now: new Date() });
      await publishOutbox(db, { eventIds: unsent.slice(2, 6), send, now: new Date() });
      await publishOutbox(db, { eventIds: unsent.slice(6), limit: 1000, send, now: new Date() });
    });
    const marked = [
      /WITH ORDINALITY AS x\("payoutId", "legId", i\)/,
      /AS "knownChargeIds"/,
      /INSERT INTO "IngestLane" AS lane[\s\S]*unnest/,
      /held AS \([\s\S]*= ANY[\s\S]*(DELETE FROM|UPDATE) "IngestLane"/,
      /UPDATE "OutboxEvent" SET "sentAt"/,
    ];
    const statements = sent.filter((statement) => marked.some((pattern) => pattern.test(statement.sql)));
    expect(new Set(statements.map((statement) => marked.findIndex((pattern) => pattern.test(statement.sql))))).toEqual(
      new Set([0, 1, 2, 3, 4]),
    );
    const connection = new pg.Client({ connectionString: URL_() });
    await connection.connect();
    const worse: string[] = [];
    try {
      for (const statement of statements) {
        const generic = await planned(connection, statement, "force_generic_plan");
        const custom = await planned(connection, statement, "force_custom_plan");
        const large = generic.seq.filter((relation) => LARGE.includes(relation));
        if (generic.pages > 3 * custom.pages + 100 || large.length > 0) {
          worse.push(
            `${generic.pages} pages planned once (whole: ${large.join(", ") || "none"}), ${custom.pages} for its values: ${statement.sql}`,
          );
        }
      }
    } finally {
      await connection.end();
    }
    expect(worse).toEqual([]);
  });

  it("the same statements on the key pool itself: each planned generic there, never for its values", async () => {
    const keyPool = directPools(db)[1]!;
    const connections = await Promise.all(Array.from({ length: keyPool.totalCount }, () => keyPool.connect()));
    try {
      const plans = { custom: 0, generic: 0, named: 0 };
      for (const connection of connections) {
        const { rows } = await connection.query<{ custom: number; generic: number }>(
          `SELECT custom_plans::int AS custom, generic_plans::int AS generic FROM pg_prepared_statements
           WHERE statement ~ '"IngestLane"|"OutboxEvent"|knownChargeIds|WITH ORDINALITY'`,
        );
        for (const row of rows) {
          plans.custom += row.custom;
          plans.generic += row.generic;
          plans.named += 1;
        }
      }
      expect(plans.named).toBeGreaterThan(0);
      expect(plans.custom).toBe(0);
    } finally {
      for (const connection of connections) connection.release();
    }
  });
});
