import "server-only";

import { adminActorOf } from "@/lib/audit/admin-actor";
import { recordAudit } from "@/lib/audit/record-audit";
import { hashPassword } from "@/lib/auth/password";
import type { TCurrentUser } from "@/lib/auth/session";
import type { Db } from "@/lib/db";
import { ConflictError } from "@/lib/errors";

import { toUserItem, userSelect } from "./list-users";
import type { TAdminUserItem } from "./types";
import type { TCreateUser } from "./user-schemas";

function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === "P2002";
}

/**
 * Creates a dashboard user with an initial password, audited with the acting admin in the
 * same transaction. An email that is already taken is a conflict (this never overwrites
 * another user; the CLI's upsert does that on purpose).
 */
export async function createAdminUser(db: Db, input: TCreateUser, actingAdmin: TCurrentUser): Promise<TAdminUserItem> {
  const conflict = () => new ConflictError(`A user with the email ${input.email} already exists.`, { field: "email" });
  if (await db.adminUser.findUnique({ where: { email: input.email }, select: { id: true } })) throw conflict();
  const passwordHash = await hashPassword(input.password);
  try {
    return await db.$transaction(async (tx) => {
      const user = await tx.adminUser.create({
        data: { email: input.email, name: input.name, role: input.role, passwordHash },
        select: userSelect,
      });
      await recordAudit(tx, {
        actor: adminActorOf(actingAdmin),
        action: "admin_user.created",
        entityType: "admin_user",
        entityId: user.id,
        reason: input.reason ?? null,
        before: null,
        after: { email: user.email, name: user.name, role: user.role, disabled: false },
      });
      return toUserItem(user);
    });
  } catch (error) {
    // Created concurrently by someone else between the check and the insert.
    if (isUniqueViolation(error)) throw conflict();
    throw error;
  }
}
