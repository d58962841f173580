import type { Metadata } from "next";

import { pathWithSearch } from "@/components/auth/login-helpers";
import { requirePageUserAt } from "@/components/auth/require-page-user-at";
import { DisputesTable } from "@/components/disputes/disputes-table";
import { FilterTabs } from "@/components/shell/list/filter-tabs";
import { FilterResetNotice } from "@/components/shell/list/page-states";
import { OffsetPager } from "@/components/shell/list/pager";
import { hrefWith, parseListSearchParams } from "@/components/shell/list/search-params";
import { PageHeader } from "@/components/ui/page-header";
import { db } from "@/lib/db";
import { listDisputes } from "@/lib/disputes/list-disputes";
import { DEFAULT_DISPUTE_FILTER, ZDisputeFilter, type TDisputeFilter } from "@/lib/disputes/list-disputes-filter";

export const metadata: Metadata = { title: "Disputes" };
export const dynamic = "force-dynamic";

const href = (status: TDisputeFilter["status"], page = 1) =>
  hrefWith("/disputes", { status: status === "all" ? undefined : status, page: page > 1 ? page : undefined });

export default async function DisputesPage({ searchParams }: PageProps<"/disputes">) {
  await requirePageUserAt(pathWithSearch("/disputes", await searchParams));
  const { filter, problems } = parseListSearchParams(ZDisputeFilter, ["status", "page"], await searchParams, DEFAULT_DISPUTE_FILTER);
  const list = await listDisputes(db, filter);
  return (
    <div className="space-y-5">
      <PageHeader
        title="Disputes"
        description="Open disputes first, the longest open at the top, each with the payout it holds; then resolved ones."
      />
      <FilterResetNotice problems={problems} />
      <FilterTabs
        label="Dispute status"
        tabs={[
          { label: "All", href: href("all"), active: filter.status === "all", count: list.counts.open + list.counts.resolved },
          { label: "Open", href: href("open"), active: filter.status === "open", count: list.counts.open, testId: "disputes-tab-open" },
          { label: "Resolved", href: href("resolved"), active: filter.status === "resolved", count: list.counts.resolved },
        ]}
      />
      <DisputesTable disputes={list.items} filtered={filter.status !== "all"} />
      <OffsetPager
        page={list.page}
        pageSize={list.pageSize}
        total={list.total}
        shown={list.items.length}
        hrefFor={(page) => href(filter.status, page)}
        noun={["dispute", "disputes"]}
      />
    </div>
  );
}
