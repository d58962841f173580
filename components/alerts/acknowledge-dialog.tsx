"use client";

import { ReasonDialog } from "@/components/ui/reason-dialog";
import { MAX_ACKNOWLEDGE_NOTE_LENGTH } from "@/lib/alerts/list-alerts-filter";
import type { TAlertListItem } from "@/lib/alerts/types";

const NOTE_FIELD = {
  label: "Note",
  hint: "(optional, kept in the audit log)",
  required: false,
  maxLength: MAX_ACKNOWLEDGE_NOTE_LENGTH,
  name: "note",
};

/** Confirms acknowledging an alert, with an optional note kept in the audit log. */
export function AcknowledgeDialog({
  alert,
  onOpenChange,
  onConfirm,
}: {
  /** The alert to acknowledge; null when closed. */
  alert: TAlertListItem | null;
  onOpenChange: (open: boolean) => void;
  /** Resolves when done (the dialog closes); rejects with an Error whose message is shown. */
  onConfirm: (note: string | undefined) => Promise<void>;
}) {
  return (
    <ReasonDialog
      open={alert !== null}
      onOpenChange={onOpenChange}
      title="Acknowledge alert"
      description={
        <div className="space-y-1">
          <p className="font-medium text-gray-900">{alert?.title}</p>
          <p className="line-clamp-3">{alert?.message}</p>
          <p>Your name and the time are recorded, so others know someone is on it.</p>
        </div>
      }
      confirmLabel="Acknowledge"
      pendingLabel="Acknowledging…"
      field={NOTE_FIELD}
      onConfirm={(note) => onConfirm(note || undefined)}
    />
  );
}
