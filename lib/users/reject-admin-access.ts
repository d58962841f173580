import "server-only";

import { adminActorOf } from "@/lib/audit/admin-actor";
import type { TCurrentUser } from "@/lib/auth/session";
import type { Db } from "@/lib/db";
import { ConflictError } from "@/lib/errors";

import { lockUserChanges, toAccessRequestItem } from "./admin-access-rules";
import type { TAdminAccessDecisionInput } from "./approve-admin-access";
import { decideAdminAccessRequest } from "./decide-admin-access-request";
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
    const decided = await decideAdminAccessRequest(tx, request, {
      status: withdrawn ? "cancelled" : "rejected",
      action: withdrawn ? "admin_access.withdrawn" : "admin_access.rejected",
      actor,
      deciderKey: "decidedBy",
      note: input.reason,
      now,
    });
    return { request: toAccessRequestItem(decided), outcome: withdrawn ? "withdrawn" : "rejected", user: null };
  });
}
