import type { Metadata } from "next";

import { pathWithSearch } from "@/components/auth/login-helpers";
import { requirePageUserAt } from "@/components/auth/require-page-user-at";
import { FilterResetNotice } from "@/components/shell/list/page-states";
import { CursorPager } from "@/components/shell/list/pager";
import { hrefWith, parseListSearchParams } from "@/components/shell/list/search-params";
import { PageHeader } from "@/components/ui/page-header";
import { DeliveriesFilter, isDeliveryFilterActive } from "@/components/webhooks/deliveries-filter";
import { DeliveriesTable } from "@/components/webhooks/deliveries-table";
import { hasRole } from "@/lib/auth/roles";
import { db } from "@/lib/db";
import { countDeliveriesByStatus, listDeliveries, listRecentDeliveryTypes } from "@/lib/webhooks/list-deliveries";
import { DEFAULT_DELIVERY_FILTER, DELIVERY_FILTER_KEYS, ZDeliveryFilter } from "@/lib/webhooks/list-deliveries-filter";

export const metadata: Metadata = { title: "Webhook deliveries" };
export const dynamic = "force-dynamic";

export default async function WebhooksPage({ searchParams }: PageProps<"/webhooks">) {
  const user = await requirePageUserAt(pathWithSearch("/webhooks", await searchParams));
  const { filter, problems } = parseListSearchParams(ZDeliveryFilter, DELIVERY_FILTER_KEYS, await searchParams, DEFAULT_DELIVERY_FILTER);
  const [list, types, counts] = await Promise.all([
    listDeliveries(db, filter, { payload: true }),
    listRecentDeliveryTypes(db),
    countDeliveriesByStatus(db),
  ]);
  const { after: _after, before: _before, ...criteria } = filter;
  const href = (position: { after?: string; before?: string } = {}) =>
    hrefWith("/webhooks", { status: criteria.status, source: criteria.source, type: criteria.type, ...position });
  return (
    <div className="space-y-5">
      <PageHeader
        title="Webhook deliveries"
        description="Every accepted delivery from the booking platform and Stripe, stored before it is applied. Open one to see its payload."
      />
      <FilterResetNotice problems={problems} />
      <DeliveriesFilter filter={criteria} types={types} counts={counts} />
      <DeliveriesTable deliveries={list.items} canRedrive={hasRole(user.role, "operator")} filtered={isDeliveryFilterActive(filter)} />
      <CursorPager
        summary={
          list.items.length === 0
            ? "No deliveries"
            : `${list.items.length.toLocaleString("en-US")} ${list.items.length === 1 ? "delivery" : "deliveries"} on this page (up to ${filter.limit})`
        }
        prevHref={list.prevCursor ? href({ before: list.prevCursor }) : null}
        nextHref={list.nextCursor ? href({ after: list.nextCursor }) : null}
        firstHref={filter.after || filter.before ? href() : null}
      />
    </div>
  );
}
