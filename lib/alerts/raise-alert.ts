import "server-only";

import type { AlertSeverity } from "@/generated/prisma/enums";
import type { Tx } from "@/lib/db";
import { noteAlertRaised } from "@/lib/notifications/noted-alerts";

export type TAlertInput = {
  kind: string;
  severity: AlertSeverity;
  title: string;
  message: string;
  payoutId?: string | null;
  providerId?: string | null;
  /** Raising an alert with the same key again is a no-op (steps may run twice). */
  dedupeKey: string;
};

/**
 * Raises an admin alert (shown on the Overview and the Alerts page). Returns false if it already
 * existed. A new one is noted for the notifications' first attempt, made right after the commit
 * (lib/notifications/after-commit.ts).
 */
export async function raiseAlert(tx: Tx, alert: TAlertInput): Promise<boolean> {
  const { count } = await tx.alert.createMany({
    data: [
      {
        kind: alert.kind,
        severity: alert.severity,
        title: alert.title,
        message: alert.message,
        payoutId: alert.payoutId ?? null,
        providerId: alert.providerId ?? null,
        dedupeKey: alert.dedupeKey,
      },
    ],
    skipDuplicates: true,
  });
  if (count === 1) noteAlertRaised(alert.dedupeKey);
  return count === 1;
}
