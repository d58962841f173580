import "server-only";

import { adminActorOf } from "@/lib/audit/admin-actor";
import { recordAudit } from "@/lib/audit/record-audit";
import type { Db } from "@/lib/db";
import { NotFoundError } from "@/lib/errors";

import { ALERT_ACKNOWLEDGED_ACTION, alertSelect, toAlertItems } from "./list-alerts";
import type { TAcknowledgeAlert } from "./list-alerts-filter";
import type { TAcknowledgeResult } from "./types";

/**
 * Acknowledges an alert for `user`: sets who and when, and writes the audit entry (with
 * the optional note as its reason) in the same transaction. Idempotent: an alert that is
 * already acknowledged is left as it is (first acknowledgement wins, also under
 * concurrent clicks) and is returned with `alreadyAcknowledged: true`.
 */
export async function acknowledgeAlert(
  db: Db,
  input: { alertId: string; note?: TAcknowledgeAlert["note"] },
  user: { id: string; name: string; email: string },
  now: Date = new Date(),
): Promise<TAcknowledgeResult> {
  return db.$transaction(async (tx) => {
    // One conditional UPDATE: a concurrent acknowledgement waits for this row and then
    // finds it acknowledged, so exactly one of them writes.
    const { count } = await tx.alert.updateMany({
      where: { id: input.alertId, acknowledgedAt: null },
      data: { acknowledgedAt: now, acknowledgedById: user.id },
    });
    const row = await tx.alert.findUnique({ where: { id: input.alertId }, select: alertSelect });
    if (!row) throw new NotFoundError("Alert", input.alertId);
    if (count === 1) {
      await recordAudit(tx, {
        actor: adminActorOf(user),
        action: ALERT_ACKNOWLEDGED_ACTION,
        entityType: "alert",
        entityId: row.id,
        reason: input.note ?? null,
        before: { acknowledgedAt: null, acknowledgedById: null },
        after: { acknowledgedAt: now.toISOString(), acknowledgedById: user.id },
        at: now,
      });
    }
    const [alert] = await toAlertItems(tx, [row]);
    if (!alert) throw new NotFoundError("Alert", input.alertId);
    return { alert, alreadyAcknowledged: count === 0 };
  });
}
