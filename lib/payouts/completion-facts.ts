import "server-only";

import { Prisma, type PayoutTransfer, type TransferAttempt } from "@/generated/prisma/client";
import type { Tx } from "@/lib/db";
import { sqlRows } from "@/lib/direct-sql";
import { dateFieldsOf, rowsFromJson } from "@/lib/json-rows";
import { columnsOf } from "@/lib/statement-names";

/** Alerts that the payout's transfer failed or stalled: a transfer made settles them. */
export const TRANSFER_FAILURE_ALERT_KINDS: readonly string[] = ["payout_failed", "transfer_outcome_unknown", "transfer_turned_away"];

export type TOpenAlert = { id: string; kind: string };

/**
 * What completing a payout looks at (completeIfPaid): the payout's transfers (with, in an
 * attempt's outcome, any other transfer holding one of the Stripe transfers it made) and its open
 * alerts of TRANSFER_FAILURE_ALERT_KINDS. Kept up to date in memory by the writes that follow the read.
 */
export type TCompletionFacts = { transfers: PayoutTransfer[]; openFailureAlerts: TOpenAlert[] };

/** An attempt's outcome also looks at the attempt, the payout's latest one, and whether tips wait. */
export type TOutcomeFacts = TCompletionFacts & {
  latest: TransferAttempt | null;
  attempt: TransferAttempt | null;
  /** The booking's accepted tips not yet joined to its payout (they only ever come under the booking's lock). */
  waitingTips: number;
};

const TRANSFER_DATES = dateFieldsOf<PayoutTransfer>()(["transferredAt", "createdAt", "updatedAt"]);
const ATTEMPT_DATES = dateFieldsOf<TransferAttempt>()(["startedAt", "finishedAt"]);
const TRANSFER_COLUMNS = columnsOf(Prisma.PayoutTransferScalarFieldEnum);
const ATTEMPT_COLUMNS = columnsOf(Prisma.TransferAttemptScalarFieldEnum);

/**
 * The completion facts' columns of one payout, named by SQL expressions: parameters (readCompletionFacts),
 * or the columns of a row of many (readOutcomeFactsOfMany).
 */
function completionColumns(payoutId: Prisma.Sql, also: { ids: Prisma.Sql; stripeTransferIds: Prisma.Sql }): Prisma.Sql {
  return Prisma.sql`
    (SELECT coalesce(json_agg(t ORDER BY t."createdAt", t.id), '[]'::json)
       FROM (SELECT ${TRANSFER_COLUMNS} FROM "PayoutTransfer"
             WHERE "payoutId" = ${payoutId} OR id = ANY(${also.ids}) OR "stripeTransferId" = ANY(${also.stripeTransferIds})) t) AS "transfers",
    (SELECT coalesce(json_agg(a ORDER BY a."createdAt", a.id), '[]'::json)
       FROM (SELECT id, kind, "createdAt" FROM "Alert"
             WHERE "payoutId" = ${payoutId} AND "acknowledgedAt" IS NULL AND kind = ANY(${TRANSFER_FAILURE_ALERT_KINDS}::text[])) a) AS "alerts"`;
}

function outcomeFactsOf(row: Record<string, unknown>): TOutcomeFacts {
  return {
    ...completionFactsOf(row),
    latest: rowsFromJson<TransferAttempt>(row.latest, ATTEMPT_DATES)[0] ?? null,
    attempt: rowsFromJson<TransferAttempt>(row.attempt, ATTEMPT_DATES)[0] ?? null,
    waitingTips: Number(row.waitingTips),
  };
}

function completionFactsOf(row: Record<string, unknown>): TCompletionFacts {
  return {
    transfers: rowsFromJson<PayoutTransfer>(row.transfers, TRANSFER_DATES),
    openFailureAlerts: rowsFromJson<TOpenAlert & { createdAt: Date }>(row.alerts, []).map(({ id, kind }) => ({ id, kind })),
  };
}

/** The payout's transfers and open failure alerts, in one read. Call with the payout locked. */
export async function readCompletionFacts(tx: Tx, payoutId: string): Promise<TCompletionFacts> {
  const none = { ids: Prisma.sql`${[]}::uuid[]`, stripeTransferIds: Prisma.sql`${[]}::text[]` };
  const [row] = await sqlRows<Record<string, unknown>[]>(tx, Prisma.sql`SELECT ${completionColumns(Prisma.sql`${payoutId}::uuid`, none)}`);
  if (!row) throw new Error(`Reading the completion facts of payout ${payoutId} returned no row.`);
  return completionFactsOf(row);
}

/**
 * What recording an attempt's outcome reads, in one statement: the completion facts (with the legs
 * the attempt made transfers for, and any transfer already holding one of those Stripe transfers),
 * the attempt and the payout's latest attempt, and how many of the booking's tips wait. Call with
 * the booking and the payout locked: all of it only changes under those locks, except alerts,
 * which an admin may acknowledge meanwhile (their writes are conditional on the alert being open).
 */
export async function readOutcomeFacts(tx: Tx, input: TOutcomeFactsInput): Promise<TOutcomeFacts> {
  const facts = (await readOutcomeFactsOfMany(tx, [input])).get(input.payoutId);
  if (!facts) throw new Error(`Reading the outcome facts of payout ${input.payoutId} returned no row.`);
  return facts;
}

export type TOutcomeFactsInput = {
  payoutId: string;
  bookingId: string;
  attemptId: string;
  legIds: readonly string[];
  stripeTransferIds: readonly string[];
};

/**
 * readOutcomeFacts of several attempts' outcomes (of different payouts) in one statement, by
 * payout id. Call with every booking and payout locked.
 */
export async function readOutcomeFactsOfMany(tx: Tx, inputs: readonly TOutcomeFactsInput[]): Promise<Map<string, TOutcomeFacts>> {
  const rows = await sqlRows<Record<string, unknown>[]>(
    tx,
    Prisma.sql`
    SELECT x."payoutId"::text AS "payoutId",
      ${completionColumns(Prisma.sql`x."payoutId"`, { ids: Prisma.sql`x."legIds"`, stripeTransferIds: Prisma.sql`x."stripeTransferIds"` })},
      (SELECT coalesce(json_agg(a), '[]'::json)
         FROM (SELECT ${ATTEMPT_COLUMNS} FROM "TransferAttempt" WHERE "payoutId" = x."payoutId"
               ORDER BY "attemptNumber" DESC LIMIT 1) a) AS "latest",
      (SELECT coalesce(json_agg(a), '[]'::json)
         FROM (SELECT ${ATTEMPT_COLUMNS} FROM "TransferAttempt" WHERE id = x."attemptId") a) AS "attempt",
      (SELECT count(*)::int FROM "Tip"
         WHERE "bookingId" = x."bookingId" AND status = 'accepted' AND "payoutId" IS NULL) AS "waitingTips"
    FROM jsonb_to_recordset(${JSON.stringify(inputs)}::jsonb)
      AS x("payoutId" uuid, "bookingId" uuid, "attemptId" uuid, "legIds" uuid[], "stripeTransferIds" text[])`,
  );
  return new Map(rows.map((row) => [String(row.payoutId), outcomeFactsOf(row)]));
}

/** The facts with a transfer as it was written (PayoutTransfer update … RETURNING), replacing the row read. */
export function withTransferWritten<T extends TCompletionFacts>(facts: T, written: PayoutTransfer | null): T {
  if (!written) return facts;
  const known = facts.transfers.some((t) => t.id === written.id);
  return {
    ...facts,
    transfers: known ? facts.transfers.map((t) => (t.id === written.id ? written : t)) : [...facts.transfers, written],
  };
}

/** The payout's planned transfers, pending or made, by leg (then amount version, then creation). */
export function plannedLegs(facts: TCompletionFacts, payoutId: string): PayoutTransfer[] {
  return facts.transfers
    .filter((t) => t.payoutId === payoutId && t.kind === "payout" && (t.status === "pending" || t.status === "succeeded"))
    .sort(
      (a, b) =>
        a.leg - b.leg ||
        a.amountVersion - b.amountVersion ||
        a.createdAt.getTime() - b.createdAt.getTime() ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
}

/**
 * The open failure alerts a transfer made settles: all of them, except "got no answer" while a
 * transfer of the payout was replaced unmade (its amount changed): the transfer asked about may not
 * be the one that was made, and only Stripe can say.
 */
export function failureAlertsSettled(facts: TCompletionFacts, payoutId: string): string[] {
  const replacedUnmade = facts.transfers.some((t) => t.payoutId === payoutId && t.status === "superseded" && t.stripeTransferId === null);
  return facts.openFailureAlerts.filter((a) => a.kind !== "transfer_outcome_unknown" || !replacedUnmade).map((a) => a.id);
}
