import type { Metadata } from "next";

import { requirePageUserAt } from "@/components/auth/require-page-user-at";
import { DeliveryLog } from "@/components/platform-webhooks/delivery-log";
import { EndpointList } from "@/components/platform-webhooks/endpoint-list";
import { PageHeader } from "@/components/ui/page-header";
import { hasRole } from "@/lib/auth/roles";
import { db } from "@/lib/db";
import { listPlatformWebhooks } from "@/lib/platform-webhooks/list-platform-webhooks";

export const metadata: Metadata = { title: "Platform webhooks" };
export const dynamic = "force-dynamic";

export default async function PlatformWebhooksPage() {
  const user = await requirePageUserAt("/platform-webhooks");
  const view = await listPlatformWebhooks(db);
  const canManage = hasRole(user.role, "admin");
  return (
    <div className="space-y-5">
      <PageHeader
        title="Platform webhooks"
        description="What the booking platform is told of its payouts (Standard Webhooks, signed per endpoint): the endpoints and every delivery with the answer of each attempt."
      />
      <EndpointList endpoints={view.endpoints} canManage={canManage} />
      <DeliveryLog deliveries={view.deliveries} canResend={canManage} />
    </div>
  );
}
