import type { Metadata } from "next";

import { pathWithSearch } from "@/components/auth/login-helpers";
import { requirePageUserAt } from "@/components/auth/require-page-user-at";
import { ProvidersFilter } from "@/components/providers/providers-filter";
import { ProvidersTable } from "@/components/providers/providers-table";
import { FilterResetNotice } from "@/components/shell/list/page-states";
import { OffsetPager } from "@/components/shell/list/pager";
import { hrefWith, parseListSearchParams } from "@/components/shell/list/search-params";
import { PageHeader } from "@/components/ui/page-header";
import { db } from "@/lib/db";
import { listProviders } from "@/lib/providers/list-providers";
import { DEFAULT_PROVIDER_FILTER, ZProviderFilter } from "@/lib/providers/list-providers-filter";

export const metadata: Metadata = { title: "Providers" };
export const dynamic = "force-dynamic";

export default async function ProvidersPage({ searchParams }: PageProps<"/providers">) {
  await requirePageUserAt(pathWithSearch("/providers", await searchParams));
  const { filter, problems } = parseListSearchParams(
    ZProviderFilter,
    ["q", "readiness", "page"],
    await searchParams,
    DEFAULT_PROVIDER_FILTER,
  );
  const list = await listProviders(db, filter);
  return (
    <div className="space-y-5">
      <PageHeader
        title="Providers"
        description="Stripe account readiness, what each provider was paid (net of reversals), payouts on hold and open debts."
      />
      <FilterResetNotice problems={problems} />
      <ProvidersFilter filter={filter} />
      <ProvidersTable providers={list.items} filtered={Boolean(filter.q) || filter.readiness !== "all"} />
      <OffsetPager
        page={list.page}
        pageSize={list.pageSize}
        total={list.total}
        shown={list.items.length}
        hrefFor={(page) =>
          hrefWith("/providers", {
            q: filter.q,
            readiness: filter.readiness === "all" ? undefined : filter.readiness,
            page: page > 1 ? page : undefined,
          })
        }
        noun={["provider", "providers"]}
      />
    </div>
  );
}
