import "server-only";

import { adminActorOf } from "@/lib/audit/admin-actor";
import { recordAudit } from "@/lib/audit/record-audit";
import type { TCurrentUser } from "@/lib/auth/session";
import type { Tx } from "@/lib/db";
import { ConflictError } from "@/lib/errors";

import {
  accessWords,
  adminAccessRequestInclude,
  alertAdminAccess,
  otherActiveAdmins,
  personLabel,
  type TAdminAccessKind,
  toAccessRequestItem,
} from "./admin-access-rules";
import type { TAdminAccessRequestItem } from "./types";

export type TAdminAccessTarget = {
  kind: TAdminAccessKind;
  /** The account; for `create`, the id the new account will get. */
  userId: string;
  email: string;
  name: string;
  /** `create` only: the initial password's hash, kept until the decision. */
  passwordHash?: string;
  reason: string | null;
};

/**
 * Called inside a user change's transaction, under lockUserChanges, when the change would give
 * someone admin access. With another active admin, records a pending request instead (audited on
 * the account, alerted to the admins) and returns it: the caller then changes nothing. With none
 * (bootstrap) returns null: the caller applies the change and calls recordAdminAccessGrantedAlone.
 * A second request for the same account (or new email) while one is pending is a conflict (409).
 */
export async function requestAdminAccessIfNeeded(
  tx: Tx,
  target: TAdminAccessTarget,
  actingAdmin: TCurrentUser,
  now: Date,
): Promise<TAdminAccessRequestItem | null> {
  if ((await otherActiveAdmins(tx, actingAdmin.id)) === 0) return null;

  const pending = await tx.adminAccessRequest.findFirst({
    where: {
      status: "pending",
      OR: [{ userId: target.userId }, ...(target.kind === "create" ? [{ kind: "create" as const, email: target.email }] : [])],
    },
    include: adminAccessRequestInclude,
  });
  if (pending) {
    throw new ConflictError(
      `Admin access for ${personLabel(target)} is already awaiting a second admin's approval (requested by ${pending.requestedBy.name}).`,
      { requestId: pending.id },
    );
  }

  const request = await tx.adminAccessRequest.create({
    data: {
      ...requestRow(target, actingAdmin, now),
      passwordHash: target.kind === "create" ? (target.passwordHash ?? null) : null,
    },
    include: adminAccessRequestInclude,
  });
  await recordAudit(tx, {
    actor: adminActorOf(actingAdmin),
    action: "admin_access.requested",
    entityType: "admin_user",
    entityId: target.userId,
    reason: target.reason,
    after: { requestId: request.id, kind: target.kind, email: target.email, name: target.name, role: "admin", status: "pending" },
    at: now,
  });
  const requester = personLabel(actingAdmin);
  await alertAdminAccess(
    tx,
    "requested",
    request.id,
    `Admin access requested for ${target.name}`,
    `${requester} asks to ${accessWords(target.kind, target)}.${target.reason ? ` Reason: "${target.reason}".` : ""} ` +
      `Another admin must approve or reject it on the Users page; until then nothing changes.`,
  );
  return toAccessRequestItem(request);
}

/**
 * The only active admin gave admin access alone (bootstrap: nobody else could approve it). Kept
 * as an approved, `direct` request, audited and alerted, so every admin can see who made whom an
 * admin without a second pair of eyes. From then on there is another admin, so the next grant
 * is a four-eyes request.
 */
export async function recordAdminAccessGrantedAlone(
  tx: Tx,
  target: Omit<TAdminAccessTarget, "passwordHash">,
  actingAdmin: TCurrentUser,
  now: Date,
): Promise<void> {
  const request = await tx.adminAccessRequest.create({
    data: {
      ...requestRow(target, actingAdmin, now),
      status: "approved",
      direct: true,
      decidedById: actingAdmin.id,
      decidedAt: now,
      decisionNote: "Granted alone: there was no other active admin to approve it.",
    },
  });
  await recordAudit(tx, {
    actor: adminActorOf(actingAdmin),
    action: "admin_access.granted_alone",
    entityType: "admin_user",
    entityId: target.userId,
    reason: target.reason,
    after: { requestId: request.id, kind: target.kind, email: target.email, name: target.name, role: "admin", direct: true },
    at: now,
  });
  await alertAdminAccess(
    tx,
    "granted",
    request.id,
    `${target.name} was made an admin without a second admin`,
    `${personLabel(actingAdmin)} chose to ${accessWords(target.kind, target)} alone: there was no other active admin to approve it.` +
      `${target.reason ? ` Reason: "${target.reason}".` : ""} From now on, admin access needs a second admin's approval.`,
  );
}

/** The request's own fields: what is asked for whom, why, by whom and when. */
function requestRow(target: Omit<TAdminAccessTarget, "passwordHash">, actingAdmin: TCurrentUser, now: Date) {
  return {
    kind: target.kind,
    userId: target.userId,
    email: target.email,
    name: target.name,
    reason: target.reason,
    requestedById: actingAdmin.id,
    createdAt: now,
  };
}
