import Link from "next/link";

const linkClass =
  "inline-flex items-center rounded-md border border-gray-300 bg-white px-2.5 py-1 text-xs font-medium text-gray-700 shadow-xs hover:bg-gray-50";
const disabledClass = "inline-flex items-center rounded-md border border-gray-200 bg-gray-50 px-2.5 py-1 text-xs font-medium text-gray-400";

function PagerLink({ href, rel, children }: { href: string | null; rel: "prev" | "next"; children: React.ReactNode }) {
  if (!href) {
    return (
      <span aria-disabled="true" className={disabledClass}>
        {children}
      </span>
    );
  }
  return (
    <Link href={href} rel={rel} className={linkClass}>
      {children}
    </Link>
  );
}

/** Numbered pages: "21–40 of 230", with Previous / Next links (URL state, so pages can be shared). */
export function OffsetPager({
  page,
  pageSize,
  total,
  shown,
  hrefFor,
  noun,
}: {
  page: number;
  pageSize: number;
  total: number;
  /** Rows on this page. */
  shown: number;
  hrefFor: (page: number) => string;
  noun: [one: string, many: string];
}) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const first = total === 0 ? 0 : (page - 1) * pageSize + 1;
  const last = (page - 1) * pageSize + shown;
  return (
    <nav aria-label="Pages" className="flex flex-wrap items-center justify-between gap-3 px-1 text-xs text-gray-500">
      <p aria-live="polite">
        {total === 0 || shown === 0
          ? `No ${noun[1]} on this page`
          : `${first.toLocaleString("en-US")}–${last.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} ${total === 1 ? noun[0] : noun[1]}`}
        {pages > 1 ? ` · page ${page.toLocaleString("en-US")} of ${pages.toLocaleString("en-US")}` : ""}
      </p>
      <div className="flex gap-2">
        <PagerLink href={page > 1 ? hrefFor(Math.min(page - 1, pages)) : null} rel="prev">
          Previous
        </PagerLink>
        <PagerLink href={page < pages ? hrefFor(page + 1) : null} rel="next">
          Next
        </PagerLink>
      </div>
    </nav>
  );
}

/** Keyset pages: newer / older links only (positions come from the rows themselves). */
export function CursorPager({
  prevHref,
  nextHref,
  summary,
  firstHref,
}: {
  prevHref: string | null;
  nextHref: string | null;
  summary: React.ReactNode;
  /** Back to the newest page, shown once the user has paged away from it. */
  firstHref?: string | null;
}) {
  return (
    <nav aria-label="Pages" className="flex flex-wrap items-center justify-between gap-3 px-1 text-xs text-gray-500">
      <p aria-live="polite">{summary}</p>
      <div className="flex gap-2">
        {firstHref ? (
          <Link href={firstHref} className={linkClass}>
            Newest
          </Link>
        ) : null}
        <PagerLink href={prevHref} rel="prev">
          Newer
        </PagerLink>
        <PagerLink href={nextHref} rel="next">
          Older
        </PagerLink>
      </div>
    </nav>
  );
}
