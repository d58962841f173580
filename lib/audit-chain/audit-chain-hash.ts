// The audit chain's hashes (pure; lib/audit-chain/seal-audit-log.ts writes them, verify-audit-chain.ts
// checks them). Every hash is an HMAC-SHA256 with AUDIT_CHAIN_KEY, a key only the app has: the
// database's owner can change rows, and recompute any plain hash of what is in the database, but
// cannot make a valid HMAC without the key.
//
// An entry's canonical content is a JSON object with every column of "AuditLog", keys sorted
// (at every depth), no spaces:
//   id (lowercase uuid), createdAt (UTC ISO 8601 with milliseconds), actorType, actorId,
//   actorLabel, action, entityType, entityId, reason, requestId, runId: strings, or null when NULL;
//   before, after: the JSON value stored (keys sorted too), or the key left out when the column is
//   SQL NULL (so a NULL turned into JSON null is a change).
// A link's HMAC covers "audit-link/v1", the link's position, the previous link's HMAC (empty for
// the first) and the canonical content; a seal's covers "audit-seal/v1" and the seal's canonical
// JSON (its sequence, positions, count, last link's HMAC, the previous seal's HMAC, sealedAt).
import { createHmac } from "node:crypto";

/** An audit entry as the chain reads it (readChainEntries' SQL): JSON columns as PostgreSQL's text. */
export type TChainEntry = {
  id: string;
  /** UTC ISO 8601 with milliseconds, as PostgreSQL formats it (to_char). */
  createdAt: string;
  actorType: string;
  actorId: string | null;
  actorLabel: string;
  action: string;
  entityType: string;
  entityId: string;
  reason: string | null;
  /** The jsonb column's text, or null when the column is SQL NULL. */
  before: string | null;
  after: string | null;
  requestId: string | null;
  runId: string | null;
};

export type TSealContent = {
  sequence: number;
  firstPosition: bigint;
  lastPosition: bigint;
  entryCount: number;
  lastLinkHash: string;
  previousHash: string | null;
  sealedAt: Date;
};

type TJson = null | boolean | number | string | TJson[] | { [key: string]: TJson };

/** JSON with object keys sorted (by UTF-16 code unit, at every depth) and no whitespace. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`Not a JSON number: ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(",")}}`;
  }
  throw new TypeError(`Not a JSON value: ${typeof value}`);
}

/** The canonical content of an entry: every column, in one stable form (see the top of this file). */
export function canonicalAuditEntry(entry: TChainEntry): string {
  const content: Record<string, TJson | undefined> = {
    id: entry.id.toLowerCase(),
    createdAt: entry.createdAt,
    actorType: entry.actorType,
    actorId: entry.actorId,
    actorLabel: entry.actorLabel,
    action: entry.action,
    entityType: entry.entityType,
    entityId: entry.entityId,
    reason: entry.reason,
    requestId: entry.requestId,
    runId: entry.runId,
    before: entry.before === null ? undefined : (JSON.parse(entry.before) as TJson),
    after: entry.after === null ? undefined : (JSON.parse(entry.after) as TJson),
  };
  return canonicalJson(content);
}

function hmac(key: string, text: string): string {
  return createHmac("sha256", key).update(text, "utf8").digest("hex");
}

/** The HMAC of the link at `position`, chained to the previous link's (null for the first). */
export function linkHash(key: string, position: bigint, previousHash: string | null, entry: TChainEntry): string {
  return hmac(key, `audit-link/v1\n${position}\n${previousHash ?? ""}\n${canonicalAuditEntry(entry)}`);
}

/** A seal's canonical content. */
export function canonicalSeal(seal: TSealContent): string {
  return canonicalJson({
    sequence: seal.sequence,
    firstPosition: seal.firstPosition.toString(),
    lastPosition: seal.lastPosition.toString(),
    entryCount: seal.entryCount,
    lastLinkHash: seal.lastLinkHash,
    previousHash: seal.previousHash,
    sealedAt: seal.sealedAt.toISOString(),
  });
}

/** The HMAC of a seal (its previous seal's HMAC is part of its content). */
export function sealHash(key: string, seal: TSealContent): string {
  return hmac(key, `audit-seal/v1\n${canonicalSeal(seal)}`);
}
