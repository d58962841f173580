import "server-only";

import { z } from "zod";

import { ZReason } from "@/lib/audit/reason";
import { hasRole, type TRole } from "@/lib/auth/roles";
import type { TServiceContext } from "@/lib/context";
import { ForbiddenError } from "@/lib/errors";
import type { TAdminActionInput } from "@/lib/payouts/admin-action";
import { cancelPayout } from "@/lib/payouts/cancel-payout";
import { holdPayout } from "@/lib/payouts/hold-payout";
import { PAYOUT_ACTION_LABELS, PAYOUT_ACTION_ROLES, PAYOUT_ACTIONS, type TPayoutAction } from "@/lib/payouts/payout-actions";
import { releasePayout } from "@/lib/payouts/release-payout";
import { retryPayout } from "@/lib/payouts/retry-payout";

import { requestForceRelease, type TForceReleaseOutcome } from "./request-force-release";

export const ZPayoutActionInput = z
  .object({
    action: z.enum(PAYOUT_ACTIONS),
    reason: ZReason,
    /** The payout version the user saw; the action applies only if nobody changed it since. */
    expectedVersion: z.number().int().nonnegative(),
  })
  .strict();

/**
 * One admin action on one payout, by name (the dashboard's single action; it lives with the
 * approvals because a force release may become a four-eyes request): the role it needs (403 below it), then its service,
 * which checks the action's preconditions and writes the change with its audit entry. A force
 * release at or above the four-eyes threshold records a request for a second admin instead.
 */
export function runPayoutAction(
  ctx: TServiceContext,
  role: TRole,
  action: TPayoutAction,
  input: TAdminActionInput,
): Promise<TForceReleaseOutcome> {
  const required = PAYOUT_ACTION_ROLES[action];
  if (!hasRole(role, required)) throw new ForbiddenError(`${PAYOUT_ACTION_LABELS[action]} needs the ${required} role.`);
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
      return requestForceRelease(ctx, input);
  }
}
