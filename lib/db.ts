import "server-only";

import { PrismaClient } from "@/generated/prisma/client";
import { directAdapter, registerDirect } from "@/lib/direct-sql";
import { getEnv } from "@/lib/env";
import { preparesStatements, statementNamer } from "@/lib/statement-names";

export type Db = PrismaClient;
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

/**
 * A client with its own pool of 10 connections, which the engine's hot statements can also use
 * directly (lib/direct-sql.ts). Statements that repeat are prepared once per
 * connection (lib/statement-names.ts) unless `preparedStatements` is false; by default that
 * follows DATABASE_PREPARED_STATEMENTS and a `pgbouncer=true` in the connection string. Lookups
 * by key outside a transaction have up to `genericPlanConnections` more (DATABASE_GENERIC_PLAN_CONNECTIONS).
 *
 * Errors in Prisma's minimal format in every environment, as production's default: any other
 * format makes the client capture a stack trace on every call, for a code frame only an error
 * shows (4 % of the pipeline's CPU outside production, docs/benchmarks.md).
 */
export function createPrismaClient(
  connectionString: string,
  {
    preparedStatements = getEnv().DATABASE_PREPARED_STATEMENTS,
    genericPlanConnections = getEnv().DATABASE_GENERIC_PLAN_CONNECTIONS,
  }: { preparedStatements?: boolean; genericPlanConnections?: number } = {},
): PrismaClient {
  const namer = preparesStatements(connectionString, preparedStatements) ? statementNamer() : undefined;
  const { adapter, direct } = directAdapter(connectionString, { max: 10, namer, genericPlanConnections });
  const client = new PrismaClient({ adapter, errorFormat: "minimal" });
  registerDirect(client, direct);
  return client;
}

const globalForPrisma = globalThis as unknown as { payoutsPrisma?: PrismaClient };

/** One client per process (kept across hot reloads in development). */
export const db: PrismaClient = globalForPrisma.payoutsPrisma ?? createPrismaClient(getEnv().DATABASE_URL);

if (getEnv().NODE_ENV !== "production") globalForPrisma.payoutsPrisma = db;
