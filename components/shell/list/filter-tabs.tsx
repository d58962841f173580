import Link from "next/link";

export type TFilterTab = { label: string; href: string; active: boolean; count?: number; testId?: string };

/** A row of link tabs for a list's main filter (e.g. Open / Resolved / All), with counts. */
export function FilterTabs({ label, tabs }: { label: string; tabs: TFilterTab[] }) {
  return (
    <nav aria-label={label} className="-mx-1 overflow-x-auto px-1">
      <ul className="inline-flex gap-1 rounded-lg border border-gray-200 bg-white p-1 shadow-xs">
        {tabs.map((tab) => (
          <li key={tab.href}>
            <Link
              href={tab.href}
              scroll={false}
              aria-current={tab.active ? "page" : undefined}
              data-testid={tab.testId}
              className={`flex items-center gap-1.5 rounded-md px-3 py-1 text-sm whitespace-nowrap ${
                tab.active ? "bg-indigo-50 font-medium text-indigo-700" : "text-gray-600 hover:bg-gray-50 hover:text-gray-900"
              }`}
            >
              {tab.label}
              {tab.count !== undefined ? (
                <span
                  className={`rounded-full px-1.5 text-xs tabular-nums ${tab.active ? "bg-indigo-100 text-indigo-700" : "bg-gray-100 text-gray-600"}`}
                >
                  {tab.count.toLocaleString("en-US")}
                </span>
              ) : null}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
