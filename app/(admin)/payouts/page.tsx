import { dehydrate, HydrationBoundary, QueryClient } from "@tanstack/react-query";
import type { Metadata } from "next";

import { pathWithSearch } from "@/components/auth/login-helpers";
import { requirePageUserAt } from "@/components/auth/require-page-user-at";
import { PayoutsView } from "@/components/payouts/payouts-view";
import { hasRole } from "@/lib/auth/roles";
import { db } from "@/lib/db";
import { listPayoutCurrencies, listPayouts } from "@/lib/payouts/list-payouts";
import { filterOf, parsePayoutListQuery, recordToParams } from "@/lib/payouts/payout-filter";
import { payoutKeys } from "@/lib/payouts/payout-query-keys";

export const metadata: Metadata = { title: "Payouts" };
export const dynamic = "force-dynamic";

/**
 * The payouts list. The first page of the URL's view is read here and handed to the
 * client's query cache, so the page arrives filled; later filters and pages come from
 * GET /api/admin/payouts without re-rendering this page.
 */
export default async function PayoutsPage({ searchParams }: PageProps<"/payouts">) {
  const user = await requirePageUserAt(pathWithSearch("/payouts", await searchParams));
  const parsed = parsePayoutListQuery(recordToParams(await searchParams));
  const queryClient = new QueryClient();
  const [currencies] = await Promise.all([
    listPayoutCurrencies(db),
    parsed.success
      ? queryClient.prefetchQuery({
          queryKey: payoutKeys.list(filterOf(parsed.data), { after: parsed.data.after, before: parsed.data.before }),
          queryFn: () => listPayouts(db, parsed.data),
        })
      : null,
  ]);
  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <PayoutsView canAct={hasRole(user.role, "operator")} currencies={currencies} />
    </HydrationBoundary>
  );
}
