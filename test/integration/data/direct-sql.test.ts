// Statements sent to pg directly (lib/direct-sql.ts) against the same statements through Prisma's
// `$queryRaw`, which is the oracle: the same rows with the same JavaScript types, the same errors,
// on the same connection inside a transaction, and nothing sent once the transaction has ended.
import { describe, expect, it } from "vitest";

import { Prisma } from "@/generated/prisma/client";
import { db } from "@/lib/db";
import { sendsDirectly, sqlExecute, sqlRows, transaction } from "@/lib/direct-sql";

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
