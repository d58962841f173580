import "server-only";

import type Stripe from "stripe";

import { Prisma, type PrismaClient, type StripeCharge } from "@/generated/prisma/client";
import { coalesce } from "@/lib/coalesce";
import type { Tx } from "@/lib/db";
import { sqlExecute } from "@/lib/direct-sql";
import { onePer } from "@/lib/one-per";
import { columnsOf } from "@/lib/statement-names";
import { retrieveChargeFunding, type TChargeFunding } from "@/lib/stripe/charges";
import { classifyStripeError } from "@/lib/stripe/classify-error";

import type { TFundingCharge } from "./funding-charge";

// What we know of the Stripe charges that pay for bookings and tips (StripeCharge): a charge's
// amount, settlement and availability never change once it succeeded, so each is asked of Stripe
// once and kept.

export function fundingOf(row: StripeCharge): TFundingCharge & { availableOn: Date | null } {
  return {
    id: row.id,
    amount: row.amount,
    currency: row.currency,
    settlementCurrency: row.settlementCurrency,
    settledAmount: row.settledAmount,
    exchangeRate: row.exchangeRate,
    availableOn: row.availableOn,
  };
}

/** The known charges among `ids`, by id. */
export async function knownCharges(tx: Tx, ids: readonly string[]): Promise<Map<string, StripeCharge>> {
  if (ids.length === 0) return new Map();
  const rows = await tx.stripeCharge.findMany({ where: { id: { in: [...ids] } } });
  return new Map(rows.map((row) => [row.id, row]));
}

/** Keeps what Stripe said of a charge (idempotent; a later answer replaces an earlier one). */
export async function storeChargeFunding(db: PrismaClient | Tx, funding: TChargeFunding, now: Date): Promise<void> {
  const data = chargeRow(funding, now);
  await db.stripeCharge.upsert({ where: { id: funding.id }, create: data, update: data });
}

function chargeRow(funding: TChargeFunding, now: Date): StripeCharge {
  return {
    id: funding.id,
    paymentIntentId: funding.paymentIntentId,
    amount: funding.amount,
    currency: funding.currency,
    settlementCurrency: funding.settlementCurrency,
    settledAmount: funding.settledAmount,
    exchangeRate: funding.exchangeRate,
    balanceTransactionId: funding.balanceTransactionId,
    availableOn: funding.availableOn,
    metadataBookingId: funding.metadataBookingId,
    transferGroup: funding.transferGroup,
    fetchedAt: now,
  };
}

/**
 * storeChargeFunding, with what the runs of this process learn at the same moment, in one statement
 * (lib/coalesce.ts): each row as the table has it (jsonb_populate_recordset), a later answer of a
 * charge replacing an earlier one.
 */
function storeChargeFundingTogether(db: PrismaClient, funding: TChargeFunding, now: Date): Promise<void> {
  return chargeStorerOf(db)(chargeRow(funding, now));
}

const chargeStorerOf = onePer((db: PrismaClient) =>
  coalesce(async (rows: readonly StripeCharge[]) => {
    // One row per charge (a statement may not update a row twice): the last answer.
    const last = [...new Map(rows.map((row) => [row.id, row])).values()];
    await sqlExecute(
      db,
      Prisma.sql`
        INSERT INTO "StripeCharge" (${CHARGE_COLUMNS})
        SELECT ${CHARGE_COLUMNS} FROM jsonb_populate_recordset(NULL::"StripeCharge", ${JSON.stringify(last)}::jsonb)
        ON CONFLICT (id) DO UPDATE SET ${CHARGE_UPDATES}`,
    );
    return rows.map(() => undefined);
  }),
);

const CHARGE_COLUMNS = columnsOf(Prisma.StripeChargeScalarFieldEnum);
const CHARGE_UPDATES = Prisma.raw(
  Object.values(Prisma.StripeChargeScalarFieldEnum)
    .filter((field) => field !== "id")
    .map((field) => `"${field}" = EXCLUDED."${field}"`)
    .join(", "),
);

export type TChargeLookup =
  | { kind: "known" }
  /** Stripe answered that no such charge exists (a wrong id from the platform). */
  | { kind: "unknown_to_stripe"; message: string }
  /** Stripe refused to show the charge (e.g. a restricted key without read access): asking again will not help. */
  | { kind: "refused"; message: string }
  /** Stripe could not be asked now. */
  | { kind: "unavailable"; message: string };

/**
 * Makes sure every charge among `ids` is known, asking Stripe for the missing ones (the charge
 * and its balance transaction). Returns what happened to each id that was not known yet.
 */
export async function learnCharges(
  db: PrismaClient,
  stripe: Stripe,
  ids: readonly string[],
  now: Date,
  /** Which of `ids` are known, as the caller just read it (else it is read here). */
  knownIds?: readonly string[],
): Promise<Map<string, TChargeLookup>> {
  const known = new Set(knownIds ?? (await knownCharges(db, ids)).keys());
  const result = new Map<string, TChargeLookup>();
  for (const id of new Set(ids)) {
    if (known.has(id)) continue;
    try {
      await storeChargeFundingTogether(db, await retrieveChargeFunding(stripe, id), now);
      result.set(id, { kind: "known" });
    } catch (error) {
      const failure = classifyStripeError(error);
      result.set(
        id,
        failure.retry !== "never"
          ? { kind: "unavailable", message: failure.message }
          : failure.statusCode === 404
            ? { kind: "unknown_to_stripe", message: failure.message }
            : { kind: "refused", message: failure.message },
      );
    }
  }
  return result;
}
