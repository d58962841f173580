import type { Metadata } from "next";

import { requirePageUserAt } from "@/components/auth/require-page-user-at";
import { OverviewDashboard } from "@/components/overview/overview-dashboard";
import { db } from "@/lib/db";
import { getOverview } from "@/lib/overview/get-overview";

export const metadata: Metadata = { title: "Overview" };
export const dynamic = "force-dynamic";

export default async function OverviewPage() {
  await requirePageUserAt("/");
  const overview = await getOverview(db, new Date());
  return <OverviewDashboard initialOverview={overview} />;
}
