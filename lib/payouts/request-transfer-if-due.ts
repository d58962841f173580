import "server-only";

import type { Payout } from "@/generated/prisma/client";
import type { Tx } from "@/lib/db";
import { enqueueEvent } from "@/lib/outbox/enqueue-event";

import { evaluateEligibility } from "./eligibility";
import type { TLockedBooking } from "./lock-booking";
import { eligibilityFacts } from "./payout-facts";

/** Enqueues `payout/transfer.requested` when the payout may be transferred now. */
export async function requestTransferIfDue(
  tx: Tx,
  payout: Payout,
  booking: TLockedBooking,
  openDisputes: number,
  now: Date,
): Promise<boolean> {
  const eligibility = evaluateEligibility(eligibilityFacts(payout, booking, openDisputes), now);
  if (!eligibility.eligible) return false;
  await enqueueEvent(tx, {
    name: "payout/transfer.requested",
    data: { payoutId: payout.id, reason: "due" },
    eventId: `transfer:${payout.id}:v${payout.version}`,
  });
  return true;
}
