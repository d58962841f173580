import { adminRoute, jsonAnswer } from "@/lib/api/admin-route";
import { db } from "@/lib/db";
import { ZCreateEndpoint } from "@/lib/platform-webhooks/endpoint-schemas";
import { listPlatformWebhooks, ZDeliveryLogQuery } from "@/lib/platform-webhooks/list-platform-webhooks";
import { createEndpoint } from "@/lib/platform-webhooks/manage-endpoints";

export const dynamic = "force-dynamic";

/** GET /api/admin/platform-webhooks?status=&endpointId=: the booking platform's endpoints and the delivery log (viewer). */
export const GET = adminRoute({ role: "viewer", query: ZDeliveryLogQuery }, ({ query }) => listPlatformWebhooks(db, query));

/**
 * POST /api/admin/platform-webhooks { url, description?, eventTypes?, reason? }: adds an endpoint
 * (admin, same origin), audited: 201 { endpoint, secret }, the secret shown this once.
 */
export const POST = adminRoute({ role: "admin", body: ZCreateEndpoint }, async ({ body, actor }) =>
  jsonAnswer(await createEndpoint(db, body, actor), { status: 201 }),
);
