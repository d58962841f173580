// The payout detail's timeline: its audit entries, tips, disputes, transfer attempts and
// reversals merged into one list, newest first, causes before effects. Pure: no I/O.
import type { TAuditEntryRow } from "@/lib/audit/audit-entry-select";
import { readPayoutSnapshot } from "@/lib/audit/audit-snapshots";
import { APPROVAL_AUDIT_ACTIONS } from "@/lib/payouts/four-eyes";

import type {
  TAuditTimelineItem,
  TDisputeView,
  TPayoutDetailActor,
  TReversalView,
  TTimelineItem,
  TTipView,
  TTransferAttemptView,
} from "./payout-detail-types";

export const iso = (d: Date) => d.toISOString();
export const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

/** An audit entry as the timeline reads it (AUDIT_ENTRY_SELECT). */
export type TAuditRow = Omit<TAuditEntryRow, "requestId" | "runId">;

function auditItem(row: TAuditRow): TAuditTimelineItem {
  const before = readPayoutSnapshot(row.before);
  const after = readPayoutSnapshot(row.after);
  const statusBefore = before.status ?? null;
  const statusAfter = after.status ?? null;
  const amountBefore = before.amount ?? null;
  const amountAfter = after.amount ?? null;
  const transferBefore = before.stripeTransferId ?? null;
  const transferAfter = after.stripeTransferId ?? null;
  const statusChanged = statusAfter !== null && statusAfter !== statusBefore;
  const amountChanged = amountAfter !== null && amountBefore !== null && amountAfter !== amountBefore;
  return {
    kind: "audit",
    key: `audit:${row.id}`,
    at: iso(row.createdAt),
    action: row.action,
    entityType: row.entityType,
    actor: { type: row.actorType, id: row.actorId, label: row.actorLabel },
    reason: row.reason,
    statusFrom: statusChanged ? statusBefore : null,
    statusTo: statusChanged ? statusAfter : null,
    amountFrom: amountChanged ? amountBefore : null,
    amountTo: amountChanged ? amountAfter : null,
    stripeTransferId: transferAfter !== null && transferAfter !== transferBefore ? transferAfter : null,
    stripeReversalId: after.stripeReversalId ?? null,
  };
}

const actorOf = (row: TAuditRow): TPayoutDetailActor => ({ type: row.actorType, id: row.actorId, label: row.actorLabel });

/**
 * For entries written at the same instant (one transaction), the order in which things
 * happen: the fact first, then what the payout did about it.
 */
function causalRank(item: TTimelineItem): number {
  switch (item.kind) {
    case "tip":
    case "dispute_opened":
    case "dispute_resolved":
      return 1;
    case "transfer_attempt":
    case "reversal":
      return 4;
    case "audit":
      if (item.action === "booking.completed") return 0;
      if (item.action === "payout.scheduled") return 2;
      if (item.action === APPROVAL_AUDIT_ACTIONS.approved || item.action === APPROVAL_AUDIT_ACTIONS.requested) return 2;
      return 3;
  }
}

/** Merges the parts into one timeline, newest first. */
export function buildTimeline(parts: {
  audit: TAuditRow[];
  tips: TTipView[];
  disputes: TDisputeView[];
  attempts: TTransferAttemptView[];
  reversals: TReversalView[];
}): TTimelineItem[] {
  // Audit entries that record a tip or a dispute arriving are shown on that fact's item.
  const recordedBy = new Map<string, TPayoutDetailActor>();
  const items: TTimelineItem[] = [];
  for (const row of parts.audit) {
    if (row.entityType === "tip" && (row.action === "tip.accepted" || row.action === "tip.rejected")) {
      recordedBy.set(`tip:${row.entityId}`, actorOf(row));
    } else if (row.entityType === "dispute" && row.action === "dispute.opened") {
      recordedBy.set(`dispute_opened:${row.entityId}`, actorOf(row));
    } else if (row.entityType === "dispute" && row.action === "dispute.resolved") {
      recordedBy.set(`dispute_resolved:${row.entityId}`, actorOf(row));
    } else {
      items.push(auditItem(row));
    }
  }
  for (const tip of parts.tips) {
    items.push({ kind: "tip", key: `tip:${tip.id}`, at: tip.receivedAt, tip, recordedBy: recordedBy.get(`tip:${tip.id}`) ?? null });
  }
  for (const dispute of parts.disputes) {
    items.push({
      kind: "dispute_opened",
      key: `dispute_opened:${dispute.id}`,
      at: dispute.openedAt,
      dispute,
      recordedBy: recordedBy.get(`dispute_opened:${dispute.id}`) ?? null,
    });
    if (dispute.resolvedAt) {
      items.push({
        kind: "dispute_resolved",
        key: `dispute_resolved:${dispute.id}`,
        at: dispute.resolvedAt,
        dispute,
        recordedBy: recordedBy.get(`dispute_resolved:${dispute.id}`) ?? null,
      });
    }
  }
  for (const attempt of parts.attempts) {
    items.push({ kind: "transfer_attempt", key: `attempt:${attempt.id}`, at: attempt.startedAt, attempt });
  }
  for (const reversal of parts.reversals) {
    items.push({ kind: "reversal", key: `reversal:${reversal.id}`, at: reversal.createdAt, reversal });
  }
  const order = new Map(items.map((item, index) => [item.key, index]));
  return items.sort(
    (a, b) => Date.parse(b.at) - Date.parse(a.at) || causalRank(b) - causalRank(a) || (order.get(b.key) ?? 0) - (order.get(a.key) ?? 0),
  );
}
