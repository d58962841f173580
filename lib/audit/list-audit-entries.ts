import "server-only";

import type { Prisma } from "@/generated/prisma/client";
import { hasRole, type TRole } from "@/lib/auth/roles";
import type { Db } from "@/lib/db";
import { ValidationError } from "@/lib/errors";
import { decodeInstantPosition, encodeInstantPosition } from "@/lib/list/keyset-position";

import { AUDIT_ENTRY_SELECT, type TAuditEntryRow } from "./audit-entry-select";
import { ADMIN_ONLY_AUDIT_ENTITY_TYPES, AUDIT_PAGE_SIZE, type TAuditFilter } from "./list-audit-filter";

/** An audit entry as the list shows it (dates as ISO strings). */
export type TAuditListItem = Omit<TAuditEntryRow, "createdAt"> & { createdAt: string };

export type TAuditList = {
  items: TAuditListItem[];
  /** Position for the next (older) page; null on the last page. */
  nextCursor: string | null;
  /** Position for the previous (newer) page; null on the first page. */
  prevCursor: string | null;
};

const DAY_MS = 24 * 60 * 60 * 1000;

export function auditCursor(entry: { createdAt: string | Date; id: string }): string {
  return encodeInstantPosition({ at: entry.createdAt, id: entry.id });
}

/** The position of a validated filter (ZAuditFilter has checked it; anything else is a 400). */
function parseCursor(cursor: string): { createdAt: Date; id: string } {
  const position = decodeInstantPosition(cursor);
  if (!position) throw new ValidationError("Not a page position; start again from the first page.", { field: "cursor" });
  return { createdAt: position.at, id: position.id };
}

/**
 * The filter's WHERE, without the page position, for a reader with `role`: entries about
 * dashboard accounts only for admins. Dates are UTC days, both ends included.
 */
export function auditWhere(filter: TAuditFilter, role: TRole): Prisma.AuditLogWhereInput {
  const where: Prisma.AuditLogWhereInput = hasRole(role, "admin")
    ? {}
    : { NOT: { entityType: { in: [...ADMIN_ONLY_AUDIT_ENTITY_TYPES] } } };
  if (filter.actor === "system" || filter.actor === "webhook" || filter.actor === "admin") where.actorType = filter.actor;
  else if (filter.actor?.startsWith("user:")) {
    where.actorType = "admin";
    where.actorId = filter.actor.slice("user:".length).toLowerCase();
  }
  if (filter.action) where.action = filter.action;
  if (filter.entityType) where.entityType = filter.entityType;
  if (filter.entityId) where.entityId = filter.entityId;
  if (filter.from || filter.to) {
    where.createdAt = {
      ...(filter.from ? { gte: new Date(`${filter.from}T00:00:00.000Z`) } : {}),
      ...(filter.to ? { lt: new Date(Date.parse(`${filter.to}T00:00:00.000Z`) + DAY_MS) } : {}),
    };
  }
  return where;
}

/**
 * One page of the audit log as a reader with `role` may see it (see auditWhere; without a
 * role, as a non-admin), newest first, with keyset pagination on (createdAt, id) (the
 * index on both): `after` continues with older entries, `before` goes back to newer ones.
 */
export async function listAuditEntries(
  db: Db,
  filter: TAuditFilter,
  pageSize = AUDIT_PAGE_SIZE,
  role: TRole = "viewer",
): Promise<TAuditList> {
  const where = auditWhere(filter, role);
  if (filter.before) {
    const { createdAt, id } = parseCursor(filter.before);
    const rows = await db.auditLog.findMany({
      where: { AND: [where, { OR: [{ createdAt: { gt: createdAt } }, { createdAt, id: { gt: id } }] }] },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      take: pageSize + 1,
      select: AUDIT_ENTRY_SELECT,
    });
    const hasNewer = rows.length > pageSize;
    const items = rows.slice(0, pageSize).reverse().map(toItem);
    const last = items.at(-1);
    const first = items[0];
    return { items, nextCursor: last ? auditCursor(last) : filter.before, prevCursor: hasNewer && first ? auditCursor(first) : null };
  }
  const position = filter.after ? parseCursor(filter.after) : null;
  const rows = await db.auditLog.findMany({
    where: position
      ? { AND: [where, { OR: [{ createdAt: { lt: position.createdAt } }, { createdAt: position.createdAt, id: { lt: position.id } }] }] }
      : where,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: pageSize + 1,
    select: AUDIT_ENTRY_SELECT,
  });
  const hasOlder = rows.length > pageSize;
  const items = rows.slice(0, pageSize).map(toItem);
  const last = items.at(-1);
  const first = items[0];
  return {
    items,
    nextCursor: hasOlder && last ? auditCursor(last) : null,
    prevCursor: position ? (first ? auditCursor(first) : (filter.after ?? null)) : null,
  };
}

function toItem(row: TAuditEntryRow): TAuditListItem {
  return { ...row, createdAt: row.createdAt.toISOString() };
}

export type TAuditActorOption = { value: string; label: string };

/**
 * What the actor and action filters offer a reader with `role` (without one, a non-admin).
 * Admins: every dashboard user and every action in the log. Others: only the users who
 * acted on an entry they can see (as "Name (email)", which those entries' actor labels
 * show anyway), so the list is not a user directory, and no admin-only actions. Actions
 * come from a loose index scan over the (action, createdAt) index, so it stays cheap on a
 * big log; the actors from one probe of the (actorId, createdAt) index per user.
 */
export async function listAuditFilterOptions(db: Db, role: TRole = "viewer"): Promise<{ users: TAuditActorOption[]; actions: string[] }> {
  const admin = hasRole(role, "admin");
  const hidden = [...ADMIN_ONLY_AUDIT_ENTITY_TYPES];
  const [users, actions] = await db.$transaction([
    admin
      ? db.adminUser.findMany({ orderBy: [{ name: "asc" }, { id: "asc" }], select: { id: true, name: true, email: true } })
      : db.$queryRaw<{ id: string; name: string; email: string }[]>`
          SELECT u.id::text, u.name, u.email FROM "AdminUser" u
          WHERE EXISTS (SELECT 1 FROM "AuditLog" l
                        WHERE l."actorId" = u.id::text AND l."actorType" = 'admin' AND l."entityType" <> ALL(${hidden}::text[]))
          ORDER BY u.name, u.id`,
    db.$queryRaw<{ action: string }[]>`
      WITH RECURSIVE a AS (
        (SELECT l."action" FROM "AuditLog" l ORDER BY l."action" LIMIT 1)
        UNION ALL
        SELECT (SELECT l."action" FROM "AuditLog" l WHERE l."action" > a."action" ORDER BY l."action" LIMIT 1)
        FROM a WHERE a."action" IS NOT NULL
      )
      SELECT a."action" FROM a WHERE a."action" IS NOT NULL`,
  ]);
  return {
    users: users.map((u) => ({ value: `user:${u.id}`, label: `${u.name} (${u.email})` })),
    // Entity types are not in the action index; services name their actions `<entity type>.<verb>`.
    actions: actions.map((a) => a.action).filter((action) => admin || !hidden.some((type) => action.startsWith(`${type}.`))),
  };
}
