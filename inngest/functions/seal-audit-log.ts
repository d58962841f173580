import { cron } from "inngest";

import { defaultDeps, type TEngineDeps } from "@/inngest/deps";
import { sealAuditLog } from "@/lib/audit-chain/seal-audit-log";
import { getEnv } from "@/lib/env";
import { inngest } from "@/lib/inngest/client";

export const SEAL_AUDIT_LOG_FN = "seal-audit-log";

/** How often the audit log is sealed: entries are "not yet sealed" for at most this long (docs/architecture.md). */
export const SEAL_AUDIT_LOG_CRON = "TZ=UTC */5 * * * *";

/**
 * Every 5 minutes: seals the audit entries written since the last seal (lib/audit-chain/seal-audit-log.ts;
 * a run that finds another sealer at work leaves it to that one).
 */
export function createSealAuditLogFunction(deps: TEngineDeps = defaultDeps) {
  return inngest.createFunction(
    { id: SEAL_AUDIT_LOG_FN, triggers: [cron(SEAL_AUDIT_LOG_CRON)], retries: 2, concurrency: [{ limit: 1 }] },
    async ({ step }) => step.run("seal", () => sealAuditLog(deps.db, { key: getEnv().AUDIT_CHAIN_KEY })),
  );
}
