"use client";

import Link from "next/link";

/** Shown when the payout could not be loaded (the database is down, a bug): try again, or go back. */
export default function PayoutDetailError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div role="alert" className="mx-auto max-w-md rounded-xl border border-red-200 bg-white px-6 py-10 text-center shadow-xs">
      <h1 className="text-lg font-semibold text-gray-900">This payout could not be loaded</h1>
      <p className="mt-2 text-sm text-gray-600">Something went wrong on our side. Nothing was changed.</p>
      {error.digest ? <p className="mt-2 font-mono text-xs text-gray-500">Reference: {error.digest}</p> : null}
      <div className="mt-5 flex justify-center gap-2">
        <button
          type="button"
          onClick={reset}
          className="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white shadow-xs hover:bg-indigo-500"
        >
          Try again
        </button>
        <Link
          href="/payouts"
          className="rounded-md border border-gray-300 bg-white px-3 py-1.5 text-sm font-medium text-gray-700 shadow-xs hover:bg-gray-50"
        >
          Back to payouts
        </Link>
      </div>
    </div>
  );
}
