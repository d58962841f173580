// Dates are shown in UTC so the server and browser render the same text (no hydration
// mismatch) and everyone in finance reads the same clock.
//
// The texts are Intl's en-US ones ("Dec 3, 2026, 07:47"), written from the date's UTC fields:
// a list page formats a few hundred dates per render, and Intl.DateTimeFormat#format costs
// several times more than this. date-time.test.ts checks both agree; years before 1 AD (which
// Intl writes without an era) go to Intl itself.

const DATE_TIME = new Intl.DateTimeFormat("en-US", {
  timeZone: "UTC",
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});
const DAY = new Intl.DateTimeFormat("en-US", { timeZone: "UTC", year: "numeric", month: "short", day: "numeric" });

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;

const twoDigits = (n: number) => (n < 10 ? `0${n}` : String(n));

/** Whether the UTC fields write the same text as Intl (a valid date from year 1 AD on). */
const plainYear = (date: Date) => date.getUTCFullYear() >= 1;

/** "Dec 3, 2026" (UTC). */
export function formatDateUtc(value: Date | string): string {
  const date = new Date(value);
  if (!plainYear(date)) return DAY.format(date);
  return `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}, ${date.getUTCFullYear()}`;
}

/** "07:47" (UTC, 24-hour clock). */
export function formatTimeUtc(value: Date | string): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return DATE_TIME.format(date); // throws RangeError, as Intl does
  return `${twoDigits(date.getUTCHours())}:${twoDigits(date.getUTCMinutes())}`;
}

/** "Dec 3, 2026, 07:47 UTC". */
export function formatDateTimeUtc(value: Date | string): string {
  const date = new Date(value);
  if (!plainYear(date)) return `${DATE_TIME.format(date)} UTC`;
  return `${formatDateUtc(date)}, ${formatTimeUtc(date)} UTC`;
}

const RELATIVE = new Intl.RelativeTimeFormat("en-US", { numeric: "auto", style: "short" });

/** "in 5 hr", "3 min ago", relative to `base` (a fixed instant, so renders agree). */
export function formatRelative(value: Date | string, base: Date | string): string {
  const diffMs = new Date(value).getTime() - new Date(base).getTime();
  const minutes = Math.round(diffMs / 60_000);
  if (Math.abs(minutes) < 60) return RELATIVE.format(minutes, "minute");
  const hours = Math.round(diffMs / 3_600_000);
  if (Math.abs(hours) < 48) return RELATIVE.format(hours, "hour");
  return RELATIVE.format(Math.round(diffMs / 86_400_000), "day");
}

export function DateTime({ value, className }: { value: Date | string; className?: string }) {
  const date = new Date(value);
  return (
    <time dateTime={date.toISOString()} className={`whitespace-nowrap tabular-nums ${className ?? ""}`}>
      {formatDateTimeUtc(date)}
    </time>
  );
}
