import { PayoutsTableSkeleton } from "@/components/payouts/payouts-skeleton";

export default function PayoutsLoading() {
  return (
    <div className="space-y-5">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-gray-900">Payouts</h1>
        <div className="mt-2 h-4 w-72 max-w-full animate-pulse rounded bg-gray-200" />
      </div>
      <div className="h-36 animate-pulse rounded-xl border border-gray-200 bg-white shadow-xs" />
      <div className="rounded-xl border border-gray-200 bg-white shadow-xs">
        <PayoutsTableSkeleton />
      </div>
    </div>
  );
}
