import "server-only";

import { Prisma, type PrismaClient } from "@/generated/prisma/client";
import type { PayoutStatus } from "@/generated/prisma/enums";
import { PLATFORM_CURRENCIES_STATE_KEY } from "@/lib/charges/platform-currencies";
import { coalesce } from "@/lib/coalesce";
import { sqlRows } from "@/lib/direct-sql";
import { isUuid } from "@/lib/ids";
import { onePer } from "@/lib/one-per";

/**
 * What the steps of a transfer attempt before its claim (transfer-payout.ts) look at, read in one
 * statement instead of each step reading its part: the account check, the funding look-ups and the
 * look for transfers planned for an earlier amount. Outside any transaction, as those steps always
 * were: the claim locks the rows and decides on what it reads then; these facts only say which
 * look-ups at Stripe to make first. A step that changes what a later one reads (an account
 * refreshed from Stripe, a PaymentIntent's charge recorded) reads its part again.
 */
export type TAttemptFacts = {
  status: PayoutStatus;
  providerId: string;
  stripeAccountId: string | null;
  payoutsEnabled: boolean;
  booking: { id: string; externalId: string; stripeChargeId: string | null; stripePaymentIntentId: string | null };
  /** The accepted tips joined to the payout. */
  tips: { id: string; stripeChargeId: string | null; stripePaymentIntentId: string | null }[];
  /** Of the charges that pay for the payout (its booking's and its tips'), those already described (StripeCharge). */
  knownChargeIds: string[];
  /** A transfer planned for an earlier amount version is still pending (replaceStaleLegs looks it up). */
  staleLegs: boolean;
  /** The platform's currencies as kept (SystemState), for refreshPlatformCurrencies. */
  platformCurrencies: { value: unknown };
};

type TRow = Omit<TAttemptFacts, "booking" | "platformCurrencies"> & {
  bookingId: string;
  bookingExternalId: string;
  bookingChargeId: string | null;
  bookingIntentId: string | null;
  platformCurrencies: unknown;
};

/** The attempt's facts of a payout, or null when there is no such payout. */
export async function readAttemptFacts(db: PrismaClient, payoutId: string): Promise<TAttemptFacts | null> {
  return (await readAttemptFactsOfMany(db, [payoutId])).get(payoutId) ?? null;
}

/** readAttemptFacts of the payouts that runs of this process ask for at the same moment, in one statement (lib/coalesce.ts). */
export function readAttemptFactsTogether(db: PrismaClient, payoutId: string): Promise<TAttemptFacts | null> {
  // Not an id (an event's data as sent): alone, so that its error is its own.
  if (!isUuid(payoutId)) return readAttemptFacts(db, payoutId);
  return attemptFactsReaderOf(db)(payoutId);
}

const attemptFactsReaderOf = onePer((db: PrismaClient) =>
  coalesce(async (ids: readonly string[]) => {
    const facts = await readAttemptFactsOfMany(db, [...new Set(ids)]);
    return ids.map((id) => facts.get(id) ?? null);
  }),
);

/** The attempt's facts of several payouts in one statement, by payout id (one that does not exist is left out). */
async function readAttemptFactsOfMany(db: PrismaClient, payoutIds: readonly string[]): Promise<Map<string, TAttemptFacts>> {
  const rows = await sqlRows<(TRow & { payoutId: string })[]>(
    db,
    Prisma.sql`
    SELECT p.id::text AS "payoutId", p.status::text AS status, p."providerId"::text AS "providerId", pr."stripeAccountId", pr."payoutsEnabled",
      b.id::text AS "bookingId", b."externalId" AS "bookingExternalId", b."stripeChargeId" AS "bookingChargeId",
      b."stripePaymentIntentId" AS "bookingIntentId",
      COALESCE((SELECT jsonb_agg(jsonb_build_object('id', t.id, 'stripeChargeId', t."stripeChargeId",
        'stripePaymentIntentId', t."stripePaymentIntentId") ORDER BY t.id)
        FROM "Tip" t WHERE t."payoutId" = p.id AND t.status = 'accepted'), '[]'::jsonb) AS tips,
      ARRAY(SELECT c.id FROM "StripeCharge" c
        -- One list of ids, so that the primary key finds them (an OR with an IN reads the whole table).
        WHERE c.id = ANY(array_append(ARRAY(SELECT t."stripeChargeId" FROM "Tip" t WHERE t."payoutId" = p.id AND t.status = 'accepted'),
                                      b."stripeChargeId"))) AS "knownChargeIds",
      EXISTS (SELECT 1 FROM "PayoutTransfer" l WHERE l."payoutId" = p.id AND l.kind = 'payout' AND l.status = 'pending'
        AND l."amountVersion" <> p."amountVersion") AS "staleLegs",
      (SELECT s.value FROM "SystemState" s WHERE s.key = ${PLATFORM_CURRENCIES_STATE_KEY}) AS "platformCurrencies"
    FROM "Payout" p
    JOIN "Booking" b ON b.id = p."bookingId"
    JOIN "Provider" pr ON pr.id = p."providerId"
    WHERE p.id = ANY(${payoutIds}::uuid[])`,
    { genericPlan: true },
  );
  return new Map(
    rows.map((row) => [
      row.payoutId,
      {
        status: row.status,
        providerId: row.providerId,
        stripeAccountId: row.stripeAccountId,
        payoutsEnabled: row.payoutsEnabled,
        booking: {
          id: row.bookingId,
          externalId: row.bookingExternalId,
          stripeChargeId: row.bookingChargeId,
          stripePaymentIntentId: row.bookingIntentId,
        },
        tips: row.tips,
        knownChargeIds: row.knownChargeIds,
        staleLegs: row.staleLegs,
        platformCurrencies: { value: row.platformCurrencies },
      },
    ]),
  );
}
