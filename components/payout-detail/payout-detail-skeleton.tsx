function Bar({ className }: { className: string }) {
  return <div className={`animate-pulse rounded bg-gray-200/80 ${className}`} />;
}

function CardSkeleton({ rows }: { rows: number }) {
  return (
    <div className="rounded-xl border border-gray-200 bg-white shadow-xs">
      <div className="border-b border-gray-100 px-5 py-3">
        <Bar className="h-4 w-28" />
      </div>
      <div className="space-y-3 px-5 py-4">
        {Array.from({ length: rows }, (_, i) => (
          <Bar key={i} className={`h-4 ${i % 2 === 0 ? "w-full" : "w-2/3"}`} />
        ))}
      </div>
    </div>
  );
}

/** The detail page's shape while it loads. */
export function PayoutDetailSkeleton() {
  return (
    <div className="space-y-6" aria-busy="true" aria-live="polite">
      <p className="sr-only">Loading the payout…</p>
      <div className="space-y-3">
        <Bar className="h-4 w-20" />
        <Bar className="h-3 w-14" />
        <Bar className="h-8 w-48" />
        <Bar className="h-5 w-32" />
      </div>
      <div className="grid grid-cols-1 items-start gap-6 lg:grid-cols-[minmax(0,1fr)_22rem]">
        <div className="space-y-6">
          <CardSkeleton rows={4} />
          <CardSkeleton rows={8} />
        </div>
        <div className="space-y-6">
          <CardSkeleton rows={5} />
          <CardSkeleton rows={6} />
        </div>
      </div>
    </div>
  );
}
