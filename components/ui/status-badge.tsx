import type { AlertSeverity, DisputeStatus, PayoutStatus } from "@/generated/prisma/enums";

import { ALERT_SEVERITY_LABELS, DISPUTE_STATUS_LABELS, PAYOUT_STATUS_LABELS } from "./labels";

export type TBadgeTone = "neutral" | "info" | "success" | "warning" | "danger" | "accent";

const TONE_CLASSES: Record<TBadgeTone, string> = {
  neutral: "bg-gray-100 text-gray-700 ring-gray-500/20",
  info: "bg-sky-50 text-sky-800 ring-sky-600/20",
  success: "bg-emerald-50 text-emerald-800 ring-emerald-600/20",
  warning: "bg-amber-50 text-amber-800 ring-amber-600/25",
  danger: "bg-red-50 text-red-800 ring-red-600/20",
  accent: "bg-indigo-50 text-indigo-800 ring-indigo-600/20",
};

const DOT_CLASSES: Record<TBadgeTone, string> = {
  neutral: "bg-gray-400",
  info: "bg-sky-500",
  success: "bg-emerald-500",
  warning: "bg-amber-500",
  danger: "bg-red-500",
  accent: "bg-indigo-500",
};

export function Badge({ tone = "neutral", children }: { tone?: TBadgeTone; children: React.ReactNode }) {
  return (
    <span
      className={`inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium whitespace-nowrap ring-1 ring-inset ${TONE_CLASSES[tone]}`}
    >
      <span aria-hidden className={`size-1.5 rounded-full ${DOT_CLASSES[tone]}`} />
      {children}
    </span>
  );
}

export const PAYOUT_STATUS_TONES: Record<PayoutStatus, TBadgeTone> = {
  scheduled: "accent",
  on_hold: "warning",
  processing: "info",
  transferred: "success",
  partially_reversed: "warning",
  reversed: "danger",
  failed: "danger",
  cancelled: "neutral",
  applied_to_debt: "success",
};

export function toneDotClass(tone: TBadgeTone): string {
  return DOT_CLASSES[tone];
}

export function PayoutStatusBadge({ status }: { status: PayoutStatus }) {
  return <Badge tone={PAYOUT_STATUS_TONES[status]}>{PAYOUT_STATUS_LABELS[status]}</Badge>;
}

export function DisputeStatusBadge({ status }: { status: DisputeStatus }) {
  return <Badge tone={status === "open" ? "warning" : "neutral"}>{DISPUTE_STATUS_LABELS[status]}</Badge>;
}

const SEVERITY_TONES: Record<AlertSeverity, TBadgeTone> = { info: "info", warning: "warning", critical: "danger" };

export function AlertSeverityBadge({ severity }: { severity: AlertSeverity }) {
  return <Badge tone={SEVERITY_TONES[severity]}>{ALERT_SEVERITY_LABELS[severity]}</Badge>;
}
