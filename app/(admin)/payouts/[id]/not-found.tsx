import Link from "next/link";

export default function PayoutNotFound() {
  return (
    <div className="mx-auto max-w-md rounded-xl border border-gray-200 bg-white px-6 py-10 text-center shadow-xs">
      <h1 className="text-lg font-semibold text-gray-900">Payout not found</h1>
      <p className="mt-2 text-sm text-gray-600">
        There is no payout with this id. It may have been mistyped, or the link is from another environment.
      </p>
      <Link
        href="/payouts"
        className="mt-5 inline-flex rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white shadow-xs hover:bg-indigo-500"
      >
        Back to payouts
      </Link>
    </div>
  );
}
