import "server-only";

import { adminActorOf } from "@/lib/audit/admin-actor";
import { recordAudit } from "@/lib/audit/record-audit";
import { revokeAllSessions } from "@/lib/auth/admin-sessions";
import type { TCurrentUser } from "@/lib/auth/session";
import type { Db } from "@/lib/db";
import { ForbiddenError, NotFoundError } from "@/lib/errors";

import { adminGrantOf } from "./admin-access-rules";
import { toUserItem, userSelect } from "./list-users";
import { recordAdminAccessGrantedAlone, requestAdminAccessIfNeeded } from "./request-admin-access";
import type { TUserChangeResult } from "./types";
import type { TUpdateUser } from "./user-schemas";

/**
 * Changes a user's role, or disables / enables them, audited with the acting admin and the
 * reason in the same transaction. Every change bumps the session version, so the user's
 * sessions end at once. An admin cannot demote or disable themselves (no lock-out); changes
 * are serialised and the acting admin re-checked, so the acting admin always stays an admin
 * and there is always one left, even under concurrent requests. Giving admin access (promoting
 * an active user, enabling a disabled admin) is four-eyes: while another admin is active it is
 * only requested (`request`, nothing changed; a second admin approves it, approveAdminAccess).
 */
export async function updateAdminUser(
  db: Db,
  input: { userId: string } & TUpdateUser,
  actingAdmin: TCurrentUser,
  now: Date = new Date(),
): Promise<TUserChangeResult> {
  const self = input.userId === actingAdmin.id;
  if (self && "role" in input && input.role !== "admin") {
    throw new ForbiddenError("You cannot change your own role. Ask another admin.");
  }
  if (self && "disabled" in input && input.disabled) {
    throw new ForbiddenError("You cannot disable your own account. Ask another admin.");
  }

  return db.$transaction(async (tx) => {
    // Role and access changes apply one at a time, and the acting admin is re-checked under
    // that lock: two admins demoting or disabling each other at once cannot both succeed
    // (which would leave nobody to manage users).
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended('admin-user-changes', 0))`;
    const actor = await tx.adminUser.findUnique({ where: { id: actingAdmin.id }, select: { role: true, disabledAt: true } });
    if (!actor || actor.role !== "admin" || actor.disabledAt) {
      throw new ForbiddenError("Your own access changed a moment ago; you can no longer manage users.");
    }
    const locked = await tx.$queryRaw<{ id: string }[]>`SELECT "id"::text FROM "AdminUser" WHERE "id" = ${input.userId}::uuid FOR UPDATE`;
    if (locked.length === 0) throw new NotFoundError("User", input.userId);
    const before = await tx.adminUser.findUniqueOrThrow({ where: { id: input.userId }, select: userSelect });
    // Four-eyes for admin access: with another admin active, only a request is recorded.
    const grant = adminGrantOf(before, input);
    const target = grant && { kind: grant, userId: before.id, email: before.email, name: before.name, reason: input.reason };
    const request = target && (await requestAdminAccessIfNeeded(tx, target, actingAdmin, now));
    if (request) return { user: toUserItem(before), changed: false, request };

    if ("role" in input) {
      if (before.role === input.role) return { user: toUserItem(before), changed: false };
      const after = await tx.adminUser.update({
        where: { id: before.id },
        data: { role: input.role, sessionVersion: { increment: 1 } },
        select: userSelect,
      });
      await revokeAllSessions(tx, before.id, "role_changed", now);
      await recordAudit(tx, {
        actor: adminActorOf(actingAdmin),
        action: "admin_user.role_changed",
        entityType: "admin_user",
        entityId: before.id,
        reason: input.reason,
        before: { role: before.role },
        after: { role: after.role },
        at: now,
      });
      if (target) await recordAdminAccessGrantedAlone(tx, target, actingAdmin, now);
      return { user: toUserItem(after), changed: true };
    }

    const isDisabled = before.disabledAt !== null;
    if (isDisabled === input.disabled) return { user: toUserItem(before), changed: false };
    const after = await tx.adminUser.update({
      where: { id: before.id },
      data: { disabledAt: input.disabled ? now : null, sessionVersion: { increment: 1 } },
      select: userSelect,
    });
    if (input.disabled) await revokeAllSessions(tx, before.id, "disabled", now);
    await recordAudit(tx, {
      actor: adminActorOf(actingAdmin),
      action: input.disabled ? "admin_user.disabled" : "admin_user.enabled",
      entityType: "admin_user",
      entityId: before.id,
      reason: input.reason,
      before: { disabledAt: before.disabledAt?.toISOString() ?? null },
      after: { disabledAt: after.disabledAt?.toISOString() ?? null },
      at: now,
    });
    if (target) await recordAdminAccessGrantedAlone(tx, target, actingAdmin, now);
    return { user: toUserItem(after), changed: true };
  });
}
