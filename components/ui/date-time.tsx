// Dates are shown in UTC so the server and browser render the same text (no hydration
// mismatch) and everyone in finance reads the same clock.

const DATE_TIME = new Intl.DateTimeFormat("en-US", {
  timeZone: "UTC",
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

const RELATIVE = new Intl.RelativeTimeFormat("en-US", { numeric: "auto", style: "short" });

export function formatDateTimeUtc(value: Date | string): string {
  return `${DATE_TIME.format(new Date(value))} UTC`;
}

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
