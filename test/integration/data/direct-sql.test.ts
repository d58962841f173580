// Statements sent to pg directly (lib/direct-sql.ts) against the same statements through Prisma's
// `$queryRaw`, which is the oracle: the same rows with the same JavaScript types, the same errors,
// on the same connection inside a transaction, and nothing sent once the transaction has ended.
import type pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";

import { Prisma } from "@/generated/prisma/client";
import { createPrismaClient, db } from "@/lib/db";
import { directPools, sendsDirectly, sqlExecute, sqlRows, transaction } from "@/lib/direct-sql";

const EVERY_TYPE = (at: Date) => Prisma.sql`
  SELECT 1::int AS int4, 2::smallint AS int2, 9007199254740993::bigint AS int8, 12.345::numeric(10, 3) AS numeric,
    1.5::float8 AS float8, 'text'::text AS text, 'x'::varchar(3) AS varchar, true AS bool,
    'b3c1a9f4-2a55-4c3e-9d0a-1f6a1f2e3d4c'::uuid AS uuid,
    ${at}::timestamptz AS timestamptz, '2026-12-06 01:02:03.456'::timestamp AS timestamp, '2026-12-06'::date AS date,
    '{"a": [1, "two", null]}'::json AS json, '{"b": {"c": true}}'::jsonb AS jsonb,
    ARRAY['p', 'q']::text[] AS texts, ARRAY[1, 2]::int[] AS ints, ARRAY[3, 4]::bigint[] AS bigints,
    ARRAY[1.25]::numeric[] AS numerics, NULL::text AS nothing, NULL::bigint AS no_bigint,
    'scheduled'::"PayoutStatus" AS status, count(*) AS counted, '\\x0102'::bytea AS bytes
  FROM (VALUES (1), (2)) v(n)`;

const PARAMETERS = (at: Date) => Prisma.sql`
  SELECT ${at}::timestamptz AS at, ${at}::timestamp AS at_plain, ${12345678901234n}::bigint AS big,
    ${new Prisma.Decimal("1.10")}::numeric AS dec, ${["a", "b"]}::text[] AS list, ${[1, 2]}::int[] AS ints,
    ${null}::text AS none, ${true}::boolean AS yes, ${JSON.stringify({ k: [1] })}::jsonb AS doc, ${"o'brien"} AS quoted,
    ${7} AS seven`;

describe("sqlRows gives what $queryRaw gives", () => {
  const at = new Date("2026-12-06T01:02:03.456Z");

  it("every column type the engine reads, outside a transaction and inside one", async () => {
    expect(sendsDirectly(db)).toBe(true);
    const expected = await db.$queryRaw(EVERY_TYPE(at));
    expect(await sqlRows(db, EVERY_TYPE(at))).toEqual(expected);
    await transaction(db, async (tx) => {
      expect(sendsDirectly(tx)).toBe(true);
      expect(await sqlRows(tx, EVERY_TYPE(at))).toEqual(await tx.$queryRaw(EVERY_TYPE(at)));
    });
    expect(expected).toEqual([
      expect.objectContaining({ int8: 9007199254740993n, counted: 2n, timestamptz: at, date: new Date("2026-12-06T00:00:00Z") }),
    ]);
  });

  it("parameters of every kind the engine sends", async () => {
    const expected = await db.$queryRaw(PARAMETERS(at));
    expect(await sqlRows(db, PARAMETERS(at))).toEqual(expected);
    expect(expected).toEqual([expect.objectContaining({ at, at_plain: at, big: 12345678901234n, quoted: "o'brien", seven: "7" })]);
  });

  it("a failing statement fails as $queryRaw's does (P2010, PostgreSQL's code and message)", async () => {
    const bad = Prisma.sql`SELECT 1 / ${0}::int AS x`;
    const viaPrisma = await db.$queryRaw(bad).catch((error: unknown) => error);
    const direct = await sqlRows(db, bad).catch((error: unknown) => error);
    expect(direct).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    expect(viaPrisma).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
    // Prisma's message opens with where it was called from; what failed is the same.
    expect(direct).toMatchObject({ code: "P2010", message: "Raw query failed. Code: `22012`. Message: `division by zero`" });
    expect((viaPrisma as Error).message.endsWith((direct as Error).message)).toBe(true);
  });

  it("sqlExecute counts the rows changed, as $executeRaw does", async () => {
    await db.$executeRaw`CREATE TABLE IF NOT EXISTS direct_sql_counts (n int)`;
    await sqlExecute(db, Prisma.sql`INSERT INTO direct_sql_counts SELECT generate_series(1, 3)`);
    expect(await sqlExecute(db, Prisma.sql`UPDATE direct_sql_counts SET n = n + 1`)).toBe(
      await db.$executeRaw`UPDATE direct_sql_counts SET n = n + 1`,
    );
    expect(await sqlExecute(db, Prisma.sql`DELETE FROM direct_sql_counts`)).toBe(3);
  });
});

describe("transaction: direct statements inside Prisma's transaction", () => {
  const backend = Prisma.sql`SELECT pg_backend_pid() AS pid, txid_current() AS xid`;

  it("run on the transaction's connection and in the transaction itself", async () => {
    await transaction(db, async (tx) => {
      const [direct] = await sqlRows<{ pid: number; xid: bigint }[]>(tx, backend);
      const [viaPrisma] = await tx.$queryRaw<{ pid: number; xid: bigint }[]>(backend);
      expect(direct).toEqual(viaPrisma);
    });
  });

  it("roll back with it: a row written directly is gone when the work throws, and seen by Prisma before", async () => {
    await db.$executeRaw`CREATE TABLE IF NOT EXISTS direct_sql_rollback (n int)`;
    const failed = await transaction(db, async (tx) => {
      await sqlExecute(tx, Prisma.sql`INSERT INTO direct_sql_rollback VALUES (1)`);
      expect(await tx.$queryRaw`SELECT n FROM direct_sql_rollback`).toEqual([{ n: 1 }]);
      throw new Error("roll it back");
    }).catch((error: Error) => error.message);
    expect(failed).toBe("roll it back");
    expect(await sqlRows(db, Prisma.sql`SELECT n FROM direct_sql_rollback`)).toEqual([]);
  });

  it("a statement sent after the transaction ended fails and runs nowhere (not on the pooled connection)", async () => {
    await db.$executeRaw`CREATE TABLE IF NOT EXISTS direct_sql_late (n int)`;
    let kept: Parameters<Parameters<typeof transaction>[1]>[0] | undefined;
    await transaction(db, async (tx) => {
      kept = tx;
      expect(sendsDirectly(tx)).toBe(true);
      await sqlRows(tx, Prisma.sql`SELECT 1`);
    });
    await expect(sqlExecute(kept!, Prisma.sql`INSERT INTO direct_sql_late VALUES (1)`)).rejects.toMatchObject({ code: "P2028" });
    // The connection went back to the pool: a transaction that takes it sees no row either.
    await transaction(db, async (tx) => expect(await sqlRows(tx, Prisma.sql`SELECT n FROM direct_sql_late`)).toEqual([]));
    expect(await db.$queryRaw`SELECT n FROM direct_sql_late`).toEqual([]);
  });

  it("one that timed out: the late statement fails instead of running outside it", async () => {
    await db.$executeRaw`CREATE TABLE IF NOT EXISTS direct_sql_timeout (n int)`;
    const outcome = await transaction(
      db,
      async (tx) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        await sqlExecute(tx, Prisma.sql`INSERT INTO direct_sql_timeout VALUES (1)`);
      },
      { timeout: 100 },
    ).catch((error: { code?: string }) => error.code);
    expect(outcome).toBe("P2028");
    expect(await db.$queryRaw`SELECT n FROM direct_sql_timeout`).toEqual([]);
  });

  it("a transaction opened inside the work is a transaction of its own (its own connection), whichever way it is opened", async () => {
    await transaction(db, async (tx) => {
      const [outer] = await sqlRows<{ pid: number; xid: bigint }[]>(tx, backend);
      const inner = await transaction(db, async (other) => (await sqlRows<{ pid: number; xid: bigint }[]>(other, backend))[0]);
      const plain = await db.$transaction(async (other) => (await sqlRows<{ pid: number; xid: bigint }[]>(other, backend))[0]);
      expect(inner!.pid).not.toBe(outer!.pid);
      expect(plain!.pid).not.toBe(outer!.pid);
      expect((await sqlRows<{ pid: number }[]>(tx, backend))[0]!.pid).toBe(outer!.pid);
    });
  });

  it("transactions at once each keep their own connection", async () => {
    const seen = await Promise.all(
      Array.from({ length: 8 }, () =>
        transaction(db, async (tx) => {
          const [direct] = await sqlRows<{ pid: number; xid: bigint }[]>(tx, backend);
          await new Promise((resolve) => setTimeout(resolve, 5));
          const [viaPrisma] = await tx.$queryRaw<{ pid: number; xid: bigint }[]>(backend);
          expect(direct).toEqual(viaPrisma);
          return direct!.xid;
        }),
      ),
    );
    expect(new Set(seen).size).toBe(8);
  });

  it("one text sent both ways, many times on one connection: one prepared statement name, no clash", async () => {
    const text = (n: number) => Prisma.sql`SELECT ${n}::int + 1 AS next`;
    await transaction(db, async (tx) => {
      for (let n = 0; n < 6; n++) {
        expect(await sqlRows(tx, text(n))).toEqual([{ next: n + 1 }]);
        expect(await tx.$queryRaw(text(n))).toEqual([{ next: n + 1 }]);
      }
    });
  });

  it("a transaction client it does not know (db.$transaction's) goes through Prisma, inside that transaction", async () => {
    await db.$transaction(async (tx) => {
      expect(sendsDirectly(tx)).toBe(false);
      const [direct] = await sqlRows<{ pid: number; xid: bigint }[]>(tx, backend);
      const [viaPrisma] = await tx.$queryRaw<{ pid: number; xid: bigint }[]>(backend);
      expect(direct).toEqual(viaPrisma);
    });
  });
});

describe("genericPlan: statements found by key, planned once", () => {
  const mode = Prisma.sql`SELECT current_setting('plan_cache_mode') AS mode, pg_backend_pid() AS pid`;
  // A list parameter on a table with rows and a primary key: without the list, PostgreSQL estimates
  // it at 10 elements, so a plan made without it looks 5 times dearer than one made for a list of 2,
  // and on its own PostgreSQL plans the statement for each call's list however often it runs.
  const byList = (ids: string[]) => Prisma.sql`SELECT count(*)::int AS n FROM direct_sql_keyed WHERE id = ANY(${ids}::uuid[])`;
  const someIds = () => [crypto.randomUUID(), crypto.randomUUID()];
  const plansOf = async (client: { query: pg.Pool["query"] }, text: string) => {
    const { rows } = await client.query<{ custom: number; generic: number }>(
      "SELECT custom_plans::int AS custom, generic_plans::int AS generic FROM pg_prepared_statements WHERE statement = $1",
      [text],
    );
    return rows[0] ?? { custom: 0, generic: 0 };
  };

  beforeAll(async () => {
    await db.$executeRaw`CREATE TABLE IF NOT EXISTS direct_sql_keyed (id uuid PRIMARY KEY)`;
    await db.$executeRaw`INSERT INTO direct_sql_keyed SELECT gen_random_uuid() FROM generate_series(1, 2000) ON CONFLICT DO NOTHING`;
    await db.$executeRaw`ANALYZE direct_sql_keyed`;
  });

  it("outside a transaction: on connections that plan it once, apart from the client's own", async () => {
    const [keyed] = await sqlRows<{ mode: string; pid: number }[]>(db, mode, { genericPlan: true });
    const [plain] = await sqlRows<{ mode: string; pid: number }[]>(db, mode);
    expect(keyed!.mode).toBe("force_generic_plan");
    expect(plain!.mode).toBe("auto");
    expect(keyed!.pid).not.toBe(plain!.pid);
    expect((await db.$queryRaw<{ mode: string }[]>(mode))[0]!.mode).toBe("auto");
  });

  it("a list lookup run many times: one generic plan, never planned for its values", async () => {
    for (let n = 0; n < 8; n++) expect(await sqlRows(db, byList(someIds()), { genericPlan: true })).toEqual([{ n: 0 }]);
    const keyPool = directPools(db)[1]!;
    // Every connection of the key pool at once, so that each is asked.
    const clients = await Promise.all(Array.from({ length: keyPool.totalCount }, () => keyPool.connect()));
    try {
      const plans = { custom: 0, generic: 0 };
      for (const client of clients) {
        const row = await plansOf(client, byList([]).text);
        plans.custom += row.custom;
        plans.generic += row.generic;
      }
      // Named the second time it was seen (lib/statement-names.ts), then generic on every run.
      expect(plans).toEqual({ custom: 0, generic: 7 });
    } finally {
      for (const client of clients) client.release();
    }
  });

  it("the same statement without it, on the client's own connection: planned for its values on every run", async () => {
    await transaction(db, async (tx) => {
      for (let n = 0; n < 12; n++) await sqlRows(tx, byList(someIds()));
      const [row] = await tx.$queryRaw<{ custom: number; generic: number }[]>`
        SELECT custom_plans::int AS custom, generic_plans::int AS generic FROM pg_prepared_statements WHERE statement = ${byList([]).text}`;
      // Named the second time its text was seen, here or before (the namer is the client's).
      expect(row!.generic).toBe(0);
      expect(row!.custom).toBeGreaterThanOrEqual(11);
    });
  });

  it("inside a transaction: on the transaction's connection, seeing its writes", async () => {
    const id = crypto.randomUUID();
    await transaction(db, async (tx) => {
      await sqlExecute(tx, Prisma.sql`INSERT INTO direct_sql_keyed VALUES (${id}::uuid)`);
      const [inside] = await sqlRows<{ pid: number }[]>(tx, mode, { genericPlan: true });
      const [viaPrisma] = await tx.$queryRaw<{ pid: number }[]>(mode);
      expect(inside!.pid).toBe(viaPrisma!.pid);
      expect(await sqlRows(tx, byList([id]), { genericPlan: true })).toEqual([{ n: 1 }]);
      throw new Error("roll back");
    }).catch((error: unknown) => expect((error as Error).message).toBe("roll back"));
    expect(await sqlRows(db, byList([id]), { genericPlan: true })).toEqual([{ n: 0 }]);
  });

  it("a failing statement fails as any other (P2010)", async () => {
    const bad = Prisma.sql`SELECT 1 / ${0}::int AS x`;
    await expect(sqlRows(db, bad, { genericPlan: true })).rejects.toMatchObject({
      code: "P2010",
      message: "Raw query failed. Code: `22012`. Message: `division by zero`",
    });
  });

  it("a key connection the server ends while idle is replaced, and nothing throws elsewhere", async () => {
    const client = createPrismaClient(process.env.DATABASE_URL!);
    try {
      const [first] = await sqlRows<{ pid: number }[]>(client, mode, { genericPlan: true });
      await db.$queryRaw`SELECT pg_terminate_backend(${first!.pid}::int)`;
      // The pool hears of it as an idle client's error, and drops the connection.
      await expect.poll(() => directPools(client)[1]!.totalCount).toBe(0);
      const [second] = await sqlRows<{ pid: number; mode: string }[]>(client, mode, { genericPlan: true });
      expect(second).toEqual({ pid: expect.not.stringMatching(String(first!.pid)) as unknown, mode: "force_generic_plan" });
    } finally {
      await client.$disconnect();
    }
  });

  it("the client's own pool used directly before Prisma connects: a connection the server ends is dropped too", async () => {
    const client = createPrismaClient(process.env.DATABASE_URL!);
    try {
      const [first] = await sqlRows<{ pid: number }[]>(client, mode);
      await db.$queryRaw`SELECT pg_terminate_backend(${first!.pid}::int)`;
      await expect.poll(() => directPools(client)[0]!.totalCount).toBe(0);
      expect(await sqlRows(client, Prisma.sql`SELECT 1 AS one`)).toEqual([{ one: 1 }]);
    } finally {
      await client.$disconnect();
    }
  });

  it.each([
    ["without prepared statements (a transaction-mode pooler)", { preparedStatements: false }],
    ["none configured (DATABASE_GENERIC_PLAN_CONNECTIONS=0, behind a transaction-mode pooler)", { genericPlanConnections: 0 }],
  ])("%s: on the client's own connections, as planned there", async (_, options) => {
    const client = createPrismaClient(process.env.DATABASE_URL!, options);
    try {
      const [row] = await sqlRows<{ mode: string }[]>(client, mode, { genericPlan: true });
      expect(row!.mode).toBe("auto");
      expect(directPools(client)).toHaveLength(1);
    } finally {
      await client.$disconnect();
    }
  });

  it("as many as configured, and no more", async () => {
    const client = createPrismaClient(process.env.DATABASE_URL!, { genericPlanConnections: 2 });
    try {
      const slow = Prisma.sql`SELECT pg_sleep(0.05), current_setting('plan_cache_mode') AS mode`;
      const rows = await Promise.all(Array.from({ length: 5 }, () => sqlRows<{ mode: string }[]>(client, slow, { genericPlan: true })));
      expect(rows.map((r) => r[0]!.mode)).toEqual(Array(5).fill("force_generic_plan"));
      expect(directPools(client)[1]!.totalCount).toBe(2);
    } finally {
      await client.$disconnect();
    }
  });

  it("$disconnect ends the key connections with the client's own", async () => {
    const client = createPrismaClient(process.env.DATABASE_URL!);
    await client.$queryRaw`SELECT 1`;
    await sqlRows(client, mode, { genericPlan: true });
    const pools = directPools(client);
    expect(pools.map((pool) => pool.totalCount)).toEqual([1, 1]);
    await client.$disconnect();
    expect(pools.map((pool) => pool.ended)).toEqual([true, true]);
  });
});
