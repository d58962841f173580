import "server-only";

import type { PrismaClient } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";

import { sealAuditLog } from "./seal-audit-log";
import { verifyAuditChain, type TSealAnchor, type TVerifyResult } from "./verify-audit-chain";

/** Who asked for a verification: the npm script, an admin on the Audit log page, the daily function, the demo seed. */
export type TVerificationTrigger = "script" | "admin" | "schedule" | "seed";

export type TRunVerificationOptions = {
  key: string;
  trigger: TVerificationTrigger;
  /** Who, for the record (an admin's name and email, the function's name, "Command line"). */
  actorLabel: string;
  anchor?: TSealAnchor;
  now?: () => Date;
};

export type TVerificationRun = TVerifyResult & { id: string; startedAt: Date; finishedAt: Date; sealed: number };

/**
 * Seals what is waiting (after any sealer already running), verifies the whole chain and records
 * the verification (when, by whom, the result and the first broken link), which the Audit log page
 * shows; a broken chain also raises a critical alert (once per first broken link). The record is
 * informative only: the proof is the chain itself, checked again by the next run.
 */
export async function runAuditVerification(db: PrismaClient, options: TRunVerificationOptions): Promise<TVerificationRun> {
  const now = options.now ?? (() => new Date());
  const startedAt = now();
  const sealed = await sealAuditLog(db, { key: options.key, wait: true, now });
  const result = await verifyAuditChain(db, { key: options.key, ...(options.anchor ? { anchor: options.anchor } : {}) });
  const finishedAt = now();
  const first = result.problems[0];
  const record = await db.$transaction(async (tx) => {
    if (first) {
      await raiseAlert(tx, {
        kind: "audit_chain_broken",
        severity: "critical",
        title: "The audit log's chain is broken",
        message: `${first.detail}${result.problemCount > 1 ? ` (${result.problemCount} problems in all)` : ""} Run npm run audit:verify for the list.`,
        dedupeKey: `audit_chain_broken:${first.kind}:${first.sealSequence ?? "-"}:${first.position ?? "-"}:${first.entryId ?? "-"}`,
      });
    }
    return tx.auditVerification.create({
      data: {
        startedAt,
        finishedAt,
        ok: result.ok,
        trigger: options.trigger,
        actorLabel: options.actorLabel.slice(0, 255),
        entriesChecked: result.entriesChecked,
        sealsChecked: result.sealsChecked,
        unsealedEntries: result.unsealedEntries,
        lastSealSequence: result.lastSeal?.sequence ?? null,
        lastSealHash: result.lastSeal?.hash ?? null,
        problemCount: result.problemCount,
        brokenEntryId: first?.entryId ?? null,
        brokenPosition: first?.position ?? null,
        brokenSealSequence: first?.sealSequence ?? null,
        problem: first?.kind ?? null,
        detail: first?.detail ?? null,
      },
      select: { id: true },
    });
  });
  return { ...result, id: record.id, startedAt, finishedAt, sealed: sealed.entries };
}
