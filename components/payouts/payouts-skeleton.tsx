/** Placeholder rows while the first page loads (server navigation or a cold client cache). */
export function PayoutsTableSkeleton({ rows = 8 }: { rows?: number }) {
  return (
    <div role="status" aria-label="Loading payouts" className="divide-y divide-gray-100">
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="flex items-center gap-4 px-4 py-3.5">
          <div className="h-3 w-20 animate-pulse rounded bg-gray-200" />
          <div className="h-4 w-24 animate-pulse rounded-full bg-gray-100" />
          <div className="h-3 flex-1 animate-pulse rounded bg-gray-100" />
          <div className="hidden h-3 w-32 animate-pulse rounded bg-gray-100 md:block" />
          <div className="hidden h-3 w-32 animate-pulse rounded bg-gray-100 md:block" />
        </div>
      ))}
      <span className="sr-only">Loading payouts…</span>
    </div>
  );
}
