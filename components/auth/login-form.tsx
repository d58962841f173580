"use client";

import { signIn } from "next-auth/react";
import { type FormEvent, useState } from "react";

import { MISSING_FIELDS_ERROR, NETWORK_SIGN_IN_ERROR, safeCallbackUrl, signInErrorMessage } from "./login-helpers";

export function LoginForm({ callbackUrl }: { callbackUrl?: string }) {
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get("email") ?? "").trim();
    const password = String(form.get("password") ?? "");

    if (!email || !password) {
      setError(MISSING_FIELDS_ERROR);
    } else {
      await submit(email, password);
    }
  }

  async function submit(email: string, password: string) {
    setSubmitting(true);
    setError(null);
    let failure: string | null;
    try {
      const result = await signIn("credentials", { redirect: false, email, password });
      failure = result?.ok && !result.error ? null : signInErrorMessage(result?.error);
    } catch {
      failure = NETWORK_SIGN_IN_ERROR;
    }

    if (failure === null) {
      // A full navigation, so the new session's data starts from a clean client state.
      window.location.assign(safeCallbackUrl(callbackUrl, window.location.origin));
    } else {
      setError(failure);
      setSubmitting(false);
    }
  }

  return (
    // noValidate: errors show in one place (the alert below), for empty and malformed input alike.
    <form onSubmit={handleSubmit} className="space-y-5" noValidate>
      <div className="space-y-1.5">
        <label htmlFor="login-email" className="block text-sm font-medium text-gray-700">
          Email
        </label>
        <input
          id="login-email"
          name="email"
          type="email"
          autoComplete="username"
          required
          autoFocus
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? "login-error" : undefined}
          className="block w-full rounded-md border border-gray-300 bg-white px-3 py-2 text-sm text-gray-900 shadow-xs placeholder:text-gray-400 focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/30"
        />
      </div>

      <div className="space-y-1.5">
        <label htmlFor="login-password" className="block text-sm font-medium text-gray-700">
          Password
        </label>
        <input
          id="login-password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? "login-error" : undefined}
          className="block w-full rounded-md border border-gray-300 bg-white px-3 py-2 text-sm text-gray-900 shadow-xs focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/30"
        />
      </div>

      {error ? (
        <p id="login-error" role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
          {error}
        </p>
      ) : null}

      <button
        type="submit"
        disabled={submitting}
        className="flex w-full items-center justify-center rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white shadow-xs hover:bg-indigo-500 disabled:cursor-not-allowed disabled:opacity-60"
      >
        {submitting ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
