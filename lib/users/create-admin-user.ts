import "server-only";

import { randomUUID } from "node:crypto";

import { adminActorOf } from "@/lib/audit/admin-actor";
import { recordAudit } from "@/lib/audit/record-audit";
import { hashPassword } from "@/lib/auth/password";
import type { TCurrentUser } from "@/lib/auth/session";
import type { Db } from "@/lib/db";
import { ConflictError } from "@/lib/errors";

import { lockUserChanges, requireActiveAdmin } from "./admin-access-rules";
import { toUserItem, userSelect } from "./list-users";
import { recordAdminAccessGrantedAlone, requestAdminAccessIfNeeded } from "./request-admin-access";
import type { TCreateUserResult } from "./types";
import type { TCreateUser } from "./user-schemas";

function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === "P2002";
}

/**
 * Creates a dashboard user with an initial password, audited with the acting admin in the
 * same transaction. An email that is already taken is a conflict (this never overwrites
 * another user; the CLI's upsert does that on purpose). An admin account is four-eyes: while
 * another admin is active it is only requested (`requested`; a second admin approves it,
 * approveAdminAccess), and the only admin creates it alone, audited and alerted.
 */
export async function createAdminUser(
  db: Db,
  input: TCreateUser,
  actingAdmin: TCurrentUser,
  now: Date = new Date(),
): Promise<TCreateUserResult> {
  const conflict = () => new ConflictError(`A user with the email ${input.email} already exists.`, { field: "email" });
  if (await db.adminUser.findUnique({ where: { email: input.email }, select: { id: true } })) throw conflict();
  const passwordHash = await hashPassword(input.password);
  const reason = input.reason ?? null;
  try {
    return await db.$transaction(async (tx): Promise<TCreateUserResult> => {
      const id = randomUUID();
      if (input.role === "admin") {
        await lockUserChanges(tx);
        await requireActiveAdmin(tx, actingAdmin.id);
        const target = { kind: "create" as const, userId: id, email: input.email, name: input.name, reason };
        const request = await requestAdminAccessIfNeeded(tx, { ...target, passwordHash }, actingAdmin, now);
        if (request) return { outcome: "requested", request };
      }
      const user = await tx.adminUser.create({
        data: { id, email: input.email, name: input.name, role: input.role, passwordHash },
        select: userSelect,
      });
      await recordAudit(tx, {
        actor: adminActorOf(actingAdmin),
        action: "admin_user.created",
        entityType: "admin_user",
        entityId: user.id,
        reason,
        before: null,
        after: { email: user.email, name: user.name, role: user.role, disabled: false },
        at: now,
      });
      if (input.role === "admin") {
        await recordAdminAccessGrantedAlone(
          tx,
          { kind: "create", userId: id, email: user.email, name: user.name, reason },
          actingAdmin,
          now,
        );
      }
      return { outcome: "created", user: toUserItem(user) };
    });
  } catch (error) {
    // Created concurrently by someone else between the check and the insert.
    if (isUniqueViolation(error)) throw conflict();
    throw error;
  }
}
