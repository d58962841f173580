import "server-only";

import type { PrismaClient } from "@/generated/prisma/client";
import type { Tx } from "@/lib/db";

import { CHAIN_ENTRY_COLUMNS } from "./audit-chain-entries";
import { linkHash, sealHash, type TChainEntry } from "./audit-chain-hash";

/** What is wrong with the chain at one place. */
export type TChainProblemKind =
  /** The entry's row no longer matches the HMAC it was sealed with (a column edited, or its link's hash). */
  | "content_changed"
  /** The entry's row is gone (its link remains). */
  | "entry_missing"
  /** A position inside a seal has no link (the link, and its entry with it, deleted). */
  | "link_missing"
  /** A link is not the one its seal sealed (another seal number, or not the seal's last link). */
  | "link_changed"
  /** A seal is gone: a gap in the seals' sequence, links past the last seal, or the external anchor's seal. */
  | "seal_missing"
  /** A seal's content does not match its HMAC, or it does not follow the previous seal. */
  | "seal_changed"
  /** An entry neither sealed nor waiting to be: written with the queue trigger disabled. */
  | "entry_not_in_chain"
  /** An entry queued for sealing whose row is gone: deleted before it was sealed. */
  | "unsealed_entry_missing";

export type TChainProblem = {
  kind: TChainProblemKind;
  /** The position in the chain, when the problem has one. */
  position: bigint | null;
  entryId: string | null;
  sealSequence: number | null;
  /** One sentence for people. */
  detail: string;
};

export type TVerifyResult = {
  ok: boolean;
  /** Links walked (sealed entries, present or not). */
  entriesChecked: number;
  sealsChecked: number;
  /** Entries written but not sealed yet (the window until the next seal). */
  unsealedEntries: number;
  lastSeal: { sequence: number; hash: string; sealedAt: Date } | null;
  problemCount: number;
  /** The first problems in chain order (at most MAX_LISTED_PROBLEMS); the first is the first broken link. */
  problems: TChainProblem[];
};

/** A seal known from outside the database (logged, mailed, printed by an earlier verification). */
export type TSealAnchor = { sequence: number; hash: string };

export type TVerifyOptions = {
  key: string;
  /** Also check that this seal is still there, unchanged: makes cutting off the newest seals evident. */
  anchor?: TSealAnchor;
  /** Rows read per query. */
  pageSize?: number;
};

export const MAX_LISTED_PROBLEMS = 20;

type TSealRow = {
  sequence: number;
  firstPosition: bigint;
  lastPosition: bigint;
  entryCount: number;
  lastLinkHash: string;
  previousHash: string | null;
  hash: string;
  sealedAt: Date;
};

type TLinkRow = { position: bigint; linkEntryId: string; sealSequence: number; linkHash: string; present: boolean } & TChainEntry;

/**
 * Walks the whole chain in one snapshot (repeatable read), seal by seal and link by link, and
 * reports what no longer matches, in chain order: the first is the first broken link. Each link
 * is checked against the stored hash of the link before it, so one edited entry is named alone.
 * Then the entries outside the chain: written behind the queue's back, or deleted before sealing.
 * Deleting the newest seals with their links and entries leaves a shorter chain that is whole:
 * only an anchor (a seal's number and HMAC kept outside the database) shows it.
 */
export async function verifyAuditChain(db: PrismaClient, options: TVerifyOptions): Promise<TVerifyResult> {
  return db.$transaction((tx) => walkChain(tx, options), { isolationLevel: "RepeatableRead", maxWait: 10_000, timeout: 30 * 60_000 });
}

class Problems {
  count = 0;
  readonly listed: TChainProblem[] = [];
  add(problem: Partial<TChainProblem> & Pick<TChainProblem, "kind" | "detail">): void {
    this.count += 1;
    if (this.listed.length < MAX_LISTED_PROBLEMS) {
      this.listed.push({ position: null, entryId: null, sealSequence: null, ...problem });
    }
  }
}

async function* paged<T, K>(pageSize: number, start: K, keyOf: (row: T) => K, fetch: (after: K) => Promise<T[]>): AsyncGenerator<T> {
  let after = start;
  for (;;) {
    const rows = await fetch(after);
    yield* rows;
    const last = rows.at(-1);
    if (rows.length < pageSize || last === undefined) return;
    after = keyOf(last);
  }
}

/** An async iterator one can look one row ahead in. */
class Peekable<T> {
  private head: IteratorResult<T> | undefined;
  constructor(private readonly source: AsyncIterator<T>) {}
  async peek(): Promise<T | undefined> {
    this.head ??= await this.source.next();
    return this.head.done ? undefined : this.head.value;
  }
  async take(): Promise<T | undefined> {
    const value = await this.peek();
    this.head = undefined;
    return value;
  }
}

async function walkChain(tx: Tx, options: TVerifyOptions): Promise<TVerifyResult> {
  const { key } = options;
  const pageSize = options.pageSize ?? 10_000;
  const problems = new Problems();
  const seals = paged<TSealRow, number>(
    pageSize,
    0,
    (row) => row.sequence,
    (after) => tx.$queryRaw<TSealRow[]>`
      SELECT "sequence", "firstPosition", "lastPosition", "entryCount", "lastLinkHash", "previousHash", "hash", "sealedAt"
      FROM "AuditSeal" WHERE "sequence" > ${after} ORDER BY "sequence" LIMIT ${pageSize}`,
  );
  const links = new Peekable(
    paged<TLinkRow, bigint>(
      pageSize,
      0n,
      (row) => row.position,
      (after) => tx.$queryRaw<TLinkRow[]>`
        SELECT l."position", l."entryId"::text AS "linkEntryId", l."sealSequence", l."hash" AS "linkHash",
               (a."id" IS NOT NULL) AS "present", ${CHAIN_ENTRY_COLUMNS}
        FROM "AuditChainLink" l LEFT JOIN "AuditLog" a ON a."id" = l."entryId"
        WHERE l."position" > ${after.toString()}::bigint ORDER BY l."position" LIMIT ${pageSize}`,
    ),
  );

  let entriesChecked = 0;
  let sealsChecked = 0;
  let lastSeal: TVerifyResult["lastSeal"] = null;
  let anchorSeen = false;
  // The chain so far: the next position and seal expected, the previous link's and seal's hashes.
  let nextPosition = 1n;
  let nextSequence = 1;
  let previousSealHash: string | null = null;
  // undefined: the previous link is missing, so the next link cannot be checked against it.
  let previousLinkHash: string | null | undefined = null;

  /** Checks the link at `position` (expected in seal `sealSequence`, or in none: a seal is gone). */
  const checkPosition = async (position: bigint, sealSequence: number | null): Promise<TLinkRow | null> => {
    const link = (await links.peek())?.position === position ? await links.take() : undefined;
    if (!link) {
      problems.add({
        kind: "link_missing",
        position,
        sealSequence,
        detail: `Position ${position} of the chain is gone: its link and its entry were deleted.`,
      });
      previousLinkHash = undefined;
      return null;
    }
    entriesChecked += 1;
    if (sealSequence !== null && link.sealSequence !== sealSequence) {
      problems.add({
        kind: "link_changed",
        position,
        entryId: link.linkEntryId,
        sealSequence,
        detail: `The link at position ${position} names seal ${link.sealSequence}, but seal ${sealSequence} covers it.`,
      });
    }
    if (!link.present) {
      problems.add({
        kind: "entry_missing",
        position,
        entryId: link.linkEntryId,
        sealSequence: link.sealSequence,
        detail: `Entry ${link.linkEntryId} (position ${position}) was sealed but is no longer in the audit log.`,
      });
    } else if (previousLinkHash !== undefined && linkHash(key, position, previousLinkHash, link) !== link.linkHash) {
      problems.add({
        kind: "content_changed",
        position,
        entryId: link.linkEntryId,
        sealSequence: link.sealSequence,
        detail: `Entry ${link.linkEntryId} (position ${position}) was changed after it was sealed: it no longer matches its link's hash.`,
      });
    }
    previousLinkHash = link.linkHash;
    return link;
  };

  for await (const seal of seals) {
    sealsChecked += 1;
    if (seal.sequence !== nextSequence) {
      const missing = seal.sequence - 1 > nextSequence ? `Seals ${nextSequence}–${seal.sequence - 1} are` : `Seal ${nextSequence} is`;
      problems.add({
        kind: "seal_missing",
        position: nextPosition,
        sealSequence: nextSequence,
        detail: `${missing} missing: seal ${seal.sequence} follows seal ${nextSequence - 1}.`,
      });
    } else if (seal.previousHash !== previousSealHash) {
      problems.add({
        kind: "seal_changed",
        position: seal.firstPosition,
        sealSequence: seal.sequence,
        detail: `Seal ${seal.sequence} does not follow seal ${seal.sequence - 1}: the previous seal's hash differs.`,
      });
    }
    // Links no seal covers (their seal is gone, reported above), then this seal's own.
    for (; nextPosition < seal.firstPosition; nextPosition++) await checkPosition(nextPosition, null);
    let last: TLinkRow | null = null;
    for (let position = seal.firstPosition; position <= seal.lastPosition; position++) {
      last = await checkPosition(position, seal.sequence);
    }
    if (sealHash(key, seal) !== seal.hash) {
      problems.add({
        kind: "seal_changed",
        position: seal.lastPosition,
        sealSequence: seal.sequence,
        detail: `Seal ${seal.sequence} was changed: its content no longer matches its hash (or it was made with another AUDIT_CHAIN_KEY).`,
      });
    }
    if (last && last.linkHash !== seal.lastLinkHash) {
      problems.add({
        kind: "link_changed",
        position: seal.lastPosition,
        entryId: last.linkEntryId,
        sealSequence: seal.sequence,
        detail: `The link at position ${seal.lastPosition} is not the last link seal ${seal.sequence} sealed.`,
      });
    }
    if (seal.lastPosition >= nextPosition) nextPosition = seal.lastPosition + 1n;
    nextSequence = seal.sequence + 1;
    previousSealHash = seal.hash;
    lastSeal = { sequence: seal.sequence, hash: seal.hash, sealedAt: seal.sealedAt };
    if (options.anchor?.sequence === seal.sequence) {
      anchorSeen = true;
      if (options.anchor.hash.toLowerCase() !== seal.hash) {
        problems.add({
          kind: "seal_changed",
          position: seal.firstPosition,
          sealSequence: seal.sequence,
          detail: `Seal ${seal.sequence} is not the one anchored outside the database: its hash differs from the anchor's.`,
        });
      }
    }
  }

  // Links past the last seal: the seal that covered them is gone.
  const firstOrphan = await links.peek();
  if (firstOrphan) {
    let lastOrphan = firstOrphan;
    for (let row = await links.take(); row; row = await links.take()) lastOrphan = row;
    problems.add({
      kind: "seal_missing",
      position: firstOrphan.position,
      entryId: firstOrphan.linkEntryId,
      sealSequence: firstOrphan.sealSequence,
      detail: `Positions ${firstOrphan.position}–${lastOrphan.position} are sealed by seal ${firstOrphan.sealSequence}, which is missing.`,
    });
  }
  if (options.anchor && !anchorSeen) {
    problems.add({
      kind: "seal_missing",
      sealSequence: options.anchor.sequence,
      detail: `Seal ${options.anchor.sequence}, anchored outside the database, is missing: the log ends at ${
        lastSeal ? `seal ${lastSeal.sequence}` : "no seal"
      }.`,
    });
  }

  const [outside] = await tx.$queryRaw<{ count: number; first: string | null }[]>`
    SELECT count(*)::int AS "count", (array_agg(a."id"::text ORDER BY a."createdAt", a."id"))[1] AS "first"
    FROM "AuditLog" a
    WHERE NOT EXISTS (SELECT 1 FROM "AuditChainLink" l WHERE l."entryId" = a."id")
      AND NOT EXISTS (SELECT 1 FROM "AuditUnsealed" u WHERE u."entryId" = a."id")`;
  if (outside && outside.count > 0) {
    problems.add({
      kind: "entry_not_in_chain",
      entryId: outside.first,
      detail: `Entry ${outside.first} is neither sealed nor waiting to be${
        outside.count > 1 ? ` (and ${outside.count - 1} more)` : ""
      }: it was written with the audit log's triggers disabled.`,
    });
  }
  const [queue] = await tx.$queryRaw<{ waiting: number; gone: number; firstGone: string | null }[]>`
    SELECT count(*) FILTER (WHERE a."id" IS NOT NULL)::int AS "waiting",
           count(*) FILTER (WHERE a."id" IS NULL)::int AS "gone",
           min(u."entryId"::text) FILTER (WHERE a."id" IS NULL) AS "firstGone"
    FROM "AuditUnsealed" u LEFT JOIN "AuditLog" a ON a."id" = u."entryId"`;
  if (queue && queue.gone > 0) {
    problems.add({
      kind: "unsealed_entry_missing",
      entryId: queue.firstGone,
      detail: `Entry ${queue.firstGone} was deleted before it was sealed${queue.gone > 1 ? ` (and ${queue.gone - 1} more)` : ""}.`,
    });
  }

  return {
    ok: problems.count === 0,
    entriesChecked,
    sealsChecked,
    unsealedEntries: queue?.waiting ?? 0,
    lastSeal,
    problemCount: problems.count,
    problems: problems.listed,
  };
}
