import "server-only";

import { randomUUID } from "node:crypto";

import {
  Prisma,
  type Dispute,
  type Payout,
  type PayoutTransfer,
  type PrismaClient,
  type StripeCharge,
  type Tip,
} from "@/generated/prisma/client";
import { knownCharges, fundingOf } from "@/lib/charges/charge-funding";
import type { TFundingCharge } from "@/lib/charges/funding-charge";
import { PLATFORM_CURRENCIES_STATE_KEY, platformCurrenciesFrom } from "@/lib/charges/platform-currencies";
import type { TResolvedContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { sqlExecute, sqlRows } from "@/lib/direct-sql";
import { gatheredRows } from "@/lib/gathered-rows";
import { dateFieldsOf, rowsFromJson } from "@/lib/json-rows";
import { formatMoney } from "@/lib/money/format-money";
import { columnsOf } from "@/lib/statement-names";
import { isTransferForLeg, transferIdempotencyKey } from "@/lib/stripe/transfers";

import type { TLockedBooking } from "./lock-booking";
import { owedByCharge, planTransfers, type TFundingPlan, type TPlannedLeg } from "./plan-transfers";
import { recordLegTransfer } from "./transfer-leg";
import { alertUnexpectedTransfer, describeTransfer, holdForReview, UNEXPECTED_TRANSFER } from "./transfer-review";
import type { TStripeTransferFound } from "./transfer-types";

// A payout's planned Stripe transfers (PayoutTransfer), made once per amount version from the
// facts and the charges Stripe described (lib/payouts/plan-transfers.ts). A plan is kept until
// it is paid: every retry sends the same transfers with the same keys. Transfers already made
// stay when the amount changes (a failed payout adjusted by a refund); only what is left is planned
// anew. The pending transfers of the old amount may have reached Stripe, so they are replaced only
// after a look-up at Stripe (lib/payouts/replace-stale-legs.ts): one Stripe made is recorded as
// what it was and counts as paid. New transfers take leg numbers never used before for the payout,
// so a leg number (and its key) always means one amount. Tips received before the transfer was
// made that join the payout only after it are paid with a top-up: more transfers, the next legs,
// planned for the amount version the tips made (planTopUp, createTopUpLegs).

/** What the plan needs of a tip joined to the payout. */
export type TTipPart = Pick<Tip, "amount" | "stripeChargeId" | "tippedAt">;

export type TPlanOutcome =
  /** `knownTransferIds`: the payout's Stripe transfers a look-up leaves out (knownTransferIds), read with the plan. */
  | { kind: "planned"; pending: PayoutTransfer[]; knownTransferIds: string[] }
  | { kind: "currency_unsupported"; reason: string }
  /** More was transferred than the payout now owes: a person must recover the difference. */
  | { kind: "overpaid"; reason: string }
  /**
   * Transfers planned for an earlier amount are still pending: they may have reached Stripe, so
   * the plan changes only after they are looked up there (replaceStaleLegs). Nothing was written.
   */
  | { kind: "stale_legs"; legs: PayoutTransfer[] };

/** The booking's transfer group at Stripe: every transfer of its payout is in it. */
export function transferGroupFor(booking: { externalId: string }): string {
  return `booking_${booking.externalId}`;
}

/** The idempotency key of a planned transfer; a new suffix after each refusal Stripe stored under it. */
export function legKey(leg: Pick<PayoutTransfer, "payoutId" | "amountVersion" | "leg" | "refusals">): string {
  return transferIdempotencyKey(leg.payoutId, leg.amountVersion, leg.refusals, leg.leg);
}

/** The charges that pay for a payout: its booking's and those of the accepted tips that joined it. */
export async function chargeIdsOfPayout(db: PrismaClient | Tx, payoutId: string): Promise<string[]> {
  const payout = await db.payout.findUnique({
    where: { id: payoutId },
    select: { booking: { select: { stripeChargeId: true } }, tips: { where: { status: "accepted" }, select: { stripeChargeId: true } } },
  });
  return payout ? chargeIdsOf(payout) : [];
}

/** The charges that pay for a payout, of its booking and accepted tips as read (chargeIdsOfPayout, the attempt's facts). */
export function chargeIdsOf(payout: {
  booking: { stripeChargeId: string | null };
  tips: readonly { stripeChargeId: string | null }[];
}): string[] {
  const ids = [payout.booking.stripeChargeId, ...payout.tips.map((t) => t.stripeChargeId)].filter((id): id is string => id !== null);
  return [...new Set(ids)];
}

/**
 * The payout's transfers still to make for its current amount version, planned now if it has none
 * (what its transfers already made did not pay). Pending transfers of an earlier version are never
 * replaced here: that takes a look-up at Stripe first (`stale_legs`). Call with the booking and the
 * payout locked.
 */
export async function ensureTransferPlan(
  tx: Tx,
  payout: Payout,
  booking: TLockedBooking,
  /** Its reads, when the caller made them with the booking and payout locked and wrote nothing they read since (a claim batch). */
  read?: TLegsWithPlanFacts,
): Promise<TPlanOutcome> {
  const { legs, tips, facts, knownTransferIds } = read ?? (await readLegsWithPlanFacts(tx, payout, booking));
  const current = legs.filter((l) => l.status === "pending" && l.amountVersion === payout.amountVersion);
  if (current.length > 0) return { kind: "planned", pending: current, knownTransferIds };
  const stale = legs.filter((l) => l.status === "pending");
  if (stale.length > 0) return { kind: "stale_legs", legs: stale };

  const made = legs.filter((l) => l.status === "succeeded");
  const paid = made.reduce((sum, l) => sum + l.payoutAmount, 0);
  const remaining = payout.amount - paid;
  if (remaining < 0) {
    return {
      kind: "overpaid",
      reason: `${formatMoney(paid, payout.currency)} was already transferred, more than the ${formatMoney(payout.amount, payout.currency)} the payout now owes`,
    };
  }
  if (remaining === 0) return { kind: "planned", pending: [], knownTransferIds };

  const plan = await planRemaining(tx, payout, booking, tips, made, remaining, facts);
  if (plan.kind !== "plan") return plan;
  // After every leg number the payout ever used (replaced ones too): a number means one amount.
  // The legs created carry no Stripe transfer: the ids read stay the payout's.
  const pending = await createLegs(tx, payout, Math.max(0, ...legs.map((l) => l.leg)) + 1, plan.legs);
  return { kind: "planned", pending, knownTransferIds };
}

/**
 * A top-up: `amount` more to pay on a payout whose transfer was already made (tips received before
 * it was made that could not join it in time; lib/payouts/claims-after-transfer.ts). `payout` is
 * the payout as it will be with those tips (its amount grown by `amount`), `tips` all the tips it
 * will have. The transfers that carry it, as planTransfers makes them: from the charges that paid
 * those tips where they can carry it (less what the payout's transfers, made or still to be sent,
 * already took from each), the rest from the balance. Nothing is written: createTopUpLegs records
 * them once the payout has its new amount version. Call with the booking and the payout locked.
 */
export async function planTopUp(
  tx: Tx,
  payout: Payout,
  booking: TLockedBooking,
  tips: readonly TTipPart[],
  amount: number,
): Promise<TFundingPlan> {
  const legs = await tx.payoutTransfer.findMany({
    where: { payoutId: payout.id, kind: "payout", status: { in: ["pending", "succeeded"] } },
  });
  return planRemaining(tx, payout, booking, tips, legs, amount, await readPlanFacts(tx, payout, booking));
}

/**
 * Records a top-up's transfers as the next legs of the payout, planned for its current amount
 * version, each with its own key. Leg numbers are never reused (a transfer is found at Stripe by
 * its leg, metadata.leg).
 */
export async function createTopUpLegs(tx: Tx, payout: Payout, legs: readonly TPlannedLeg[]): Promise<PayoutTransfer[]> {
  const last = await tx.payoutTransfer.aggregate({ where: { payoutId: payout.id, kind: "payout" }, _max: { leg: true } });
  return createLegs(tx, payout, (last._max.leg ?? 0) + 1, legs);
}

/**
 * What planning reads besides the payout's transfers: what applied refunds and chargebacks took
 * from each charge, the resolved disputes whose refund was applied, and the known charges among
 * `chargesRead` (the booking's and its joined tips').
 */
export type TPlanFacts = {
  chargeLosses: { stripeChargeId: string; amount: number }[];
  refundedDisputes: Pick<Dispute, "stripeDisputeId" | "stripeChargeId" | "refundedAmount">[];
  charges: Map<string, StripeCharge>;
  chargesRead: ReadonlySet<string>;
  /** The platform's currencies as last known (knownPlatformCurrencies). */
  platformCurrencies: string[] | null;
};

const LEG_DATES = dateFieldsOf<PayoutTransfer>()(["transferredAt", "createdAt", "updatedAt"]);
const CHARGE_DATES = dateFieldsOf<StripeCharge>()(["availableOn", "fetchedAt"]);

/** planRemaining's reads (TPlanFacts), as SQL: the same filters as its own reads. `bookingId`: a uuid expression. */
function planFactsColumns(bookingId: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    (SELECT coalesce(json_agg(s), '[]'::json)
       FROM (SELECT "stripeChargeId", sum(amount) AS amount FROM "ChargeRefund"
             WHERE "bookingId" = ${bookingId} AND "appliedAt" IS NOT NULL GROUP BY "stripeChargeId") s) AS "chargeLosses",
    (SELECT coalesce(json_agg(d), '[]'::json)
       FROM (SELECT "stripeDisputeId", "stripeChargeId", "refundedAmount" FROM "Dispute"
             WHERE "bookingId" = ${bookingId} AND status = 'resolved' AND "refundAppliedAt" IS NOT NULL AND "refundedAmount" > 0) d) AS "refundedDisputes",
    (SELECT value::text FROM "SystemState" WHERE key = ${PLATFORM_CURRENCIES_STATE_KEY}) AS "platformCurrencies"`;
}

export type TLegsWithPlanFacts = { legs: PayoutTransfer[]; tips: TTipPart[]; facts: TPlanFacts; knownTransferIds: string[] };

/**
 * The payout's transfers (kind payout, by leg), its accepted tips, and what planning them reads
 * (TPlanFacts), in one statement: ensureTransferPlan's reads, made with the booking and the payout
 * locked. The charges read are the booking's and those of the tips read.
 */
export async function readLegsWithPlanFacts(tx: Tx, payout: Payout, booking: TLockedBooking): Promise<TLegsWithPlanFacts> {
  const read = (await readLegsWithPlanFactsOfMany(tx, [{ payout, booking }])).get(payout.id);
  if (!read) throw new Error(`Reading the transfers of payout ${payout.id} returned no row.`);
  return read;
}

/**
 * readLegsWithPlanFacts of several payouts in one statement (a claim batch's, read once its members
 * are locked: what it reads of a payout only that payout's own claim writes), by payout id, with
 * the number of each one's last attempt (0: none), which its claim numbers the next after.
 */
export async function readLegsWithPlanFactsOfMany(
  tx: Tx,
  payouts: readonly { payout: Payout; booking: TLockedBooking }[],
): Promise<Map<string, TLegsWithPlanFacts & { lastAttemptNumber: number }>> {
  if (payouts.length === 0) return new Map();
  const rows = await sqlRows<Record<string, unknown>[]>(
    tx,
    Prisma.sql`
    SELECT x."payoutId"::text AS "payoutId", f.*
    FROM unnest(${payouts.map((p) => p.payout.id)}::uuid[], ${payouts.map((p) => p.booking.id)}::uuid[],
                ${payouts.map((p) => p.booking.stripeChargeId)}::text[]) AS x("payoutId", "bookingId", "chargeId")
    CROSS JOIN LATERAL (
      WITH tips AS (
        SELECT amount, "stripeChargeId", "tippedAt" FROM "Tip" WHERE "payoutId" = x."payoutId" AND status = 'accepted'
      )
      SELECT
        (SELECT coalesce(json_agg(l ORDER BY l.leg), '[]'::json)
           FROM (SELECT ${columnsOf(Prisma.PayoutTransferScalarFieldEnum)} FROM "PayoutTransfer"
                 WHERE "payoutId" = x."payoutId" AND kind = 'payout') l) AS legs,
        (SELECT coalesce(json_agg(t), '[]'::json) FROM tips t) AS tips,
        (SELECT coalesce(json_agg(c), '[]'::json)
           FROM (SELECT ${columnsOf(Prisma.StripeChargeScalarFieldEnum)} FROM "StripeCharge"
                 -- One list of ids, so that the primary key finds them (an OR with an IN reads the whole table).
                 WHERE id = ANY(array_append(ARRAY(SELECT "stripeChargeId" FROM tips), x."chargeId"))) c) AS charges,
        (SELECT coalesce(json_agg(k.id), '[]'::json) FROM (${knownTransferIdsSql(Prisma.sql`x."payoutId"`)}) k) AS "knownTransferIds",
        ${planFactsColumns(Prisma.sql`x."bookingId"`)},
        (SELECT coalesce(max("attemptNumber"), 0) FROM "TransferAttempt" WHERE "payoutId" = x."payoutId") AS "lastAttemptNumber"
    ) f`,
  );
  const bookings = new Map(payouts.map((p) => [p.payout.id, p.booking]));
  const read = new Map<string, TLegsWithPlanFacts & { lastAttemptNumber: number }>();
  for (const row of rows) {
    const payoutId = row.payoutId as string;
    const booking = bookings.get(payoutId)!;
    const tips = rowsFromJson<TTipPart>(row.tips, ["tippedAt"]);
    const charges = rowsFromJson<StripeCharge>(row.charges, CHARGE_DATES);
    const chargesRead = new Set([booking.stripeChargeId, ...tips.map((t) => t.stripeChargeId)].filter((id): id is string => id !== null));
    read.set(payoutId, {
      legs: rowsFromJson<PayoutTransfer>(row.legs, LEG_DATES),
      tips,
      facts: planFactsOf(row, new Map(charges.map((c) => [c.id, c])), chargesRead),
      knownTransferIds: idsFromJson(row.knownTransferIds),
      lastAttemptNumber: row.lastAttemptNumber as number,
    });
  }
  return read;
}

/** A JSON array of ids (json_agg of text), as strings. */
function idsFromJson(value: unknown): string[] {
  const ids: unknown = typeof value === "string" ? JSON.parse(value) : value;
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string")) throw new Error("Expected a JSON array of ids.");
  return ids as string[];
}

/** TPlanFacts from a row with planFactsColumns, and the charges read with it (`chargesRead`: the ids looked for). */
function planFactsOf(row: Record<string, unknown>, charges: Map<string, StripeCharge>, chargesRead: ReadonlySet<string>): TPlanFacts {
  return {
    chargeLosses: rowsFromJson<TPlanFacts["chargeLosses"][number]>(row.chargeLosses, []),
    refundedDisputes: rowsFromJson<TPlanFacts["refundedDisputes"][number]>(row.refundedDisputes, []),
    charges,
    chargesRead,
    platformCurrencies: platformCurrenciesFrom(storedValue(row.platformCurrencies)),
  };
}

/** A jsonb value read as its text (`value::text`, so that a JSON string is never taken for the text of a document), parsed; null for no row. */
function storedValue(text: unknown): unknown {
  return typeof text === "string" ? (JSON.parse(text) as unknown) : null;
}

/** planRemaining's reads when its caller has not made them (a top-up). */
async function readPlanFacts(tx: Tx, payout: Payout, booking: TLockedBooking): Promise<TPlanFacts> {
  const [row] = await sqlRows<Record<string, unknown>[]>(tx, Prisma.sql`SELECT ${planFactsColumns(Prisma.sql`${booking.id}::uuid`)}`);
  if (!row) throw new Error(`Reading what planning payout ${payout.id} needs returned no row.`);
  return planFactsOf(row, new Map(), new Set());
}

/**
 * The transfers that pay `remaining` of the payout, given the transfers `made` for it already
 * (lib/payouts/plan-transfers.ts), from the facts the caller read for it (readLegsWithPlanFacts, readPlanFacts).
 */
async function planRemaining(
  tx: Tx,
  payout: Payout,
  booking: TLockedBooking,
  joinedTips: readonly TTipPart[],
  made: readonly PayoutTransfer[],
  remaining: number,
  facts: TPlanFacts,
): Promise<TFundingPlan> {
  const tips = [...joinedTips].sort((a, b) => a.tippedAt.getTime() - b.tippedAt.getTime());
  const chargeLosses = new Map<string, number>();
  const add = (chargeId: string, amount: number) => chargeLosses.set(chargeId, (chargeLosses.get(chargeId) ?? 0) + amount);
  for (const step of facts.chargeLosses) add(step.stripeChargeId, Number(step.amount));
  const disputes = facts.refundedDisputes;
  let unattributedRefunds = 0;
  for (const d of disputes) {
    if (d.stripeDisputeId && d.stripeChargeId) add(d.stripeChargeId, d.refundedAmount);
    else unattributedRefunds += d.refundedAmount;
  }
  const owed = owedByCharge({
    bookingChargeId: booking.stripeChargeId,
    providerShare: payout.providerShare,
    tips,
    chargeLosses,
    unattributedRefunds,
    amount: payout.amount,
  });

  const owedCharges = owed.flatMap((p) => (p.chargeId ? [p.chargeId] : []));
  // The charges read with the facts, and any other the plan names, read now.
  const rows = new Map([...facts.charges].filter(([id]) => owedCharges.includes(id)));
  for (const [id, row] of await knownCharges(
    tx,
    owedCharges.filter((id) => !facts.chargesRead.has(id)),
  ))
    rows.set(id, row);
  const charges = new Map<string, TFundingCharge>([...rows].map(([id, row]) => [id, fundingOf(row)]));
  const transferredFrom = new Map<string, number>();
  const paidFrom = new Map<string | null, number>();
  for (const leg of made) {
    if (leg.sourceChargeId) transferredFrom.set(leg.sourceChargeId, (transferredFrom.get(leg.sourceChargeId) ?? 0) + leg.amount);
    paidFrom.set(leg.sourceChargeId, (paidFrom.get(leg.sourceChargeId) ?? 0) + leg.payoutAmount);
  }
  return planTransfers({
    payoutCurrency: payout.currency,
    remaining,
    owed,
    charges,
    transferredFrom,
    paidFrom,
    platformCurrencies: facts.platformCurrencies,
  });
}

/**
 * A claim batch's new legs, written together before it commits (claimTransfers). What a member
 * reads after planning does not depend on them: the transfer ids of its legs (the claim's platform
 * event, knownTransferIds), and a new leg has none; nothing reads another payout's legs.
 */
export const newLegs = gatheredRows<PayoutTransfer>(insertLegs);

/**
 * The plan's legs, as written (ids and times made here): in one statement, or gathered for a claim
 * batch's (newLegs). The payout is locked: nothing else writes its plan meanwhile.
 */
async function createLegs(tx: Tx, payout: Payout, firstLeg: number, legs: readonly TPlannedLeg[]): Promise<PayoutTransfer[]> {
  if (legs.length === 0) return [];
  const now = new Date();
  const created = legs.map((leg, i): PayoutTransfer => ({
    id: randomUUID(),
    payoutId: payout.id,
    kind: "payout",
    amountVersion: payout.amountVersion,
    leg: firstLeg + i,
    sourceChargeId: leg.sourceChargeId,
    payoutAmount: leg.payoutAmount,
    amount: leg.amount,
    currency: leg.currency,
    exchangeRate: leg.exchangeRate,
    status: "pending",
    refusals: 0,
    idempotencyKey: transferIdempotencyKey(payout.id, payout.amountVersion, 0, firstLeg + i),
    stripeTransferId: null,
    destinationPaymentId: null,
    chargeRefundId: null,
    bankPayoutId: null,
    transferredAt: null,
    createdAt: now,
    updatedAt: now,
  }));
  const gathered = newLegs.of(tx);
  if (gathered) gathered.push(...created);
  else await insertLegs(tx, created);
  return created;
}

/** Rows of PayoutTransfer, every column given (none left to a default), in one statement. */
async function insertLegs(tx: Tx, legs: readonly PayoutTransfer[]): Promise<void> {
  if (legs.length === 0) return;
  const inserted = await sqlExecute(
    tx,
    Prisma.sql`INSERT INTO "PayoutTransfer" SELECT * FROM jsonb_populate_recordset(NULL::"PayoutTransfer", ${JSON.stringify(legs)}::jsonb)`,
  );
  if (inserted !== legs.length) throw new Error(`Writing ${legs.length} planned transfers wrote ${inserted}.`);
}

/**
 * The transfer ids a look-up at Stripe for the payout leaves out: those recorded on its transfers,
 * and those alerted as unexpected (holdForUnmatchedTransfers) whose alert a person acknowledged:
 * they know of it and decided what to do, so it no longer holds the payout.
 */
export async function knownTransferIds(db: PrismaClient | Tx, payoutId: string): Promise<string[]> {
  const rows = await sqlRows<{ id: string }[]>(db, knownTransferIdsSql(Prisma.sql`${payoutId}::uuid`));
  return rows.map((r) => r.id);
}

/** knownTransferIds' query (one column, `id`), also read with a plan (readLegsWithPlanFacts). `payoutId`: a uuid expression. */
function knownTransferIdsSql(payoutId: Prisma.Sql): Prisma.Sql {
  const prefix = `${UNEXPECTED_TRANSFER}:`;
  return Prisma.sql`
    SELECT "stripeTransferId" AS id FROM "PayoutTransfer" WHERE "payoutId" = ${payoutId} AND "stripeTransferId" IS NOT NULL
    UNION ALL
    SELECT substr("dedupeKey", ${prefix.length + 1}) FROM "Alert"
    WHERE "payoutId" = ${payoutId} AND kind = ${UNEXPECTED_TRANSFER} AND "acknowledgedAt" IS NOT NULL
      AND left("dedupeKey", ${prefix.length}) = ${prefix}`;
}

/**
 * Transfers Stripe holds for the payout that none of its transfers explains (a look-up found them:
 * not recorded, and made for no leg looked for, or a second one for a leg). Never passed over:
 * one made for a leg that was replaced (same leg number, amount version and amount) is recorded
 * on it, as it is money paid; every one is alerted, and the payout is held for review while it can
 * be (scheduled, on hold, processing), so nothing more is sent until a person has checked what was
 * paid (once they acknowledge the alert, look-ups leave that transfer out: knownTransferIds).
 * Returns the payout as it is now. Call with the booking and the payout locked.
 */
export async function holdForUnmatchedTransfers(
  tx: Tx,
  ctx: TResolvedContext,
  locked: Payout,
  transfers: readonly TStripeTransferFound[],
): Promise<Payout> {
  if (transfers.length === 0) return locked;
  const replaced = await tx.payoutTransfer.findMany({
    where: { payoutId: locked.id, kind: "payout", status: "superseded", stripeTransferId: null },
  });
  const described: string[] = [];
  const madeForReplaced: { leg: PayoutTransfer; transfer: TStripeTransferFound }[] = [];
  for (const transfer of transfers) {
    const leg = replaced.find((l) => isTransferForLeg(transfer, l));
    if (leg) {
      madeForReplaced.push({ leg, transfer });
      replaced.splice(replaced.indexOf(leg), 1);
    }
    described.push(leg ? `${describeTransfer(transfer)}, made for a transfer that had been replaced` : describeTransfer(transfer));
    await alertUnexpectedTransfer(
      tx,
      locked,
      transfer,
      leg
        ? "had been replaced after Stripe showed no transfer for it; it is now recorded as paid"
        : "matches none of its planned transfers",
    );
  }
  const note = `Stripe holds transfers of this payout that its plan does not explain: ${described.join("; ")}`.slice(0, 1000);
  let payout = await holdForReview(tx, ctx, locked, note);
  // Money paid for a replaced transfer: recorded on it (the one leg recorder; already alerted and held).
  for (const { leg, transfer } of madeForReplaced) {
    const recorded = await recordLegTransfer(
      tx,
      ctx,
      payout,
      leg.id,
      transfer,
      `found at Stripe after it was replaced (amount version ${leg.amountVersion})`,
    );
    payout = recorded.payout;
  }
  return payout;
}
