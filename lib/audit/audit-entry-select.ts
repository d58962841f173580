// The columns of an audit entry its readers show: the audit list (list-audit-entries.ts) and the
// payout detail's timeline (lib/payouts/get-payout-detail.ts). One select, so both read the same.
import type { Prisma } from "@/generated/prisma/client";

export const AUDIT_ENTRY_SELECT = {
  id: true,
  createdAt: true,
  actorType: true,
  actorId: true,
  actorLabel: true,
  action: true,
  entityType: true,
  entityId: true,
  reason: true,
  before: true,
  after: true,
  requestId: true,
  runId: true,
} as const satisfies Prisma.AuditLogSelect;

/** An audit entry as AUDIT_ENTRY_SELECT reads it. */
export type TAuditEntryRow = Prisma.AuditLogGetPayload<{ select: typeof AUDIT_ENTRY_SELECT }>;
