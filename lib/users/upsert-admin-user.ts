import type { PrismaClient } from "@/generated/prisma/client";
import type { AdminRole } from "@/generated/prisma/enums";
import { toAuditRow, type TActor } from "@/lib/audit/record-audit";
import { revokeAllSessions } from "@/lib/auth/admin-sessions";
import { hashPassword } from "@/lib/auth/password";
import { ValidationError } from "@/lib/errors";

import { MIN_PASSWORD_LENGTH } from "./user-schemas";

export { MIN_PASSWORD_LENGTH };

export type TUpsertAdminUserInput = { email: string; name: string; role: AdminRole; password: string };

/**
 * Creates an admin user, or updates the name, role and password of an existing one and
 * bumps its session version (signing it out everywhere). Audited in the same transaction.
 */
export async function upsertAdminUser(db: PrismaClient, input: TUpsertAdminUserInput, actor: TActor) {
  const email = input.email.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new ValidationError(`"${input.email}" is not an email address.`);
  if (input.name.trim().length === 0) throw new ValidationError("A name is required.");
  if (input.password.length < MIN_PASSWORD_LENGTH) {
    throw new ValidationError(`The password must be at least ${MIN_PASSWORD_LENGTH} characters.`);
  }
  const passwordHash = await hashPassword(input.password);
  return db.$transaction(async (tx) => {
    const existing = await tx.adminUser.findUnique({ where: { email } });
    const user = existing
      ? await tx.adminUser.update({
          where: { id: existing.id },
          data: { name: input.name.trim(), role: input.role, passwordHash, sessionVersion: { increment: 1 }, disabledAt: null },
        })
      : await tx.adminUser.create({ data: { email, name: input.name.trim(), role: input.role, passwordHash } });
    // A new password (and perhaps role) ends every session the user had, on the server too.
    if (existing) await revokeAllSessions(tx, existing.id, "password_changed");
    await tx.auditLog.create({
      data: toAuditRow({
        actor,
        action: existing ? "admin_user.updated" : "admin_user.created",
        entityType: "admin_user",
        entityId: user.id,
        before: existing ? { email: existing.email, name: existing.name, role: existing.role } : null,
        after: { email: user.email, name: user.name, role: user.role },
      }),
    });
    return user;
  });
}
