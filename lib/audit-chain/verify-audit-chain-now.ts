import "server-only";

import { z } from "zod";

import type { PrismaClient } from "@/generated/prisma/client";
import type { TActor } from "@/lib/audit/record-audit";
import { getEnv } from "@/lib/env";

import { runAuditVerification } from "./run-audit-verification";

export const ZVerifyAuditChainInput = z.object({}).strict();

/** What "Verify now" answers (JSON: no bigint). */
export type TVerifyNowResult = {
  ok: boolean;
  entriesChecked: number;
  sealsChecked: number;
  sealed: number;
  problemCount: number;
  /** The first broken link, for people. */
  firstProblem: string | null;
  lastSeal: { sequence: number; hash: string } | null;
};

/** An admin's "Verify now" on the Audit log page: seal what waits, verify the chain, record it. */
export async function verifyAuditChainNow(db: PrismaClient, actor: TActor): Promise<TVerifyNowResult> {
  const run = await runAuditVerification(db, { key: getEnv().AUDIT_CHAIN_KEY, trigger: "admin", actorLabel: actor.label });
  return {
    ok: run.ok,
    entriesChecked: run.entriesChecked,
    sealsChecked: run.sealsChecked,
    sealed: run.sealed,
    problemCount: run.problemCount,
    firstProblem: run.problems[0]?.detail ?? null,
    lastSeal: run.lastSeal ? { sequence: run.lastSeal.sequence, hash: run.lastSeal.hash } : null,
  };
}
