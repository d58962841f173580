"use client";

import { useEffect } from "react";

/** The payouts page failed on the server (the database is down, say): say so and offer a retry. */
export default function PayoutsError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  useEffect(() => {
    console.error(error);
  }, [error]);
  return (
    <div role="alert" className="rounded-xl border border-red-200 bg-white px-6 py-10 text-center shadow-xs">
      <h1 className="text-base font-semibold text-gray-900">The payouts could not be loaded</h1>
      <p className="mt-1 text-sm text-gray-600">
        Something went wrong on our side{error.digest ? ` (reference ${error.digest})` : ""}. Try again in a moment.
      </p>
      <button
        type="button"
        onClick={reset}
        className="mt-4 rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white shadow-xs hover:bg-indigo-500"
      >
        Try again
      </button>
    </div>
  );
}
