import "server-only";

import type { AdminAccessRequest } from "@/generated/prisma/client";
import { raiseAlert } from "@/lib/alerts/raise-alert";
import type { Tx } from "@/lib/db";
import { ForbiddenError } from "@/lib/errors";

import type { TAdminAccessRequestItem } from "./types";

// Four-eyes for admin access. Once there is another active admin, giving someone admin access
// (creating an admin account, promoting a user to admin, enabling a disabled admin) only records
// a request; a different, independent admin approves it (lib/approvals/independent-approver.ts)
// and only then is the access granted. The only active admin grants it alone (bootstrap), audited
// and alerted. Taking access away (demoting, disabling) stays direct. Both the request and the
// grant raise an alert every admin sees on the Alerts page.

/** Alert kinds (Alert.kind) of admin access. */
export const ADMIN_ACCESS_ALERTS = { requested: "admin_access_requested", granted: "admin_access_granted" } as const;

export type TAdminAccessKind = TAdminAccessRequestItem["kind"];

export const adminAccessRequestInclude = { requestedBy: { select: { id: true, name: true, email: true } } } as const;

export type TAdminAccessRequestRow = AdminAccessRequest & { requestedBy: { id: string; name: string; email: string } };

export function toAccessRequestItem(row: TAdminAccessRequestRow): TAdminAccessRequestItem {
  return {
    id: row.id,
    kind: row.kind,
    userId: row.userId,
    email: row.email,
    name: row.name,
    reason: row.reason,
    status: row.status,
    requestedBy: row.requestedBy,
    createdAt: row.createdAt.toISOString(),
  };
}

export function personLabel(person: { name: string; email: string }): string {
  return `${person.name} <${person.email}>`;
}

/** What is asked, in words: "create an admin account for Bob <bob@example.com>". */
export function accessWords(kind: TAdminAccessKind, who: { name: string; email: string }): string {
  switch (kind) {
    case "create":
      return `create an admin account for ${personLabel(who)}`;
    case "promote":
      return `give ${personLabel(who)} the admin role`;
    case "enable":
      return `enable the admin account of ${personLabel(who)}`;
  }
}

/**
 * Role and access changes apply one at a time (the same lock for every change of a user's role
 * or access): the count of admins, the pending requests and the acting admin stay what they were
 * read as until the transaction ends.
 */
export async function lockUserChanges(tx: Tx): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended('admin-user-changes', 0))`;
}

/** The acting admin, re-read under the lock: still an active admin. */
export async function requireActiveAdmin(tx: Tx, userId: string): Promise<void> {
  const actor = await tx.adminUser.findUnique({ where: { id: userId }, select: { role: true, disabledAt: true } });
  if (!actor || actor.role !== "admin" || actor.disabledAt) {
    throw new ForbiddenError("Your own access changed a moment ago; you can no longer manage users.");
  }
}

/** Whether a change of `before` gives admin access: promoting an active user, or enabling a disabled admin. */
export function adminGrantOf(
  before: { role: string; disabledAt: Date | null },
  change: { role: string } | { disabled: boolean },
): "promote" | "enable" | null {
  if ("role" in change) return change.role === "admin" && before.role !== "admin" && before.disabledAt === null ? "promote" : null;
  return !change.disabled && before.disabledAt !== null && before.role === "admin" ? "enable" : null;
}

/** Active admins other than `userId`: with none, that admin grants admin access alone (bootstrap). */
export function otherActiveAdmins(tx: Tx, userId: string): Promise<number> {
  return tx.adminUser.count({ where: { role: "admin", disabledAt: null, id: { not: userId } } });
}

/** Raises an admin access alert (every admin sees it on the Alerts page), once per request and kind. */
export async function alertAdminAccess(
  tx: Tx,
  kind: keyof typeof ADMIN_ACCESS_ALERTS,
  requestId: string,
  title: string,
  message: string,
): Promise<void> {
  await raiseAlert(tx, {
    kind: ADMIN_ACCESS_ALERTS[kind],
    severity: "warning",
    title: title.slice(0, 255),
    message,
    dedupeKey: `${ADMIN_ACCESS_ALERTS[kind]}:${requestId}`,
  });
}
