import "server-only";

import type { Payout } from "@/generated/prisma/client";
import type { Tx } from "@/lib/db";

import { changePayout, type TPayoutChange } from "./change-payout";
import { presentHoldCause } from "./hold-cause";
import type { TLockedBooking } from "./lock-booking";

/**
 * One cause of a held payout is gone (the last dispute resolved, the account became ready).
 * A payout has one hold reason but may have had several causes: release it only when no
 * other cause is present (presentHoldCause); otherwise it stays on hold for the cause still
 * present, the new reason audited. Call with the booking and the payout locked.
 */
export async function releaseHold(
  tx: Tx,
  payout: Payout,
  booking: TLockedBooking,
  openDisputes: number,
  release: { audit: Omit<TPayoutChange["audit"], "action" | "reason">; reason: string },
): Promise<Payout> {
  const remaining = presentHoldCause(booking, openDisputes);
  if (!remaining) {
    return changePayout(tx, payout, { event: "release", audit: { ...release.audit, action: "payout.released", reason: release.reason } });
  }
  if (remaining.holdReason === payout.holdReason) return payout;
  return changePayout(tx, payout, {
    data: { holdReason: remaining.holdReason, holdNote: remaining.holdNote },
    audit: { ...release.audit, action: "payout.held", reason: `${release.reason}; still held: ${remaining.reason}` },
  });
}
