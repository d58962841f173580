// The columns of an audit entry as the chain hashes them (TChainEntry): one SQL list, so the
// sealer and the verifier read exactly the same text. The time is formatted by PostgreSQL (UTC,
// milliseconds) and the JSON columns are read as jsonb's text, so no driver conversion is involved.
import { Prisma } from "@/generated/prisma/client";

/** The entry's columns (TChainEntry, lib/audit-chain/audit-chain-hash.ts) from `"AuditLog"` aliased `a`, named as TChainEntry's fields. */
export const CHAIN_ENTRY_COLUMNS = Prisma.sql`
  a."id"::text AS "id",
  to_char(a."createdAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt",
  a."actorType"::text AS "actorType", a."actorId", a."actorLabel", a."action", a."entityType", a."entityId",
  a."reason", a."before"::text AS "before", a."after"::text AS "after", a."requestId", a."runId"`;
