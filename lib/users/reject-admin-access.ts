import "server-only";

import { adminActorOf } from "@/lib/audit/admin-actor";
import { recordAudit } from "@/lib/audit/record-audit";
import type { TCurrentUser } from "@/lib/auth/session";
import type { Db } from "@/lib/db";
import { ConflictError } from "@/lib/errors";

import { adminAccessRequestInclude, lockUserChanges, personLabel, toAccessRequestItem } from "./admin-access-rules";
import type { TAdminAccessDecisionInput } from "./approve-admin-access";
import { lockAdminAccessRequest } from "./lock-admin-access-request";
import type { TAdminAccessDecision } from "./types";

/**
 * Admin: turns down a pending admin access request; nothing is granted. Another admin rejects
 * it (`rejected`); the requester withdraws their own (`cancelled`). Audited on the account.
 */
export async function rejectAdminAccess(
  db: Db,
  input: TAdminAccessDecisionInput,
  actingAdmin: TCurrentUser,
  now: Date = new Date(),
): Promise<TAdminAccessDecision> {
  return db.$transaction(async (tx) => {
    await lockUserChanges(tx);
    const request = await lockAdminAccessRequest(tx, input.requestId);
    if (request.status !== "pending") throw new ConflictError(`This request is no longer pending (it was ${request.status}).`);
    const withdrawn = request.requestedById === actingAdmin.id;
    const actor = adminActorOf(actingAdmin);
    const decided = await tx.adminAccessRequest.update({
      where: { id: request.id },
      data: {
        status: withdrawn ? "cancelled" : "rejected",
        decidedById: actingAdmin.id,
        decidedAt: now,
        decisionNote: input.reason,
        passwordHash: null,
      },
      include: adminAccessRequestInclude,
    });
    await recordAudit(tx, {
      actor,
      action: withdrawn ? "admin_access.withdrawn" : "admin_access.rejected",
      entityType: "admin_user",
      entityId: request.userId,
      reason: input.reason,
      after: {
        requestId: request.id,
        kind: request.kind,
        requestedBy: personLabel(request.requestedBy),
        decidedBy: actor.label,
        status: decided.status,
      },
      at: now,
    });
    return { request: toAccessRequestItem(decided), outcome: withdrawn ? "withdrawn" : "rejected", user: null };
  });
}
