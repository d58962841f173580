import { NextResponse } from "next/server";
import { z } from "zod";

import { acknowledgeAlert } from "@/lib/alerts/acknowledge-alert";
import { ZAcknowledgeAlert } from "@/lib/alerts/list-alerts-filter";
import { requireMutationUser } from "@/lib/api/guard";
import { readJsonBody } from "@/lib/api/http-input";
import { withErrors } from "@/lib/api/respond";
import { db } from "@/lib/db";

export const dynamic = "force-dynamic";

const ZParams = z.object({ id: z.uuid("Not an alert id.") }).strict();

/**
 * POST /api/admin/alerts/[id]/acknowledge { note? }: operator role, same origin. Sets who
 * and when, audited with the note. Idempotent: acknowledging again changes nothing and
 * answers who acknowledged it and when.
 */
export const POST = withErrors(async (request, context: RouteContext<"/api/admin/alerts/[id]/acknowledge">) => {
  const user = await requireMutationUser(request, "operator");
  const { id } = ZParams.parse(await context.params);
  const body = ZAcknowledgeAlert.parse(await readJsonBody(request, { optional: true }));
  const result = await acknowledgeAlert(db, { alertId: id, ...body }, user);
  return NextResponse.json(result, { headers: { "Cache-Control": "no-store" } });
});
