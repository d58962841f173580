import type { Metadata } from "next";
import { notFound } from "next/navigation";

import { requirePageUserAt } from "@/components/auth/require-page-user-at";
import { PayoutDetailView } from "@/components/payout-detail/payout-detail-view";
import { db } from "@/lib/db";
import { isUuid } from "@/lib/ids";
import { getPayoutDetail } from "@/lib/payouts/get-payout-detail";

export const dynamic = "force-dynamic";

export async function generateMetadata(props: PageProps<"/payouts/[id]">): Promise<Metadata> {
  const { id } = await props.params;
  return { title: `Payout ${id.slice(0, 8)}` };
}

export default async function PayoutDetailPage(props: PageProps<"/payouts/[id]">) {
  const { id } = await props.params;
  const user = await requirePageUserAt(`/payouts/${encodeURIComponent(id)}`);
  if (!isUuid(id)) notFound();
  const detail = await getPayoutDetail(db, id, user);
  if (!detail) notFound();
  return <PayoutDetailView initialDetail={detail} />;
}
