import { adminRoute } from "@/lib/api/admin-route";
import { verifyAuditChainNow, ZVerifyAuditChainInput } from "@/lib/audit-chain/verify-audit-chain-now";
import { db } from "@/lib/db";

export const dynamic = "force-dynamic";

/**
 * POST /api/admin/audit/verify {}: admin role, same origin. Seals the audit entries waiting for a
 * seal, verifies the whole audit chain and records the verification (the Audit log page shows it);
 * answers the result and the first broken link. Safe to repeat.
 */
export const POST = adminRoute({ role: "admin", body: ZVerifyAuditChainInput, bodyOptional: true }, ({ actor }) =>
  verifyAuditChainNow(db, actor),
);
