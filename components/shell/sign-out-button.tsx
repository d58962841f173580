"use client";

import { signOut } from "next-auth/react";
import { useState } from "react";

import { signOutEverywhere } from "@/lib/auth/sign-out-everywhere";

const BUTTON =
  "shrink-0 rounded-md border border-gray-300 bg-white px-2.5 py-1 text-xs font-medium whitespace-nowrap text-gray-700 shadow-xs hover:bg-gray-50 disabled:opacity-60 lg:self-start";

/** Sign out (this browser's session ends on the server too) and sign out everywhere (every session of the user). */
export function SignOutButton() {
  const [pending, setPending] = useState<"here" | "everywhere" | null>(null);
  return (
    <div className="flex shrink-0 flex-col items-stretch gap-1.5 sm:flex-row sm:items-center lg:flex-wrap">
      <button
        type="button"
        disabled={pending !== null}
        onClick={() => {
          setPending("here");
          void signOut({ callbackUrl: "/login" });
        }}
        className={BUTTON}
      >
        {pending === "here" ? "Signing out…" : "Sign out"}
      </button>
      <button
        type="button"
        disabled={pending !== null}
        title="End every session of your account, in all browsers and devices"
        onClick={() => {
          setPending("everywhere");
          // Whatever the server said (even 401: this session had already ended), clear this browser's cookie.
          void signOutEverywhere()
            .catch(() => undefined)
            .finally(() => void signOut({ callbackUrl: "/login" }));
        }}
        className={BUTTON}
      >
        {pending === "everywhere" ? "Signing out…" : "Sign out everywhere"}
      </button>
    </div>
  );
}
