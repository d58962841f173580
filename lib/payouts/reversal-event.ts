// The status of a transferred payout follows what it lost after the transfer. Pure: no I/O.
import type { Payout } from "@/generated/prisma/client";

import type { TPayoutEvent } from "./state-machine";

/** The state-machine event that puts a transferred payout's status in line with what it lost after the transfer. */
export function reversalEvent(payout: Pick<Payout, "amount">, reversedAmount: number, repaidAmount: number): TPayoutEvent {
  const lost = reversedAmount - repaidAmount;
  if (lost <= 0) return "unreverse";
  return lost >= payout.amount ? "reverse_fully" : "reverse_partially";
}
