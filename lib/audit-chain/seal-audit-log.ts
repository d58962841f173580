import "server-only";

import type { PrismaClient } from "@/generated/prisma/client";
import type { Tx } from "@/lib/db";

import { CHAIN_ENTRY_COLUMNS } from "./audit-chain-entries";
import { linkHash, sealHash, type TChainEntry } from "./audit-chain-hash";

/** One sealer at a time (a second one finds the lock taken and leaves, or waits for it). */
export const AUDIT_SEAL_LOCK = "audit-chain-seal";

export type TSealOptions = {
  /** The AUDIT_CHAIN_KEY. */
  key: string;
  /** Entries per seal. */
  batchSize?: number;
  /** At most this many seals per run (the rest waits for the next run). */
  maxBatches?: number;
  /** Wait for a sealer already running (then seal what it left) instead of leaving at once. */
  wait?: boolean;
  now?: () => Date;
};

export type TSealResult = {
  /** Seals written by this run. */
  seals: number;
  /** Entries sealed by this run. */
  entries: number;
  /** Another sealer held the lock (and `wait` was not set): this run sealed nothing. */
  busy: boolean;
  /** The newest seal after this run (null while the log has none). */
  lastSeal: { sequence: number; hash: string } | null;
};

type TLastSeal = { sequence: number; lastPosition: bigint; lastLinkHash: string; hash: string };

/**
 * Seals the audit entries written since the last seal, in batches: under an advisory lock, takes
 * the queued entries ("AuditUnsealed", filled by a trigger on "AuditLog") in (createdAt, id)
 * order, gives each the next position in the chain and its link's HMAC (over its canonical
 * content and the previous link's HMAC), writes one seal for the batch chained to the previous
 * seal, and takes the entries off the queue, in one transaction. Idempotent: a second run finds
 * nothing queued; two at once: one seals, the other leaves (or, with `wait`, seals what is left).
 * Writers of audit entries never wait on it: they only insert, and the sealer reads committed
 * entries only, so one committed later is sealed by the next run.
 */
export async function sealAuditLog(db: PrismaClient, options: TSealOptions): Promise<TSealResult> {
  const batchSize = options.batchSize ?? 5_000;
  const maxBatches = options.maxBatches ?? 100;
  const result: TSealResult = { seals: 0, entries: 0, busy: false, lastSeal: null };
  for (let batch = 0; batch < maxBatches; batch++) {
    const outcome = await db.$transaction(async (tx) => {
      const [lock] = options.wait
        ? await tx.$queryRaw<{ locked: boolean }[]>`
            SELECT true AS "locked" FROM (SELECT pg_advisory_xact_lock(hashtextextended(${AUDIT_SEAL_LOCK}, 0))) AS l`
        : await tx.$queryRaw<{ locked: boolean }[]>`
            SELECT pg_try_advisory_xact_lock(hashtextextended(${AUDIT_SEAL_LOCK}, 0)) AS "locked"`;
      if (!lock?.locked) return "busy" as const;
      return sealOneBatch(tx, options.key, batchSize, options.now?.() ?? new Date());
    });
    if (outcome === "busy") return { ...result, busy: true };
    result.lastSeal = outcome.lastSeal;
    if (outcome.entries === 0) break;
    result.seals += 1;
    result.entries += outcome.entries;
    if (outcome.entries < batchSize) break;
  }
  return result;
}

async function sealOneBatch(
  tx: Tx,
  key: string,
  batchSize: number,
  now: Date,
): Promise<{ entries: number; lastSeal: TSealResult["lastSeal"] }> {
  const [last] = await tx.$queryRaw<TLastSeal[]>`
    SELECT "sequence", "lastPosition", "lastLinkHash", "hash" FROM "AuditSeal" ORDER BY "sequence" DESC LIMIT 1`;
  const lastSeal = last ? { sequence: last.sequence, hash: last.hash } : null;
  // Committed entries only (READ COMMITTED): one still being written is sealed next time.
  const entries = await tx.$queryRaw<TChainEntry[]>`
    SELECT ${CHAIN_ENTRY_COLUMNS}
    FROM "AuditUnsealed" u JOIN "AuditLog" a ON a."id" = u."entryId"
    ORDER BY a."createdAt", a."id"
    LIMIT ${batchSize}`;
  if (entries.length === 0) return { entries: 0, lastSeal };

  const sequence = (last?.sequence ?? 0) + 1;
  const firstPosition = (last?.lastPosition ?? 0n) + 1n;
  const positions: bigint[] = [];
  const hashes: string[] = [];
  let previous = last?.lastLinkHash ?? null;
  entries.forEach((entry, index) => {
    const position = firstPosition + BigInt(index);
    previous = linkHash(key, position, previous, entry);
    positions.push(position);
    hashes.push(previous);
  });
  const seal = {
    sequence,
    firstPosition,
    lastPosition: firstPosition + BigInt(entries.length - 1),
    entryCount: entries.length,
    lastLinkHash: hashes.at(-1) ?? "",
    previousHash: last?.hash ?? null,
    sealedAt: now,
  };
  const hash = sealHash(key, seal);
  const ids = entries.map((entry) => entry.id);
  await tx.$executeRaw`
    INSERT INTO "AuditChainLink" ("position", "entryId", "sealSequence", "hash")
    SELECT p, e, ${sequence}, h FROM unnest(${positions.map(String)}::bigint[], ${ids}::uuid[], ${hashes}::text[]) AS t(p, e, h)`;
  await tx.auditSeal.create({ data: { ...seal, hash } });
  await tx.$executeRaw`DELETE FROM "AuditUnsealed" WHERE "entryId" = ANY(${ids}::uuid[])`;
  return { entries: entries.length, lastSeal: { sequence, hash } };
}
