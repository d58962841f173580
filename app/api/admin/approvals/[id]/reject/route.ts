import { randomUUID } from "node:crypto";

import { NextResponse } from "next/server";
import { z } from "zod";

import { adminActorOf } from "@/lib/approvals/admin-actor";
import { readJsonBody, uuidParam } from "@/lib/api/http-input";
import { rejectForceRelease } from "@/lib/approvals/reject-force-release";
import { requireMutationUser } from "@/lib/api/guard";
import { withErrors } from "@/lib/api/respond";
import { db } from "@/lib/db";

export const dynamic = "force-dynamic";

const ZDecisionInput = z.object({ reason: z.string().trim().min(3, "Give a reason (at least 3 characters).").max(500) }).strict();

/**
 * POST /api/admin/approvals/:id/reject `{ reason }` — an admin turns down a pending force
 * release (the requester withdrawing their own is recorded as withdrawn). The payout is untouched.
 */
export const POST = withErrors(async (request: Request, context: RouteContext<"/api/admin/approvals/[id]/reject">) => {
  const user = await requireMutationUser(request, "admin");
  const { id } = await context.params;
  const approvalId = uuidParam(id, "Approval request");
  const input = ZDecisionInput.parse(await readJsonBody(request));

  const { approval, outcome } = await rejectForceRelease({ db, actor: adminActorOf(user), requestId: randomUUID() }, { approvalId, reason: input.reason });
  return NextResponse.json(
    { outcome, approval: { id: approval.id, status: approval.status, payoutId: approval.payoutId } },
    { headers: { "Cache-Control": "no-store" } },
  );
});
