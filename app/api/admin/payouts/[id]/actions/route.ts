import { randomUUID } from "node:crypto";

import { after, NextResponse } from "next/server";
import { z } from "zod";

import { adminActorOf } from "@/lib/approvals/admin-actor";
import { readJsonBody, uuidParam } from "@/lib/api/http-input";
import { requestForceRelease, type TForceReleaseOutcome } from "@/lib/approvals/request-force-release";
import { requireMutationUser } from "@/lib/api/guard";
import { withErrors } from "@/lib/api/respond";
import { hasRole } from "@/lib/auth/roles";
import { db } from "@/lib/db";
import { ForbiddenError } from "@/lib/errors";
import { publishOutbox } from "@/lib/outbox/publish-outbox";
import { cancelPayout } from "@/lib/payouts/cancel-payout";
import { holdPayout } from "@/lib/payouts/hold-payout";
import { PAYOUT_ACTION_LABELS, PAYOUT_ACTION_ROLES, PAYOUT_ACTIONS, type TPayoutAction } from "@/lib/payouts/payout-actions";
import { releasePayout } from "@/lib/payouts/release-payout";
import { retryPayout } from "@/lib/payouts/retry-payout";
import type { TAdminActionInput } from "@/lib/payouts/admin-action";
import type { TServiceContext } from "@/lib/payouts/context";

export const dynamic = "force-dynamic";

const ZPayoutActionInput = z
  .object({
    action: z.enum(PAYOUT_ACTIONS),
    reason: z.string().trim().min(3, "Give a reason (at least 3 characters).").max(500),
    /** The payout version the user saw; the action applies only if nobody changed it since. */
    expectedVersion: z.number().int().nonnegative(),
  })
  .strict();

function run(action: TPayoutAction, ctx: TServiceContext, input: TAdminActionInput): Promise<TForceReleaseOutcome> {
  const applied = (p: Promise<{ payout: TForceReleaseOutcome["payout"]; transferRequested: boolean }>) =>
    p.then((r): TForceReleaseOutcome => ({ outcome: "applied", ...r }));
  switch (action) {
    case "hold":
      return applied(holdPayout(ctx, input));
    case "release":
      return applied(releasePayout(ctx, input));
    case "retry":
      return applied(retryPayout(ctx, input));
    case "cancel":
      return applied(cancelPayout(ctx, input));
    case "force_release":
      // At or above the four-eyes threshold this records a request for a second admin instead.
      return requestForceRelease(ctx, input);
  }
}

/**
 * POST /api/admin/payouts/:id/actions `{ action, reason, expectedVersion }` — hold, release,
 * retry (operator), force release, cancel (admin). Same-origin only; the session and role are
 * checked here; the service writes the change and its audit entry in one transaction, then
 * the events it queued are sent to Inngest once the response is out.
 */
export const POST = withErrors(async (request: Request, context: RouteContext<"/api/admin/payouts/[id]/actions">) => {
  const user = await requireMutationUser(request, "operator");
  const { id } = await context.params;
  const payoutId = uuidParam(id, "Payout");
  const input = ZPayoutActionInput.parse(await readJsonBody(request));
  const required = PAYOUT_ACTION_ROLES[input.action];
  if (!hasRole(user.role, required)) throw new ForbiddenError(`${PAYOUT_ACTION_LABELS[input.action]} needs the ${required} role.`);

  const result = await run(
    input.action,
    { db, actor: adminActorOf(user), requestId: randomUUID() },
    { payoutId, reason: input.reason, expectedVersion: input.expectedVersion },
  );
  after(async () => {
    // Unsent events stay in the outbox and are re-sent by the reconciliation sweep.
    const published = await publishOutbox(db);
    if (published.error) console.warn(`Outbox: ${published.failed} event(s) not sent yet: ${published.error}`);
  });

  const { payout } = result;
  return NextResponse.json(
    {
      outcome: result.outcome,
      payout: { id: payout.id, status: payout.status, amount: payout.amount, currency: payout.currency, version: payout.version },
      ...(result.outcome === "applied" ? { transferRequested: result.transferRequested } : { approval: { id: result.approval.id, status: result.approval.status } }),
    },
    { status: result.outcome === "approval_requested" ? 202 : 200, headers: { "Cache-Control": "no-store" } },
  );
});
