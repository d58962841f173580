import { cron } from "inngest";

import { defaultDeps, type TEngineDeps } from "@/inngest/deps";
import { runAuditVerification } from "@/lib/audit-chain/run-audit-verification";
import { getEnv } from "@/lib/env";
import { inngest } from "@/lib/inngest/client";

export const VERIFY_AUDIT_LOG_FN = "verify-audit-log";

/**
 * Every day at 03:00 UTC: seals what waits, verifies the whole audit chain and records the result
 * (the Audit log page shows it; a broken chain raises a critical alert).
 */
export function createVerifyAuditLogFunction(deps: TEngineDeps = defaultDeps) {
  return inngest.createFunction(
    { id: VERIFY_AUDIT_LOG_FN, triggers: [cron("TZ=UTC 0 3 * * *")], retries: 1, concurrency: [{ limit: 1 }] },
    async ({ step }) =>
      step.run("verify", async () => {
        const run = await runAuditVerification(deps.db, {
          key: getEnv().AUDIT_CHAIN_KEY,
          trigger: "schedule",
          actorLabel: `inngest:${VERIFY_AUDIT_LOG_FN}`,
        });
        return {
          ok: run.ok,
          entriesChecked: run.entriesChecked,
          sealsChecked: run.sealsChecked,
          problemCount: run.problemCount,
          firstProblem: run.problems[0]?.detail ?? null,
          lastSeal: run.lastSeal ? `${run.lastSeal.sequence}:${run.lastSeal.hash}` : null,
        };
      }),
  );
}
