import type { Metadata } from "next";

import { OverviewDashboard } from "@/components/overview/overview-dashboard";
import { requirePageUser } from "@/lib/auth/session";
import { db } from "@/lib/db";
import { getOverview } from "@/lib/overview/get-overview";

export const metadata: Metadata = { title: "Overview" };
export const dynamic = "force-dynamic";

export default async function OverviewPage() {
  await requirePageUser();
  const overview = await getOverview(db, new Date());
  return <OverviewDashboard initialOverview={overview} />;
}
