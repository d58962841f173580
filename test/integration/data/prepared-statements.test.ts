// Statements prepared once per connection (lib/statement-names.ts, lib/db.ts): they are prepared
// where asked and nowhere else, and a migration that adds columns does not break a server that has
// prepared its statements before it (PostgreSQL refuses a prepared statement whose result columns
// changed: "cached plan must not change result type").
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import type { PrismaClient } from "@/generated/prisma/client";
import { createPrismaClient, db, type Tx } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { lockPayout } from "@/lib/payouts/change-payout";
import { lockBooking } from "@/lib/payouts/lock-booking";

import { createPayout } from "../../support/factories";

/** What the one connection of an interactive transaction has prepared, after running `work` in it three times. */
async function preparedAfter(client: PrismaClient, work: (tx: Tx) => Promise<unknown>) {
  return client.$transaction(async (tx) => {
    for (let i = 0; i < 3; i++) await work(tx);
    return tx.$queryRaw<{ name: string; statement: string }[]>`SELECT name, statement FROM pg_prepared_statements WHERE NOT from_sql`;
  });
}

describe("prepared statements", () => {
  const clients: PrismaClient[] = [];
  let payoutId: string;
  let bookingId: string;

  beforeAll(async () => {
    const payout = await createPayout();
    payoutId = payout.id;
    bookingId = payout.bookingId;
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.$disconnect()));
  });

  function client(url: string, preparedStatements?: boolean): PrismaClient {
    const c = createPrismaClient(url, preparedStatements === undefined ? {} : { preparedStatements });
    clients.push(c);
    return c;
  }

  it("are on by default, prepare what repeats and leave out what reads every column", async () => {
    expect(getEnv().DATABASE_PREPARED_STATEMENTS).toBe(true);
    const prepared = await preparedAfter(client(getEnv().DATABASE_URL), async (tx) => {
      await tx.payout.findUnique({ where: { id: payoutId }, select: { id: true, status: true } });
      await lockPayout(tx, payoutId);
    });
    expect(prepared.some((p) => p.statement.includes('"Payout"') && p.statement.includes('"status"'))).toBe(true);
    expect(prepared.some((p) => p.statement.includes('FROM "Payout" WHERE id = $1::uuid FOR UPDATE'))).toBe(true);
    expect(prepared.filter((p) => p.statement.includes("*"))).toEqual([]);
  });

  it("are off when asked, and behind pgbouncer=true", async () => {
    const url = new URL(getEnv().DATABASE_URL);
    url.searchParams.set("pgbouncer", "true");
    for (const c of [client(getEnv().DATABASE_URL, false), client(url.toString())]) {
      const prepared = await preparedAfter(c, (tx) => tx.payout.findUnique({ where: { id: payoutId }, select: { id: true } }));
      expect(prepared).toEqual([]);
    }
  });

  it("keep working on a connection that prepared them before a migration added columns", async () => {
    const server = client(getEnv().DATABASE_URL);
    const engineReads = async (tx: Tx) => {
      await lockBooking(tx, bookingId);
      const locked = await lockPayout(tx, payoutId);
      const read = await tx.payout.findUniqueOrThrow({ where: { id: payoutId }, include: { booking: true, provider: true } });
      await tx.payout.update({ where: { id: payoutId }, data: { lastError: null } });
      return { locked, read };
    };
    const before = await server.$transaction(async (tx) => {
      for (let i = 0; i < 3; i++) await engineReads(tx);
      return engineReads(tx);
    });

    for (const table of ["Payout", "Booking", "Provider"]) {
      await db.$executeRawUnsafe(`ALTER TABLE "${table}" ADD COLUMN "reviewAdded" integer`);
    }
    try {
      const after = await server.$transaction((tx) => engineReads(tx));
      expect(after.read.id).toBe(before.read.id);
      expect(after.locked.status).toBe(before.locked.status);
    } finally {
      for (const table of ["Payout", "Booking", "Provider"]) {
        await db.$executeRawUnsafe(`ALTER TABLE "${table}" DROP COLUMN "reviewAdded"`);
      }
    }
  });
});
