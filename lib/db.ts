import "server-only";

import { PrismaPg } from "@prisma/adapter-pg";

import { PrismaClient } from "@/generated/prisma/client";
import { getEnv } from "@/lib/env";
import { preparesStatements, statementNamer } from "@/lib/statement-names";

export type Db = PrismaClient;
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

/**
 * A client with its own pool of 10 connections. Statements that repeat are prepared once per
 * connection (lib/statement-names.ts) unless `preparedStatements` is false; by default that
 * follows DATABASE_PREPARED_STATEMENTS and a `pgbouncer=true` in the connection string.
 *
 * Errors in Prisma's minimal format in every environment, as production's default: any other
 * format makes the client capture a stack trace on every call, for a code frame only an error
 * shows (4 % of the pipeline's CPU outside production, docs/benchmarks.md).
 */
export function createPrismaClient(
  connectionString: string,
  { preparedStatements = getEnv().DATABASE_PREPARED_STATEMENTS }: { preparedStatements?: boolean } = {},
): PrismaClient {
  const namer = preparesStatements(connectionString, preparedStatements) ? statementNamer() : undefined;
  // pg sends a statement unnamed when the generator gives no name (the type asks for a string).
  const options = namer ? { statementNameGenerator: namer as (query: { sql: string }) => string } : {};
  return new PrismaClient({ adapter: new PrismaPg({ connectionString, max: 10 }, options), errorFormat: "minimal" });
}

const globalForPrisma = globalThis as unknown as { payoutsPrisma?: PrismaClient };

/** One client per process (kept across hot reloads in development). */
export const db: PrismaClient = globalForPrisma.payoutsPrisma ?? createPrismaClient(getEnv().DATABASE_URL);

if (getEnv().NODE_ENV !== "production") globalForPrisma.payoutsPrisma = db;
