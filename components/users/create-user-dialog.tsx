"use client";

import { useId, useState } from "react";

import { inputClass, primaryButtonClass, secondaryButtonClass } from "@/components/shell/list/fields";
import { AdminRole } from "@/generated/prisma/enums";
import { ApiError } from "@/lib/http/client";
import { MIN_PASSWORD_LENGTH, ZCreateUser, type TCreateUser } from "@/lib/users/user-schemas";

import { DialogFrame, FieldError } from "./dialog-frame";
import { ROLE_DESCRIPTIONS, ROLE_LABELS } from "./role-labels";

type TFieldErrors = Partial<Record<keyof TCreateUser | "form", string>>;

const EMPTY = { name: "", email: "", role: "viewer" as AdminRole, password: "", reason: "" };

/** Creates a user: name, email, role and an initial password (at least 12 characters). */
export function CreateUserDialog({
  open,
  onOpenChange,
  onCreate,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onCreate: (input: TCreateUser) => Promise<void>;
}) {
  const [values, setValues] = useState(EMPTY);
  const [errors, setErrors] = useState<TFieldErrors>({});
  const [pending, setPending] = useState(false);
  const [showPassword, setShowPassword] = useState(false);
  const id = useId();
  const ids = { name: `${id}-name`, email: `${id}-email`, role: `${id}-role`, password: `${id}-password`, reason: `${id}-reason` };

  function close(next: boolean) {
    if (pending) return;
    if (!next) {
      setValues(EMPTY);
      setErrors({});
      setShowPassword(false);
    }
    onOpenChange(next);
  }

  function set<K extends keyof typeof EMPTY>(key: K, value: (typeof EMPTY)[K]) {
    setValues((v) => ({ ...v, [key]: value }));
  }

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    const parsed = ZCreateUser.safeParse({ ...values, reason: values.reason.trim() || undefined });
    if (!parsed.success) {
      const next: TFieldErrors = {};
      for (const issue of parsed.error.issues) {
        const key = (issue.path[0] as keyof TCreateUser | undefined) ?? "form";
        next[key] ??= issue.message;
      }
      setErrors(next);
      return;
    }
    setPending(true);
    setErrors({});
    try {
      await onCreate(parsed.data);
      setValues(EMPTY);
      setShowPassword(false);
      onOpenChange(false);
    } catch (e) {
      const field = e instanceof ApiError && e.status === 409 ? "email" : "form";
      setErrors({ [field]: e instanceof Error ? e.message : "The user could not be created." });
    } finally {
      setPending(false);
    }
  }

  const described = (key: keyof TFieldErrors, hint?: string) => {
    const parts = [errors[key] ? `${ids[key as keyof typeof ids]}-error` : null, hint].filter(Boolean);
    return parts.length ? parts.join(" ") : undefined;
  };

  return (
    <DialogFrame
      open={open}
      onOpenChange={close}
      title="Add a user"
      description="They sign in with this email and the initial password; share it with them safely."
    >
      <form onSubmit={submit} noValidate className="space-y-4">
        <div className="space-y-1">
          <label htmlFor={ids.name} className="block text-sm font-medium text-gray-800">
            Name
          </label>
          <input
            id={ids.name}
            name="name"
            autoComplete="off"
            value={values.name}
            onChange={(e) => set("name", e.target.value)}
            aria-invalid={errors.name ? true : undefined}
            aria-describedby={described("name")}
            className={inputClass}
          />
          <FieldError id={`${ids.name}-error`} message={errors.name} />
        </div>
        <div className="space-y-1">
          <label htmlFor={ids.email} className="block text-sm font-medium text-gray-800">
            Email
          </label>
          <input
            id={ids.email}
            name="email"
            type="email"
            autoComplete="off"
            value={values.email}
            onChange={(e) => set("email", e.target.value)}
            aria-invalid={errors.email ? true : undefined}
            aria-describedby={described("email")}
            className={inputClass}
          />
          <FieldError id={`${ids.email}-error`} message={errors.email} />
        </div>
        <div className="space-y-1">
          <label htmlFor={ids.role} className="block text-sm font-medium text-gray-800">
            Role
          </label>
          <select
            id={ids.role}
            name="role"
            value={values.role}
            onChange={(e) => set("role", e.target.value as AdminRole)}
            aria-describedby={`${ids.role}-hint`}
            className={inputClass}
          >
            {Object.values(AdminRole).map((r) => (
              <option key={r} value={r}>
                {ROLE_LABELS[r]}
              </option>
            ))}
          </select>
          <p id={`${ids.role}-hint`} className="text-xs text-gray-500">
            {ROLE_DESCRIPTIONS[values.role]}
          </p>
        </div>
        <div className="space-y-1">
          <label htmlFor={ids.password} className="block text-sm font-medium text-gray-800">
            Initial password
          </label>
          <div className="flex gap-2">
            <input
              id={ids.password}
              name="password"
              type={showPassword ? "text" : "password"}
              autoComplete="new-password"
              value={values.password}
              onChange={(e) => set("password", e.target.value)}
              aria-invalid={errors.password ? true : undefined}
              aria-describedby={described("password", `${ids.password}-hint`)}
              className={`${inputClass} font-mono`}
            />
            <button
              type="button"
              onClick={() => setShowPassword((s) => !s)}
              aria-pressed={showPassword}
              className={`${secondaryButtonClass} shrink-0 text-xs`}
            >
              {showPassword ? "Hide" : "Show"}
            </button>
          </div>
          <p id={`${ids.password}-hint`} className="text-xs text-gray-500">
            At least {MIN_PASSWORD_LENGTH} characters. {values.password.length > 0 ? `${values.password.length} so far.` : ""}
          </p>
          <FieldError id={`${ids.password}-error`} message={errors.password} />
        </div>
        <div className="space-y-1">
          <label htmlFor={ids.reason} className="block text-sm font-medium text-gray-800">
            Reason <span className="font-normal text-gray-500">(optional, kept in the audit log)</span>
          </label>
          <input
            id={ids.reason}
            name="reason"
            value={values.reason}
            onChange={(e) => set("reason", e.target.value)}
            aria-invalid={errors.reason ? true : undefined}
            aria-describedby={described("reason")}
            className={inputClass}
          />
          <FieldError id={`${ids.reason}-error`} message={errors.reason} />
        </div>
        {errors.form ? (
          <p role="alert" className="text-sm text-red-700">
            {errors.form}
          </p>
        ) : null}
        {Object.keys(errors).length > 0 && !errors.form ? (
          <p role="alert" className="sr-only">
            Check the highlighted fields.
          </p>
        ) : null}
        <div className="flex justify-end gap-2">
          <button type="button" onClick={() => close(false)} disabled={pending} className={secondaryButtonClass}>
            Cancel
          </button>
          <button type="submit" disabled={pending} className={primaryButtonClass}>
            {pending ? "Adding…" : "Add user"}
          </button>
        </div>
      </form>
    </DialogFrame>
  );
}
