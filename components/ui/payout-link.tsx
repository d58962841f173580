import Link from "next/link";

/**
 * A payout's own short id (the first 8 characters of its uuid), linked to the payout, with the
 * full id on hover. Never wraps inside the id.
 */
export function PayoutLink({ id, bookingExternalId }: { id: string; bookingExternalId?: string }) {
  const short = id.slice(0, 8);
  return (
    <Link
      href={`/payouts/${id}`}
      title={id}
      className="rounded font-mono text-xs whitespace-nowrap text-indigo-700 hover:underline"
      aria-label={bookingExternalId ? `Payout ${short} of booking ${bookingExternalId}` : `Payout ${short}`}
    >
      {short}
    </Link>
  );
}

/**
 * An external id (a booking's, a Stripe object's) that never breaks in the middle: one line,
 * cut with an ellipsis when the column is narrow, the whole id on hover.
 */
export function ExternalId({ value, className = "" }: { value: string; className?: string }) {
  return (
    <span title={value} className={`inline-block max-w-[14rem] truncate align-bottom font-mono text-xs whitespace-nowrap ${className}`}>
      {value}
    </span>
  );
}
