import { randomUUID } from "node:crypto";

import { after, NextResponse } from "next/server";
import { z } from "zod";

import { adminActorOf } from "@/lib/approvals/admin-actor";
import { approveForceRelease } from "@/lib/approvals/approve-force-release";
import { readJsonBody, uuidParam } from "@/lib/api/http-input";
import { requireMutationUser } from "@/lib/api/guard";
import { withErrors } from "@/lib/api/respond";
import { db } from "@/lib/db";
import { publishOutbox } from "@/lib/outbox/publish-outbox";

export const dynamic = "force-dynamic";

const ZDecisionInput = z.object({ reason: z.string().trim().min(3, "Give a reason (at least 3 characters).").max(500) }).strict();

/**
 * POST /api/admin/approvals/:id/approve `{ reason }` — a second admin approves a pending
 * force release, which then runs with them as the actor. The requester gets 403; a request
 * whose payout changed since expires (409).
 */
export const POST = withErrors(async (request: Request, context: RouteContext<"/api/admin/approvals/[id]/approve">) => {
  const user = await requireMutationUser(request, "admin");
  const { id } = await context.params;
  const approvalId = uuidParam(id, "Approval request");
  const input = ZDecisionInput.parse(await readJsonBody(request));

  const result = await approveForceRelease({ db, actor: adminActorOf(user), requestId: randomUUID() }, { approvalId, reason: input.reason });
  after(async () => {
    // Unsent events stay in the outbox and are re-sent by the reconciliation sweep.
    const published = await publishOutbox(db);
    if (published.error) console.warn(`Outbox: ${published.failed} event(s) not sent yet: ${published.error}`);
  });

  const { payout, approval } = result;
  return NextResponse.json(
    {
      approval: { id: approval.id, status: approval.status },
      payout: { id: payout.id, status: payout.status, amount: payout.amount, currency: payout.currency, version: payout.version },
      transferRequested: result.transferRequested,
    },
    { headers: { "Cache-Control": "no-store" } },
  );
});
