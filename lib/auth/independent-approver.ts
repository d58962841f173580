import "server-only";

import type { Db, Tx } from "@/lib/db";
import { ForbiddenError } from "@/lib/errors";

/** Role and access changes to an account, as users are managed (lib/users). */
const ACCESS_CHANGES = ["admin_user.created", "admin_user.updated", "admin_user.role_changed", "admin_user.enabled"];

/**
 * Who may approve a four-eyes request (a force release at or above the threshold, or admin
 * access): the second pair of eyes must be independent of the first. The approver
 *
 * 1. is not the requester;
 * 2. is an active admin who already was one before the request was made: an account created,
 *    promoted or re-enabled since could be the requester's own (one admin can create another),
 *    which would make the rule one person's word;
 * 3. did not get their admin access at the requester's request, and the requester did not get
 *    theirs at the approver's request (an admin who asked for an account knows its initial
 *    password, or picked its holder): whoever was granted admin access through a four-eyes
 *    request never approves for the admin who asked for it, nor the other way round. The one
 *    grant made alone, by the only active admin (bootstrap), does not count here: with two
 *    admins it is what makes four-eyes possible at all; it is audited and alerted instead.
 *
 * Throws ForbiddenError (403) naming which rule; nothing is written.
 */
export async function requireIndependentApprover(
  tx: Tx,
  input: { approverId: string; requesterId: string; requestedAt: Date; what: string },
): Promise<void> {
  const problem = await independenceProblem(tx, input);
  if (problem) throw new ForbiddenError(problem);
}

/** Why `approverId` may not approve the request (the rules above), or null when they may. Reads only. */
export async function independenceProblem(
  db: Tx | Db,
  input: { approverId: string; requesterId: string; requestedAt: Date; what: string },
): Promise<string | null> {
  const { approverId, requesterId, requestedAt, what } = input;
  if (approverId === requesterId) return `You requested this ${what}; a second admin must approve it.`;
  const approver = await db.adminUser.findUnique({ where: { id: approverId }, select: { role: true, disabledAt: true, createdAt: true } });
  if (!approver || approver.role !== "admin" || approver.disabledAt) {
    return "Your own access changed a moment ago; you can no longer approve requests.";
  }
  const changed = await db.auditLog.count({
    where: { entityType: "admin_user", entityId: approverId, action: { in: ACCESS_CHANGES }, createdAt: { gte: requestedAt } },
  });
  if (approver.createdAt >= requestedAt || changed > 0) {
    return "Your account was created or given access after this request was made; an admin who held the role before it must approve it.";
  }
  const sponsored = await db.adminAccessRequest.count({
    where: {
      status: "approved",
      direct: false,
      OR: [
        { userId: approverId, requestedById: requesterId },
        { userId: requesterId, requestedById: approverId },
      ],
    },
  });
  if (sponsored > 0) {
    return `One of you asked for the other's admin access, so you cannot approve each other's requests; an admin independent of both must approve this ${what}.`;
  }
  return null;
}
