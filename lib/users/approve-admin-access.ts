import "server-only";

import { adminActorOf } from "@/lib/audit/admin-actor";
import { recordAudit } from "@/lib/audit/record-audit";
import { revokeAllSessions } from "@/lib/auth/admin-sessions";
import { requireIndependentApprover } from "@/lib/auth/independent-approver";
import type { TCurrentUser } from "@/lib/auth/session";
import type { Db, Tx } from "@/lib/db";
import { ConflictError } from "@/lib/errors";

import {
  accessWords,
  alertAdminAccess,
  lockUserChanges,
  personLabel,
  type TAdminAccessRequestRow,
  toAccessRequestItem,
} from "./admin-access-rules";
import { decideAdminAccessRequest } from "./decide-admin-access-request";
import { toUserItem, userSelect } from "./list-users";
import { lockAdminAccessRequest } from "./lock-admin-access-request";
import type { TAdminAccessDecision, TAdminUserItem } from "./types";

export type TAdminAccessDecisionInput = { requestId: string; reason: string };

/** Why a pending request can no longer be granted as asked (its requester or its account changed), or null. */
async function whyNoLongerValid(tx: Tx, request: TAdminAccessRequestRow): Promise<string | null> {
  const requester = await tx.adminUser.findUnique({ where: { id: request.requestedById }, select: { role: true, disabledAt: true } });
  if (!requester || requester.disabledAt) return "Since the request, the requesting admin's account was disabled.";
  if (requester.role !== "admin") return "Since the request, the requesting admin lost the admin role.";
  const user = await tx.adminUser.findFirst({
    where: request.kind === "create" ? { OR: [{ id: request.userId }, { email: request.email }] } : { id: request.userId },
    select: { role: true, disabledAt: true },
  });
  switch (request.kind) {
    case "create":
      return user ? `Since the request, an account with the email ${request.email} was created.` : null;
    case "promote":
      if (!user) return "The account no longer exists.";
      if (user.disabledAt) return "Since the request, the account was disabled.";
      return user.role === "admin" ? "Since the request, the account became an admin." : null;
    case "enable":
      if (!user) return "The account no longer exists.";
      if (!user.disabledAt) return "Since the request, the account was enabled.";
      return user.role !== "admin" ? "Since the request, the account lost the admin role." : null;
  }
}

/** Grants what the request asks, audited on the account with the approver as the actor. */
async function grant(tx: Tx, request: TAdminAccessRequestRow, approver: TCurrentUser, note: string, now: Date): Promise<TAdminUserItem> {
  const actor = adminActorOf(approver);
  const fourEyes = { requestId: request.id, requestedBy: personLabel(request.requestedBy), approvedBy: actor.label };
  switch (request.kind) {
    case "create": {
      if (!request.passwordHash) throw new ConflictError("This request has no initial password; ask for a new one.");
      const user = await tx.adminUser.create({
        data: {
          id: request.userId,
          email: request.email,
          name: request.name,
          role: "admin",
          passwordHash: request.passwordHash,
          createdAt: now,
        },
        select: userSelect,
      });
      await recordAudit(tx, {
        actor,
        action: "admin_user.created",
        entityType: "admin_user",
        entityId: user.id,
        reason: note,
        before: null,
        after: { email: user.email, name: user.name, role: user.role, disabled: false, ...fourEyes },
        at: now,
      });
      return toUserItem(user);
    }
    case "promote": {
      const before = await tx.adminUser.findUniqueOrThrow({ where: { id: request.userId }, select: { role: true } });
      const user = await tx.adminUser.update({
        where: { id: request.userId },
        data: { role: "admin", sessionVersion: { increment: 1 } },
        select: userSelect,
      });
      await revokeAllSessions(tx, user.id, "role_changed", now);
      await recordAudit(tx, {
        actor,
        action: "admin_user.role_changed",
        entityType: "admin_user",
        entityId: user.id,
        reason: note,
        before: { role: before.role },
        after: { role: user.role, ...fourEyes },
        at: now,
      });
      return toUserItem(user);
    }
    case "enable": {
      const before = await tx.adminUser.findUniqueOrThrow({ where: { id: request.userId }, select: { disabledAt: true } });
      const user = await tx.adminUser.update({
        where: { id: request.userId },
        data: { disabledAt: null, sessionVersion: { increment: 1 } },
        select: userSelect,
      });
      await recordAudit(tx, {
        actor,
        action: "admin_user.enabled",
        entityType: "admin_user",
        entityId: user.id,
        reason: note,
        before: { disabledAt: before.disabledAt?.toISOString() ?? null },
        after: { disabledAt: null, ...fourEyes },
        at: now,
      });
      return toUserItem(user);
    }
  }
}

/**
 * Admin (not the requester, and independent of them: requireIndependentApprover): approves a
 * pending admin access request, and the account is created, promoted or enabled in the same
 * transaction, audited on the account with both admins named, and alerted to the admins. A
 * request whose requester is no longer an active admin, or whose account changed since (its
 * email taken, promoted, disabled…), expires (recorded) and nothing is granted: 409.
 */
export async function approveAdminAccess(
  db: Db,
  input: TAdminAccessDecisionInput,
  approver: TCurrentUser,
  now: Date = new Date(),
): Promise<TAdminAccessDecision> {
  const result = await db.$transaction(
    async (tx): Promise<{ kind: "approved"; decision: TAdminAccessDecision } | { kind: "expired"; why: string }> => {
      await lockUserChanges(tx);
      const request = await lockAdminAccessRequest(tx, input.requestId);
      if (request.status !== "pending") throw new ConflictError(`This request is no longer pending (it was ${request.status}).`);
      await requireIndependentApprover(tx, {
        approverId: approver.id,
        requesterId: request.requestedById,
        requestedAt: request.createdAt,
        what: "admin access",
      });
      const actor = adminActorOf(approver);

      const why = await whyNoLongerValid(tx, request);
      if (why) {
        await tx.adminAccessRequest.update({
          where: { id: request.id },
          data: { status: "cancelled", decidedAt: now, decisionNote: `Expired. ${why}`, passwordHash: null },
        });
        await recordAudit(tx, {
          actor,
          action: "admin_access.expired",
          entityType: "admin_user",
          entityId: request.userId,
          reason: why,
          after: { requestId: request.id, kind: request.kind, requestedBy: personLabel(request.requestedBy), status: "cancelled" },
          at: now,
        });
        return { kind: "expired", why };
      }

      const user = await grant(tx, request, approver, input.reason, now);
      const decided = await decideAdminAccessRequest(tx, request, {
        status: "approved",
        action: "admin_access.approved",
        actor,
        deciderKey: "approvedBy",
        note: input.reason,
        now,
      });
      await alertAdminAccess(
        tx,
        "granted",
        request.id,
        `${request.name} is now an admin`,
        `${actor.label} approved the request of ${personLabel(request.requestedBy)} to ${accessWords(request.kind, request)}: "${input.reason}".`,
      );
      return { kind: "approved", decision: { request: toAccessRequestItem(decided), outcome: "approved", user } };
    },
  );

  if (result.kind === "expired") {
    throw new ConflictError(`This request has expired. ${result.why} Ask again if the access is still needed.`, {
      requestId: input.requestId,
      expired: true,
    });
  }
  return result.decision;
}
