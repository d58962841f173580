import "server-only";

import type { PrismaClient } from "@/generated/prisma/client";

/** The audit chain as the Audit log page shows it: the last verification, the last seal, what waits. */
export type TAuditChainStatus = {
  lastVerification: {
    finishedAt: string;
    ok: boolean;
    trigger: string;
    actorLabel: string;
    entriesChecked: number;
    sealsChecked: number;
    problemCount: number;
    problem: string | null;
    detail: string | null;
    brokenEntryId: string | null;
    brokenPosition: string | null;
  } | null;
  lastSeal: { sequence: number; hash: string; sealedAt: string; lastPosition: string } | null;
  /** Entries written and not sealed yet. */
  unsealedEntries: number;
};

export async function readAuditChainStatus(db: PrismaClient): Promise<TAuditChainStatus> {
  const [verification, seal, unsealed] = await db.$transaction([
    db.auditVerification.findFirst({ orderBy: [{ finishedAt: "desc" }, { id: "desc" }] }),
    db.auditSeal.findFirst({ orderBy: { sequence: "desc" } }),
    db.auditUnsealed.count(),
  ]);
  return {
    lastVerification: verification
      ? {
          finishedAt: verification.finishedAt.toISOString(),
          ok: verification.ok,
          trigger: verification.trigger,
          actorLabel: verification.actorLabel,
          entriesChecked: verification.entriesChecked,
          sealsChecked: verification.sealsChecked,
          problemCount: verification.problemCount,
          problem: verification.problem,
          detail: verification.detail,
          brokenEntryId: verification.brokenEntryId,
          brokenPosition: verification.brokenPosition?.toString() ?? null,
        }
      : null,
    lastSeal: seal
      ? { sequence: seal.sequence, hash: seal.hash, sealedAt: seal.sealedAt.toISOString(), lastPosition: seal.lastPosition.toString() }
      : null,
    unsealedEntries: unsealed,
  };
}
