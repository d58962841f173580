import "server-only";

import { Prisma } from "@/generated/prisma/client";
import type { ActorType } from "@/generated/prisma/enums";
import type { Tx } from "@/lib/db";
import { sqlExecute } from "@/lib/direct-sql";

import type { TAuditAction } from "./audit-actions";
import type { TPayoutAfter, TPayoutSnapshot } from "./audit-snapshots";

/** Who did something: an admin (id + label), a webhook, or the system (a function or job name). */
export type TActor =
  | { type: "admin"; id: string; label: string }
  | { type: "webhook"; id: string; label: string }
  | { type: "system"; id: string; label: string };

export type TAuditEntry = {
  actor: TActor;
  /** Dotted verb, one of AUDIT_ACTIONS (lib/audit/audit-actions.ts). */
  action: TAuditAction;
  entityType:
    | "payout"
    | "booking"
    | "tip"
    | "dispute"
    | "provider"
    | "stripe_account"
    | "alert"
    | "alert_notification"
    | "admin_user"
    | "webhook_event"
    | "platform_webhook";
  entityId: string;
  reason?: string | null;
  before?: Prisma.InputJsonValue | null;
  after?: Prisma.InputJsonValue | null;
  requestId?: string | null;
  runId?: string | null;
  at?: Date;
};

/**
 * An entry for a change of a payout's row (lib/payouts/change-payout.ts and the writers beside it):
 * its snapshot before (none when it is created) and after, with the change's details. Typed, so an
 * entry with another shape does not compile.
 */
export type TPayoutChangeAudit = Omit<TAuditEntry, "entityType" | "before" | "after"> & {
  before: TPayoutSnapshot | null;
  after: TPayoutAfter;
};

export function payoutChangeEntry<T extends TPayoutChangeAudit>(entry: T): T & { entityType: "payout" } {
  return { ...entry, entityType: "payout" };
}

/** When this process last dated an audit entry (ms since the epoch). */
let lastEntryAt = 0;

/**
 * The time of a new audit entry: now, or a millisecond after the entry this process dated last when
 * that is not before now. Entries sort by (createdAt, id), and the id is random: two written one after
 * another in the same millisecond (a change and the next one in a transaction) would otherwise sort
 * either way on the timeline and for the audit chain. Only a burst of more than one entry per
 * millisecond moves the times ahead, by a millisecond per entry beyond that.
 */
export function entryTime(): Date {
  lastEntryAt = Math.max(Date.now(), lastEntryAt + 1);
  return new Date(lastEntryAt);
}

export function toAuditRow(entry: TAuditEntry): Prisma.AuditLogCreateManyInput {
  return {
    actorType: entry.actor.type satisfies ActorType,
    actorId: entry.actor.id,
    actorLabel: entry.actor.label,
    action: entry.action,
    entityType: entry.entityType,
    entityId: entry.entityId,
    reason: entry.reason ?? null,
    before: entry.before ?? undefined,
    after: entry.after ?? undefined,
    requestId: entry.requestId ?? null,
    runId: entry.runId ?? null,
    createdAt: entry.at ?? entryTime(),
  };
}

/**
 * Writes many audit entries in one statement inside the caller's transaction (the batch paths):
 * the rows recordAudit writes for each, in order, without the ORM's per-row query building.
 */
export async function recordAudits(tx: Tx, entries: readonly TAuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await sqlExecute(tx, auditInsertSql(entries, Prisma.sql`TRUE`));
}

/**
 * The INSERT of recordAudits, for a statement of the caller's (a change and its entry in one round
 * trip, changePayout): the entries are written only where `onlyIf` holds (a condition on the rest of
 * the statement, such as the change having matched a row).
 */
export function auditInsertSql(entries: readonly TAuditEntry[], onlyIf: Prisma.Sql): Prisma.Sql {
  // Text goes inside JSON here, where a lone surrogate is refused; as a text parameter (the ORM's
  // way) it was stored as U+FFFD: the same here.
  const text = (value: string | null | undefined) => value?.toWellFormed() ?? null;
  const rows = entries.map((e) => ({
    actorType: e.actor.type satisfies ActorType,
    actorId: text(e.actor.id),
    actorLabel: text(e.actor.label),
    action: e.action,
    entityType: e.entityType,
    entityId: text(e.entityId),
    reason: text(e.reason),
    before: e.before ?? null,
    after: e.after ?? null,
    requestId: text(e.requestId),
    runId: text(e.runId),
    // An entry without its own time takes the client's (entryTime), as recordAudit's do.
    createdAt: (e.at ?? entryTime()).toISOString(),
  }));
  // JSON null becomes SQL NULL in jsonb_to_recordset, as an omitted Json? field does.
  return Prisma.sql`
    INSERT INTO "AuditLog" ("actorType", "actorId", "actorLabel", action, "entityType", "entityId", reason, before, after, "requestId", "runId", "createdAt")
    SELECT "actorType"::"ActorType", "actorId", "actorLabel", action, "entityType", "entityId", reason, before, after, "requestId", "runId", "createdAt"
    FROM ROWS FROM (jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS (
      "actorType" text, "actorId" text, "actorLabel" text, action text, "entityType" text, "entityId" text, reason text,
      before jsonb, after jsonb, "requestId" text, "runId" text, "createdAt" timestamptz
    )) WITH ORDINALITY AS x("actorType", "actorId", "actorLabel", action, "entityType", "entityId", reason, before, after, "requestId", "runId", "createdAt", n)
    WHERE ${onlyIf}
    ORDER BY n`;
}

/** Writes one audit entry inside the caller's transaction, so it commits or rolls back with the change. */
export async function recordAudit(tx: Tx, entry: TAuditEntry): Promise<void> {
  await tx.auditLog.create({ data: toAuditRow(entry) });
}
