"use client";

import * as Dialog from "@radix-ui/react-dialog";
import { useId, useState } from "react";

import { MIN_REASON_LENGTH } from "@/lib/audit/reason";

export type TReasonDialogProps = {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  description: React.ReactNode;
  confirmLabel: string;
  /** Red confirm button for actions that stop or cancel money. */
  destructive?: boolean;
  /** Resolves when done (the dialog closes); rejects with an Error whose message is shown. Gets the trimmed text. */
  onConfirm: (reason: string) => Promise<void>;
  /** The text field; by default a required reason. */
  field?: { label: string; hint: string; required: boolean; maxLength: number; name: string };
  /** The confirm button's text while the action runs. */
  pendingLabel?: string;
};

const REASON_FIELD = { label: "Reason", hint: "(kept in the audit log)", required: true, maxLength: 500, name: "reason" };

/**
 * A confirmation dialog that requires a reason (kept in the audit log), or takes an optional
 * note (`field`). Accessible: focus
 * moves into it, Escape closes it, the reason field is labelled, errors are announced.
 */
export function ReasonDialog({
  open,
  onOpenChange,
  title,
  description,
  confirmLabel,
  destructive = false,
  onConfirm,
  field = REASON_FIELD,
  pendingLabel = "Working…",
}: TReasonDialogProps) {
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const reasonId = useId();
  const errorId = useId();
  const tooShort = field.required && reason.trim().length < MIN_REASON_LENGTH;

  function close(next: boolean) {
    if (pending) return;
    if (!next) {
      setReason("");
      setError(null);
    }
    onOpenChange(next);
  }

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    if (tooShort) {
      setError(`Give a reason (at least ${MIN_REASON_LENGTH} characters).`);
      return;
    }
    setPending(true);
    setError(null);
    try {
      await onConfirm(reason.trim());
      setReason("");
      onOpenChange(false);
    } catch (e) {
      setError(e instanceof Error ? e.message : "The action failed.");
    } finally {
      setPending(false);
    }
  }

  return (
    <Dialog.Root open={open} onOpenChange={close}>
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 z-40 bg-gray-900/40" />
        <Dialog.Content className="fixed top-1/2 left-1/2 z-50 w-[calc(100vw-2rem)] max-w-md -translate-x-1/2 -translate-y-1/2 rounded-lg bg-white p-5 shadow-xl focus:outline-none">
          <form onSubmit={submit} className="space-y-4">
            <Dialog.Title className="text-base font-semibold text-gray-900">{title}</Dialog.Title>
            <Dialog.Description asChild>
              <div className="text-sm text-gray-600">{description}</div>
            </Dialog.Description>
            <div className="space-y-1">
              <label htmlFor={reasonId} className="block text-sm font-medium text-gray-800">
                {field.label} <span className="font-normal text-gray-500">{field.hint}</span>
              </label>
              <textarea
                id={reasonId}
                name={field.name}
                rows={3}
                maxLength={field.maxLength}
                value={reason}
                onChange={(e) => setReason(e.target.value)}
                aria-invalid={error ? true : undefined}
                aria-describedby={error ? errorId : undefined}
                className="block w-full rounded-md border border-gray-300 px-3 py-2 text-sm shadow-xs focus:border-indigo-500 focus:ring-1 focus:ring-indigo-500 focus:outline-none"
              />
            </div>
            {error ? (
              <p id={errorId} role="alert" className="text-sm text-red-700">
                {error}
              </p>
            ) : null}
            <div className="flex justify-end gap-2">
              <Dialog.Close asChild>
                <button
                  type="button"
                  disabled={pending}
                  className="rounded-md border border-gray-300 bg-white px-3 py-1.5 text-sm font-medium text-gray-700 hover:bg-gray-50"
                >
                  Cancel
                </button>
              </Dialog.Close>
              <button
                type="submit"
                disabled={pending}
                className={`rounded-md px-3 py-1.5 text-sm font-medium text-white shadow-xs disabled:opacity-60 ${destructive ? "bg-red-600 hover:bg-red-500" : "bg-indigo-600 hover:bg-indigo-500"}`}
              >
                {pending ? pendingLabel : confirmLabel}
              </button>
            </div>
          </form>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
