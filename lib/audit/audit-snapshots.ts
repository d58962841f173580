// The typed shapes of audit entries' `before` / `after` JSON. A payout's snapshot is picked from
// the Payout model (its dates as ISO strings), so a field renamed or retyped in the schema breaks
// the writers at compile time; the readers (the payout timeline) parse stored JSON back with the
// schema below instead of poking at untyped values. Entries written before a field existed lack
// it, so the reader takes every field it can and leaves out what is missing or mistyped.
// Pure: no I/O, no server imports (the timeline renders in the browser).
import { z } from "zod";

import type { Payout, Prisma } from "@/generated/prisma/client";
import { HoldReason, PayoutStatus } from "@/generated/prisma/enums";

/** The payout fields the audit log keeps before and after each change. */
export const PAYOUT_SNAPSHOT_FIELDS = [
  "status",
  "currency",
  "providerShare",
  "tipAmount",
  "refundedAmount",
  "debtRecoveredAmount",
  "amount",
  "amountVersion",
  "reversedAmount",
  "holdReason",
  "eligibleAt",
  "attempts",
  "stripeTransferId",
] as const satisfies readonly (keyof Payout)[];

type TPayoutSnapshotField = (typeof PAYOUT_SNAPSHOT_FIELDS)[number];

/** A payout as the audit log keeps it: the model's fields, dates as ISO strings. */
export type TPayoutSnapshot = { [K in TPayoutSnapshotField]: Payout[K] extends Date ? string : Payout[K] };

/**
 * What a payout entry's `after` may carry beside the snapshot (lib/payouts/change-payout.ts
 * `details`): facts of the change, such as the Stripe transfer or reversal it made.
 */
export type TPayoutAuditDetails = Prisma.InputJsonObject;

/** A payout entry's `after`: the snapshot, with the change's details beside it. */
export type TPayoutAfter = TPayoutSnapshot & TPayoutAuditDetails;

/** A field of a stored snapshot: its value when it has the field's type, else left out. */
const kept = <T extends z.ZodType>(schema: T) => schema.optional().catch(undefined);

const ZStoredPayoutSnapshot = z.object({
  status: kept(z.enum(PayoutStatus)),
  currency: kept(z.string()),
  providerShare: kept(z.number().int()),
  tipAmount: kept(z.number().int()),
  refundedAmount: kept(z.number().int()),
  debtRecoveredAmount: kept(z.number().int()),
  amount: kept(z.number().int()),
  amountVersion: kept(z.number().int()),
  reversedAmount: kept(z.number().int()),
  holdReason: kept(z.enum(HoldReason).nullable()),
  eligibleAt: kept(z.string()),
  attempts: kept(z.number().int()),
  stripeTransferId: kept(z.string().nullable()),
  // Details of the change (after only).
  stripeReversalId: kept(z.string().nullable()),
}) satisfies z.ZodType<Partial<TPayoutSnapshot>>;

export type TStoredPayoutSnapshot = z.infer<typeof ZStoredPayoutSnapshot>;

/** What a stored `before` / `after` says of the payout; empty when it is not an object (null, an older shape). */
export function readPayoutSnapshot(value: Prisma.JsonValue | null | undefined): TStoredPayoutSnapshot {
  const parsed = ZStoredPayoutSnapshot.safeParse(value);
  return parsed.success ? parsed.data : {};
}
