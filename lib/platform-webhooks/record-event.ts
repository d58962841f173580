import "server-only";

import { Prisma, type Payout, type ProviderBankPayout } from "@/generated/prisma/client";
import type { Tx } from "@/lib/db";
import { sqlRows } from "@/lib/direct-sql";
import { getEnv } from "@/lib/env";

import { notePlatformEvent } from "./after-commit";
import { platformEventForPayoutChange, type TPlatformEventType } from "./event-types";

/**
 * Records, in the transaction of a payout's change, the event the booking platform is told about
 * it (none for most changes: platformEventForPayoutChange). One statement: the event's sequence
 * (the payout's previous events + 1: the payout row is locked by its writer, so gapless and never
 * repeated), the platform's booking and provider ids, the Stripe ids, and whether any endpoint
 * exists to deliver it to (then it is delivered after the commit). Fan-out to endpoints is the
 * deliverer's (deliver-platform-webhooks.ts).
 */
export async function recordPayoutEvent(tx: Tx, before: Payout | null, after: Payout): Promise<void> {
  const insert = payoutEventInsert(before, after, Prisma.sql`TRUE`);
  if (insert) await insertEvent(tx, insert);
}

/** What inserting an event returns: its id, and whether any endpoint is there to deliver it to. */
export type TInsertedEvent = { id: string; hasEndpoints: boolean };

/** The RETURNING list of an event's insert, as TInsertedEvent. */
const INSERTED = Prisma.raw(`id::text AS id, EXISTS (SELECT 1 FROM "PlatformWebhookEndpoint" WHERE enabled) AS "hasEndpoints"`);

/**
 * recordPayoutEvent's insert, as a statement to run alone or as a data-modifying CTE of another
 * (changePayout's: the payout's update, its audit entry and its event in one round trip), inserting
 * only when `onlyIf` holds; null when the change tells the platform nothing. Returns TInsertedEvent;
 * the caller notes it (noteEventInserted).
 */
export function payoutEventInsert(before: Payout | null, after: Payout, onlyIf: Prisma.Sql): Prisma.Sql | null {
  const row = payoutEventRow(before, after);
  if (!row) return null;
  return eventInsertSql(
    row.type,
    row.subjectId,
    row.data,
    payoutEventFields(Prisma.sql`${row.subjectId}::uuid`, Prisma.sql`${row.transferId}::text`),
    Prisma.sql`"Booking" b JOIN "Provider" p ON p.id = b."providerId" WHERE b.id = ${row.bookingId}::uuid AND ${onlyIf}`,
  );
}

/** The event of one payout's change as a row of payoutEventsInsert's; null when the change tells the platform nothing. */
export type TPayoutEventRow = {
  type: TPlatformEventType;
  subjectId: string;
  bookingId: string;
  transferId: string | null;
  data: Record<string, unknown>;
};

export function payoutEventRow(before: Payout | null, after: Payout): TPayoutEventRow | null {
  const type = platformEventForPayoutChange(before, after);
  if (!type) return null;
  return {
    type,
    subjectId: after.id,
    bookingId: after.bookingId,
    transferId: after.stripeTransferId,
    data: payoutEventData(before, after),
  };
}

/**
 * payoutEventInsert of the changes of several payouts (one event each; changePayoutGathered's), as a
 * CTE of the statement that writes them, inserting only when `onlyIf` holds: the same payload and
 * sequence as each alone. Returns TInsertedEvent and the payout's id (`subjectId`).
 */
export function payoutEventsInsert(rows: readonly TPayoutEventRow[], onlyIf: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO "PlatformWebhookEvent" (type, "subjectId", sequence, payload)
    SELECT e.type, e."subjectId", seq.n,
      e.data || jsonb_build_object('sequence', seq.n, ${payoutEventFields(Prisma.sql`e."subjectId"`, Prisma.sql`e."transferId"`)})
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS e(type text, "subjectId" uuid, "bookingId" uuid, "transferId" text, data jsonb)
    JOIN "Booking" b ON b.id = e."bookingId" JOIN "Provider" p ON p.id = b."providerId"
    CROSS JOIN LATERAL (SELECT COALESCE(max(sequence), 0) + 1 AS n FROM "PlatformWebhookEvent" WHERE "subjectId" = e."subjectId") seq
    WHERE ${onlyIf}
    RETURNING ${INSERTED}, "subjectId"::text AS "subjectId"`;
}

/** The payload's fields read from a payout's booking `b` and provider `p`, and its transfers. */
function payoutEventFields(payoutId: Prisma.Sql, transferId: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`'bookingId', b."externalId",
        'providerId', p."externalId",
        'stripe', jsonb_build_object(
          'accountId', p."stripeAccountId",
          'chargeId', b."stripeChargeId",
          'paymentIntentId', b."stripePaymentIntentId",
          'transferId', ${transferId},
          'transferIds', COALESCE((
            SELECT jsonb_agg(t."stripeTransferId" ORDER BY t."createdAt", t.id) FROM "PayoutTransfer" t
            WHERE t."payoutId" = ${payoutId} AND t."stripeTransferId" IS NOT NULL), '[]'::jsonb))`;
}

/**
 * An event inserted (by insertEvent, or as a CTE of another statement: payoutEventInsert) is noted
 * for the attempt after the commit when it has somewhere to go (an enabled endpoint, or the configured one).
 */
export function noteEventInserted(row: TInsertedEvent | null | undefined): void {
  if (row && (row.hasEndpoints || getEnv().PLATFORM_WEBHOOK_URL !== undefined)) notePlatformEvent(row.id);
}

/** The payload's fields read from the payout's row (the rest are read from its booking and provider). */
function payoutEventData(before: Payout | null, after: Payout): Record<string, unknown> {
  return {
    payoutId: after.id,
    status: after.status,
    previousStatus: before?.status ?? null,
    currency: after.currency,
    amount: after.amount,
    providerShare: after.providerShare,
    tipAmount: after.tipAmount,
    refundedAmount: after.refundedAmount,
    reversedAmount: after.reversedAmount,
    repaidAmount: after.repaidAmount,
    debtRecoveredAmount: after.debtRecoveredAmount,
    transferCurrency: after.transferCurrency,
    holdReason: after.holdReason,
    cancelReason: after.cancelReason,
    failureReason: after.status === "failed" ? after.lastError : null,
    eligibleAt: after.eligibleAt.toISOString(),
    transferredAt: after.transferredAt?.toISOString() ?? null,
  };
}

/** A payout created in this transaction, with what its event names of its booking and provider. */
export type TNewPayoutForEvent = {
  payout: Payout;
  bookingExternalId: string;
  providerExternalId: string;
  stripeAccountId: string | null;
  stripeChargeId: string | null;
  stripePaymentIntentId: string | null;
};

/**
 * The events of payouts created together in one transaction (a batch of completed bookings,
 * lib/webhooks/record-new-completed-bookings.ts): one insert for all of them. The same payload as
 * recordPayoutEvent's for each; a payout created here has no earlier event (sequence 1) and no
 * transfer, and its booking's and provider's fields are the ones the caller has just written.
 */
export async function recordNewPayoutEvents(tx: Tx, created: readonly TNewPayoutForEvent[]): Promise<void> {
  const rows = created.flatMap((c) => {
    const type = platformEventForPayoutChange(null, c.payout);
    if (!type) return [];
    const payload = {
      ...payoutEventData(null, c.payout),
      sequence: 1,
      bookingId: c.bookingExternalId,
      providerId: c.providerExternalId,
      stripe: {
        accountId: c.stripeAccountId,
        chargeId: c.stripeChargeId,
        paymentIntentId: c.stripePaymentIntentId,
        transferId: c.payout.stripeTransferId,
        transferIds: [],
      },
    };
    return [{ type, subjectId: c.payout.id, payload }];
  });
  if (rows.length === 0) return;
  const inserted = await sqlRows<{ id: string; hasEndpoints: boolean }[]>(
    tx,
    Prisma.sql`
    INSERT INTO "PlatformWebhookEvent" (type, "subjectId", sequence, payload)
    SELECT x.type, x."subjectId", 1, x.payload
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(type text, "subjectId" uuid, payload jsonb)
    RETURNING ${INSERTED}`,
  );
  for (const row of inserted) noteEventInserted(row);
}

/** A provider's bank payout failed (the money is back in their Stripe balance): one insert, as above. */
export async function recordBankPayoutFailedEvent(tx: Tx, bankPayout: ProviderBankPayout, payoutIds: readonly string[]): Promise<void> {
  const type: TPlatformEventType = "provider.bank_payout_failed";
  const data = {
    bankPayoutId: bankPayout.id,
    status: bankPayout.status,
    currency: bankPayout.currency,
    amount: bankPayout.amount,
    failureCode: bankPayout.failureCode,
    failureMessage: bankPayout.failureMessage,
    payoutIds,
  };
  await insertEvent(
    tx,
    eventInsertSql(
      type,
      bankPayout.id,
      data,
      Prisma.sql`'providerId', p."externalId",
        'stripe', jsonb_build_object('accountId', p."stripeAccountId", 'payoutId', ${bankPayout.stripePayoutId}::text)`,
      Prisma.sql`"Provider" p WHERE p.id = ${bankPayout.providerId}::uuid`,
    ),
  );
}

/** Runs an event's insert (eventInsertSql) on its own; the event is noted for the attempt after the commit when it can be delivered. */
async function insertEvent(tx: Tx, insert: Prisma.Sql): Promise<void> {
  const rows = await sqlRows<TInsertedEvent[]>(tx, Prisma.sql`${insert}`);
  noteEventInserted(rows[0]);
}

/**
 * The one insert of an event (one INSERT … SELECT, usable as a CTE): its sequence (the subject's
 * previous events + 1; the subject is locked by its writer), the payload (`data`, the sequence and
 * the `fields` read `FROM` the subject's rows), and whether an endpoint exists to deliver it to.
 */
function eventInsertSql(
  type: TPlatformEventType,
  subjectId: string,
  data: Record<string, unknown>,
  fields: Prisma.Sql,
  from: Prisma.Sql,
): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO "PlatformWebhookEvent" (type, "subjectId", sequence, payload)
    SELECT ${type}, ${subjectId}::uuid, seq.n,
      ${JSON.stringify(data)}::jsonb || jsonb_build_object('sequence', seq.n, ${fields})
    FROM (SELECT COALESCE(max(sequence), 0) + 1 AS n FROM "PlatformWebhookEvent" WHERE "subjectId" = ${subjectId}::uuid) seq, ${from}
    RETURNING ${INSERTED}`;
}
