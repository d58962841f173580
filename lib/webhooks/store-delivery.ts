import "server-only";

import { Prisma, type PrismaClient, type WebhookEvent } from "@/generated/prisma/client";
import type { WebhookEventStatus, WebhookSource } from "@/generated/prisma/enums";
import type { Tx } from "@/lib/db";
import { sqlExecute, sqlRows } from "@/lib/direct-sql";

import type { TApplyOutcome } from "./types";

export type TStoreDeliveryInput = {
  source: WebhookSource;
  /** The sender's event id: unique per source. */
  externalId: string;
  type: string;
  payload: Prisma.InputJsonValue;
  /** The booking the delivery concerns, so deliveries that arrive before it can be applied when it does. */
  bookingExternalId?: string | null;
  /** Stripe only: the event's api_version, its connected account, when Stripe created it. */
  apiVersion?: string | null;
  account?: string | null;
  eventCreatedAt?: Date | null;
  /**
   * When it arrived, by the app's clock (the one the engine decides with: a tip received before
   * the transfer was made is paid). The database's clock when omitted.
   */
  receivedAt?: Date;
};

/**
 * Persist first: stores an accepted delivery before anything acts on it. A delivery whose
 * (source, external id) is already stored is a duplicate: the stored one is returned and
 * nothing is written. Safe under concurrent deliveries of the same event.
 *
 * One raw statement for a new delivery (INSERT … ON CONFLICT DO NOTHING), the payload sent as the
 * JSON text the sender's bytes already were (`payloadText`, else serialised once) and not read
 * back: the row is the input plus what the database gave it. This is every webhook request's one
 * write; through Prisma's model API it cost the request a query compilation, the payload serialised
 * again and parsed back.
 */
export async function storeDelivery(
  db: PrismaClient,
  input: TStoreDeliveryInput & { /** The payload's JSON text as received (the same JSON as `payload`). */ payloadText?: string },
): Promise<{ delivery: WebhookEvent; duplicate: boolean }> {
  const apiVersion = input.apiVersion?.slice(0, 50) ?? null;
  const account = input.account?.slice(0, 255) ?? null;
  const [created] = await sqlRows<Pick<WebhookEvent, "id" | "receivedAt">[]>(
    db,
    Prisma.sql`
    INSERT INTO "WebhookEvent" ("source", "externalId", "type", "payload", "bookingExternalId", "apiVersion", "account", "eventCreatedAt", "receivedAt", "status")
    VALUES (${input.source}::"WebhookSource", ${input.externalId}, ${input.type}, ${input.payloadText ?? JSON.stringify(input.payload)}::jsonb,
            ${input.bookingExternalId ?? null}, ${apiVersion}, ${account}, ${input.eventCreatedAt ?? null}::timestamptz,
            COALESCE(${input.receivedAt ?? null}::timestamptz, now()), 'received')
    ON CONFLICT ("source", "externalId") DO NOTHING
    RETURNING id::text AS id, "receivedAt"`,
  );
  if (created) {
    const delivery: WebhookEvent = {
      id: created.id,
      source: input.source,
      externalId: input.externalId,
      type: input.type,
      payload: input.payload as WebhookEvent["payload"],
      bookingExternalId: input.bookingExternalId ?? null,
      apiVersion,
      account,
      eventCreatedAt: input.eventCreatedAt ?? null,
      status: "received",
      error: null,
      applyAttempts: 0,
      receivedAt: created.receivedAt,
      processedAt: null,
    };
    return { delivery, duplicate: false };
  }
  const delivery = await db.webhookEvent.findUniqueOrThrow({
    where: { source_externalId: { source: input.source, externalId: input.externalId } },
  });
  return { delivery, duplicate: true };
}

/** The status and the text (error, reason or note) a delivery keeps for an apply outcome. */
export function outcomeColumns(outcome: TApplyOutcome): { status: Exclude<WebhookEventStatus, "received">; error: string | null } {
  switch (outcome.status) {
    case "processed":
      return { status: "processed", error: outcome.note ?? null };
    case "deferred":
      return { status: "deferred", error: outcome.reason };
    case "ignored":
      return { status: "ignored", error: outcome.reason };
    case "failed":
      return { status: "failed", error: outcome.error };
  }
}

/** The columns an outcome writes (recordOutcome, recordOutcomeAndLookForWaiting): the text capped, the time it ended. */
function outcomeWrite(outcome: TApplyOutcome, now: Date): ReturnType<typeof outcomeColumns> & { processedAt: Date | null } {
  const { status, error } = outcomeColumns(outcome);
  return { status, error: error?.slice(0, 2000) ?? null, processedAt: status === "processed" || status === "ignored" ? now : null };
}

/** What applying a delivery came to, as recorded on it (outcomeColumns read back); null while it is `received`. */
export function storedOutcome(delivery: Pick<WebhookEvent, "status" | "error">): TApplyOutcome | null {
  switch (delivery.status) {
    case "processed":
      return delivery.error ? { status: "processed", note: delivery.error } : { status: "processed" };
    case "deferred":
      return { status: "deferred", reason: delivery.error ?? "" };
    case "ignored":
      return { status: "ignored", reason: delivery.error ?? "" };
    case "failed":
      return { status: "failed", error: delivery.error ?? "" };
    case "received":
      return null;
  }
}

/**
 * Records an apply outcome on the delivery (its status, the text, one more apply attempt), except that a delivery
 * already `processed` keeps its first outcome: two appliers racing on the same delivery
 * (the request and a deferred re-apply, say) end at `processed` with the first applier's
 * note, whatever order they finish in. For `processed` deliveries `error` holds the
 * business note, if any (e.g. "tip rejected: …"). Returns false when nothing was written.
 */
export async function recordOutcome(db: PrismaClient, id: string, outcome: TApplyOutcome, now: Date = new Date()): Promise<boolean> {
  const { status, error, processedAt } = outcomeWrite(outcome, now);
  const { count } = await db.webhookEvent.updateMany({
    where: { id, status: { not: "processed" } },
    data: { status, error, applyAttempts: { increment: 1 }, processedAt },
  });
  return count > 0;
}

/**
 * recordOutcome for deliveries applied together in the caller's transaction (the batch paths,
 * record-new-completed-bookings.ts and record-plain-tips.ts): processed, with no note.
 */
export async function recordProcessedTogether(tx: Tx, ids: readonly string[], now: Date = new Date()): Promise<void> {
  if (ids.length === 0) return;
  const { status, error, processedAt } = outcomeWrite({ status: "processed" }, now);
  await sqlExecute(
    tx,
    Prisma.sql`
    UPDATE "WebhookEvent" SET "status" = ${status}::"WebhookEventStatus", "error" = ${error}, "processedAt" = ${processedAt}::timestamptz,
      "applyAttempts" = "applyAttempts" + 1
    WHERE id = ANY(${[...ids]}::uuid[]) AND "status" <> 'processed'`,
  );
}

/**
 * recordOutcome, and in the same round trip whether any delivery is waiting (deferred) that the
 * booking's arrival could wake: one of that booking, or any of Stripe's (they may name only one
 * of its charges). A superset of what applyDeferredFor looks for, taken after the apply committed:
 * a delivery deferred later is re-checked by its own applier after it is marked (processDelivery).
 */
export async function recordOutcomeAndLookForWaiting(
  db: PrismaClient,
  id: string,
  outcome: TApplyOutcome,
  bookingExternalId: string,
  now: Date = new Date(),
): Promise<{ waiting: boolean }> {
  const { status, error, processedAt } = outcomeWrite(outcome, now);
  const rows = await sqlRows<{ waiting: boolean }[]>(
    db,
    Prisma.sql`
    WITH recorded AS (
      UPDATE "WebhookEvent"
      SET "status" = ${status}::"WebhookEventStatus", "error" = ${error},
          "applyAttempts" = "applyAttempts" + 1, "processedAt" = ${processedAt}
      WHERE "id" = ${id}::uuid AND "status" <> 'processed'
    )
    -- (A data-modifying WITH runs to completion whether or not the query reads it.)
    SELECT EXISTS (
      SELECT 1 FROM "WebhookEvent"
      WHERE "status" = 'deferred' AND ("bookingExternalId" = ${bookingExternalId} OR "source" = 'stripe')
    ) AS waiting`,
  );
  return { waiting: rows[0]?.waiting ?? true };
}
