import "server-only";

import { Prisma } from "@/generated/prisma/client";
import type { Tx } from "@/lib/db";
import { sqlExecute } from "@/lib/direct-sql";
import { gatheredRows } from "@/lib/gathered-rows";

/** A Stripe transfer written on its leg (PayoutTransfer), which was pending without one when read. */
export type TLegWrite = {
  id: string;
  payoutId: string;
  stripeTransferId: string;
  destinationPaymentId: string | null;
  transferredAt: Date;
  updatedAt: Date;
};

/**
 * The transfers a record batch's plain successes write on their legs (transfer-leg.ts writeLeg),
 * written together before it commits, and before the payouts' changes, whose platform events read
 * them (the batch lists this kind last: lib/gathered-rows.ts). Each leg must still be as it was
 * read with its payout locked: pending, without a transfer; otherwise the batch rolls back.
 */
export const gatheredLegWrites = gatheredRows<TLegWrite>(async (tx, rows) => {
  const updated = await sqlExecute(
    tx,
    Prisma.sql`
    UPDATE "PayoutTransfer" t SET status = 'succeeded', "stripeTransferId" = x."stripeTransferId",
      "destinationPaymentId" = x."destinationPaymentId", "transferredAt" = x."transferredAt", "updatedAt" = x."updatedAt"
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      AS x(id uuid, "stripeTransferId" text, "destinationPaymentId" text, "transferredAt" timestamptz, "updatedAt" timestamptz)
    WHERE t.id = x.id AND t.status = 'pending' AND t."stripeTransferId" IS NULL`,
  );
  if (updated !== rows.length) throw new Error(`Writing ${rows.length} transfers on their legs changed ${updated}.`);
});

/** Whether `tx` holds leg writes of the payout not written yet: its legs must not be read (its platform events do). */
export function legWritesWaitFor(tx: Tx, payoutId: string): boolean {
  return gatheredLegWrites.of(tx)?.some((w) => w.payoutId === payoutId) ?? false;
}
