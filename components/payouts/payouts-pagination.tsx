"use client";

import type { TPayoutListPage } from "@/lib/payouts/list-payouts";
import { serializePayoutFilter, type TPayoutFilter } from "@/lib/payouts/payout-filter";
import type { TPayoutPage } from "@/lib/payouts/payout-query-keys";

const linkClass =
  "inline-flex items-center gap-1 rounded-md border border-gray-300 bg-white px-3 py-1.5 text-sm font-medium text-gray-700 shadow-xs hover:bg-gray-50";
const disabledClass =
  "inline-flex items-center gap-1 rounded-md border border-gray-200 bg-gray-50 px-3 py-1.5 text-sm font-medium text-gray-400";

/**
 * Previous / next through keyset cursors (no page numbers: a page costs the same wherever it
 * is, and counting a million rows on every page would not). Real links, so a page can be
 * opened in a new tab; a plain click stays in the app.
 */
export function PayoutsPagination({
  filter,
  pageInfo,
  onPage,
}: {
  filter: TPayoutFilter;
  pageInfo: TPayoutListPage["pageInfo"];
  onPage: (page: TPayoutPage) => void;
}) {
  const link = (label: string, page: TPayoutPage, arrow: "left" | "right") => (
    <a
      href={`?${serializePayoutFilter(filter, page).toString()}`}
      rel={arrow === "left" ? "prev" : "next"}
      onClick={(event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        onPage(page);
      }}
      className={linkClass}
    >
      {arrow === "left" ? <span aria-hidden>←</span> : null}
      {label}
      {arrow === "right" ? <span aria-hidden>→</span> : null}
    </a>
  );
  return (
    <nav aria-label="Pages" className="flex items-center gap-2">
      {pageInfo.prevCursor ? (
        link("Previous", { before: pageInfo.prevCursor }, "left")
      ) : (
        <span aria-disabled className={disabledClass}>
          ← Previous
        </span>
      )}
      {pageInfo.nextCursor ? (
        link("Next", { after: pageInfo.nextCursor }, "right")
      ) : (
        <span aria-disabled className={disabledClass}>
          Next →
        </span>
      )}
    </nav>
  );
}
