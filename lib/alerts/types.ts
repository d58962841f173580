// JSON shapes of the Alerts list and the acknowledge answer (dates as ISO strings).
import type { AlertSeverity } from "@/generated/prisma/enums";
import type { TNumberedPage } from "@/lib/list/numbered-page";

export type TAlertListItem = {
  id: string;
  kind: string;
  severity: AlertSeverity;
  title: string;
  message: string;
  payoutId: string | null;
  provider: { id: string; name: string } | null;
  createdAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: { id: string; name: string; email: string } | null;
  /** The note given when it was acknowledged (from the audit log), if any. */
  acknowledgeNote: string | null;
};

export type TAlertList = TNumberedPage<TAlertListItem> & { counts: { open: number; acknowledged: number } };

export type TAcknowledgeResult = {
  alert: TAlertListItem;
  /** True when it had already been acknowledged (by whoever is named); nothing was written. */
  alreadyAcknowledged: boolean;
};
