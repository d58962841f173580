"use client";

import { useId, useState } from "react";

import { inputClass, primaryButtonClass, secondaryButtonClass } from "@/components/shell/list/fields";
import { AdminRole } from "@/generated/prisma/enums";
import { MAX_REASON_LENGTH, MIN_REASON_LENGTH } from "@/lib/audit/reason";
import type { TAdminUserItem } from "@/lib/users/types";

import { DialogFrame, FieldError } from "./dialog-frame";
import { ROLE_DESCRIPTIONS, ROLE_LABELS } from "./role-labels";

/** Changes a user's role, with a required reason. Their sessions end, so they sign in again. */
export function RoleDialog({
  user,
  onOpenChange,
  onConfirm,
}: {
  user: TAdminUserItem | null;
  onOpenChange: (open: boolean) => void;
  onConfirm: (role: AdminRole, reason: string) => Promise<void>;
}) {
  const [role, setRole] = useState<AdminRole | null>(null);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const id = useId();
  const chosen = role ?? user?.role ?? "viewer";

  function close(next: boolean) {
    if (pending) return;
    if (!next) {
      setRole(null);
      setReason("");
      setError(null);
    }
    onOpenChange(next);
  }

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    if (!user) return;
    if (chosen === user.role) {
      setError(`${user.name} already has the ${ROLE_LABELS[chosen]} role. Choose another one.`);
      return;
    }
    if (reason.trim().length < MIN_REASON_LENGTH) {
      setError(`Give a reason (at least ${MIN_REASON_LENGTH} characters).`);
      return;
    }
    setPending(true);
    setError(null);
    try {
      await onConfirm(chosen, reason.trim());
      setRole(null);
      setReason("");
      onOpenChange(false);
    } catch (e) {
      setError(e instanceof Error ? e.message : "The role could not be changed.");
    } finally {
      setPending(false);
    }
  }

  return (
    <DialogFrame
      open={user !== null}
      onOpenChange={close}
      title={user ? `Change the role of ${user.name}` : "Change role"}
      description={
        user
          ? `${user.email} is ${ROLE_LABELS[user.role].toLowerCase()} now. Their current sessions end; they sign in again with the new role.`
          : null
      }
    >
      <form onSubmit={submit} className="space-y-4">
        <div className="space-y-1">
          <label htmlFor={`${id}-role`} className="block text-sm font-medium text-gray-800">
            New role
          </label>
          <select
            id={`${id}-role`}
            value={chosen}
            onChange={(e) => setRole(e.target.value as AdminRole)}
            aria-describedby={`${id}-hint`}
            className={inputClass}
          >
            {Object.values(AdminRole).map((r) => (
              <option key={r} value={r}>
                {ROLE_LABELS[r]}
                {user?.role === r ? " (current)" : ""}
              </option>
            ))}
          </select>
          <p id={`${id}-hint`} className="text-xs text-gray-500">
            {ROLE_DESCRIPTIONS[chosen]}
          </p>
        </div>
        <div className="space-y-1">
          <label htmlFor={`${id}-reason`} className="block text-sm font-medium text-gray-800">
            Reason <span className="font-normal text-gray-500">(kept in the audit log)</span>
          </label>
          <textarea
            id={`${id}-reason`}
            rows={3}
            maxLength={MAX_REASON_LENGTH}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${id}-error` : undefined}
            className={inputClass}
          />
        </div>
        <div role="alert">
          <FieldError id={`${id}-error`} message={error ?? undefined} />
        </div>
        <div className="flex justify-end gap-2">
          <button type="button" onClick={() => close(false)} disabled={pending} className={secondaryButtonClass}>
            Cancel
          </button>
          <button type="submit" disabled={pending} className={primaryButtonClass}>
            {pending ? "Saving…" : "Change role"}
          </button>
        </div>
      </form>
    </DialogFrame>
  );
}
