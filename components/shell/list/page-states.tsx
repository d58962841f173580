// Loading, error and notice states shared by the dashboard's list pages.

/** A grey placeholder for a page that is loading: header, a filter row and table rows. */
export function ListSkeleton({ title, rows = 8 }: { title: string; rows?: number }) {
  return (
    <div className="space-y-6" aria-busy="true">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-gray-900">{title}</h1>
        <p className="mt-1 text-sm text-gray-500" role="status">
          Loading…
        </p>
      </div>
      <div aria-hidden className="h-9 w-full max-w-xl animate-pulse rounded-lg bg-gray-200/70" />
      <div aria-hidden className="overflow-hidden rounded-xl border border-gray-200 bg-white shadow-xs">
        <div className="h-9 border-b border-gray-100 bg-gray-50/80" />
        {Array.from({ length: rows }, (_, i) => (
          <div key={i} className="flex gap-4 border-b border-gray-100 px-4 py-3 last:border-0">
            <div className="h-4 w-24 animate-pulse rounded bg-gray-200/70" />
            <div className="h-4 flex-1 animate-pulse rounded bg-gray-100" />
            <div className="h-4 w-20 animate-pulse rounded bg-gray-200/70" />
          </div>
        ))}
      </div>
    </div>
  );
}

/** The body of a route's error boundary: what failed, and a way to try again. */
export function RouteErrorPanel({ title, error, onRetry }: { title: string; error: unknown; onRetry: () => void }) {
  const digest = error instanceof Error && "digest" in error && typeof error.digest === "string" ? error.digest : null;
  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-semibold tracking-tight text-gray-900">{title}</h1>
      <div role="alert" className="rounded-xl border border-red-200 bg-red-50 px-4 py-4 text-sm text-red-900">
        <p className="font-semibold">This page could not be loaded.</p>
        <p className="mt-1">The server ran into a problem. Nothing was changed. Try again in a moment.</p>
        {digest ? <p className="mt-1 font-mono text-xs text-red-800">Reference: {digest}</p> : null}
        <button
          type="button"
          onClick={onRetry}
          className="mt-3 rounded-md border border-red-300 bg-white px-3 py-1.5 text-sm font-medium text-red-800 shadow-xs hover:bg-red-100"
        >
          Try again
        </button>
      </div>
    </div>
  );
}

/** A calm notice above a list, e.g. when filters in the URL were not understood. */
export function Notice({ tone = "warning", children }: { tone?: "warning" | "info"; children: React.ReactNode }) {
  return (
    <p
      role="status"
      className={`rounded-md border px-3 py-2 text-sm ${tone === "warning" ? "border-amber-200 bg-amber-50 text-amber-900" : "border-sky-200 bg-sky-50 text-sky-900"}`}
    >
      {children}
    </p>
  );
}

/** The notice a list page shows when the filter in its address was not understood (nothing when it was). */
export function FilterResetNotice({ problems }: { problems: readonly string[] }) {
  if (problems.length === 0) return null;
  return <Notice>The filter in the address was not understood and was reset ({problems.join("; ")}).</Notice>;
}
