"use client";

import Link from "next/link";
import { signOut } from "next-auth/react";
import { useState } from "react";

/** The branded sign-out page's button (next-auth's own page is unbranded). */
export function SignOutConfirm() {
  const [pending, setPending] = useState(false);
  return (
    <div className="mt-6 flex flex-wrap items-center gap-3">
      <button
        type="button"
        disabled={pending}
        onClick={() => {
          setPending(true);
          void signOut({ callbackUrl: "/login" });
        }}
        className="rounded-md bg-indigo-600 px-3.5 py-2 text-sm font-semibold text-white shadow-xs hover:bg-indigo-500 disabled:opacity-60"
      >
        {pending ? "Signing out…" : "Sign out"}
      </button>
      <Link href="/" className="rounded text-sm font-medium text-gray-600 hover:text-gray-900">
        Stay signed in
      </Link>
    </div>
  );
}
