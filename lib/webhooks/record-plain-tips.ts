import "server-only";

import { Prisma, type Payout, type Tip, type WebhookEvent } from "@/generated/prisma/client";
import { recordAudits, type TAuditEntry } from "@/lib/audit/record-audit";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { sqlRows, transaction } from "@/lib/direct-sql";
import { assertMinorUnits, MAX_AMOUNT_MINOR, normalizeCurrency } from "@/lib/money/money";
import { enqueueEvents } from "@/lib/outbox/enqueue-event";
import { evaluateEligibility } from "@/lib/payouts/eligibility";
import { changedPayoutFields } from "@/lib/payouts/payout-change";
import { eligibilityFacts } from "@/lib/payouts/payout-facts";
import { payoutSnapshot } from "@/lib/payouts/payout-snapshot";
import { isTipInWindow } from "@/lib/payouts/timing";
import { platformEventForPayoutChange } from "@/lib/platform-webhooks/event-types";

import type { TBookingWebhook } from "./booking-webhook-schema";
import { recordProcessedTogether } from "./store-delivery";

/** A stored `tip.created` delivery and its parsed event. */
export type TTipDelivery = { delivery: WebhookEvent; event: Extract<TBookingWebhook, { type: "tip.created" }> };

type TFacts = {
  bookings: {
    id: string;
    externalId: string;
    currency: string;
    completedAt: string | null;
    cancelledAt: string | null;
    providerStripeAccountId: string | null;
    providerPayoutsEnabled: boolean;
    disputes: number;
    chargeRefunds: number;
    acceptedTips: number;
    unattachedTips: number;
  }[];
  existingTips: string[];
};

/**
 * Records, in ONE transaction and a handful of statements whatever their number, tips that join a
 * scheduled payout, each as addTip would for its delivery (the tip accepted and attached, the
 * payout's tip amount, amount, amount version and version moved up, both audited with the same
 * entries, the `tip/added` Inngest event with the delivery's id, the delivery marked processed),
 * for deliveries whose lanes the caller holds.
 *
 * Only the plain case, decided on reads made with the bookings and payouts locked (booking first,
 * then payout, as every writer): a tip paid with no charge or PaymentIntent named (nothing to
 * re-price), not recorded yet, in its booking's currency and tip window, for a completed booking not
 * cancelled, with no dispute, no Stripe refund and no tip waiting to join, whose payout is
 * `scheduled` with nothing reserved for debts, and that the tip leaves not due now and above zero.
 * Everything else is returned in `left`, untouched, for the caller to apply one by one (addTip):
 * rejections, holds, transfers in flight, re-pricing, a payout made due. `batch-apply.test.ts`
 * holds both paths to the same rows.
 */
export async function recordPlainTips(
  context: TServiceContext,
  deliveries: readonly TTipDelivery[],
): Promise<{ applied: string[]; left: TTipDelivery[] }> {
  const ctx = resolveContext(context);
  const left: TTipDelivery[] = [];
  const candidates: (TTipDelivery & { currency: string })[] = [];
  const tipIds = new Set<string>();
  for (const d of deliveries) {
    const data = d.event.data;
    let currency: string;
    try {
      assertMinorUnits(data.amount, "amount");
      currency = normalizeCurrency(data.currency);
    } catch {
      left.push(d);
      continue;
    }
    // Paid with a charge: refunds on it are re-priced (the services do it). A tip id twice: the services say which is a duplicate.
    if (data.chargeId || data.paymentIntentId || data.amount <= 0 || tipIds.has(data.tipId)) {
      left.push(d);
      continue;
    }
    tipIds.add(data.tipId);
    candidates.push({ ...d, currency });
  }
  if (candidates.length === 0) return { applied: [], left };

  const applied = await transaction(
    ctx.db,
    async (tx) => {
      const stillLeft: TTipDelivery[] = [];
      const done = await recordInTransaction(tx, ctx, candidates, stillLeft);
      left.push(...stillLeft);
      return done;
    },
    TX_OPTIONS,
  );
  return { applied, left };
}

async function recordInTransaction(
  tx: Tx,
  ctx: ReturnType<typeof resolveContext>,
  candidates: readonly (TTipDelivery & { currency: string })[],
  left: TTipDelivery[],
): Promise<string[]> {
  const bookingExternalIds = [...new Set(candidates.map((c) => c.event.data.bookingId))];
  // The lock order of every change to a payout: the bookings (in id order), then their payouts.
  // A booking (or payout) locked by another writer is skipped, never waited for while the batch
  // holds others: a writer that locks several bookings of one provider in its own order (an
  // account's new state, a refused transfer's hold) could otherwise wait on the batch as the batch
  // waits on it (found by the review). Its tip is left to addTip, which waits its turn.
  const locked = await sqlRows<{ id: string }[]>(
    tx,
    Prisma.sql`
    SELECT id FROM "Booking" WHERE "externalId" = ANY(${bookingExternalIds}::text[]) ORDER BY id FOR UPDATE SKIP LOCKED`,
  );
  const bookingIds = locked.map((b) => b.id);
  const payouts = await sqlRows<Payout[]>(
    tx,
    Prisma.sql`
    SELECT * FROM "Payout" WHERE "bookingId" = ANY(${bookingIds}::uuid[]) ORDER BY id FOR UPDATE SKIP LOCKED`,
  );
  const [facts] = await sqlRows<[TFacts]>(
    tx,
    Prisma.sql`
    SELECT
      (SELECT COALESCE(jsonb_agg(jsonb_build_object(
          'id', b.id, 'externalId', b."externalId", 'currency', b.currency,
          'completedAt', b."completedAt", 'cancelledAt', b."cancelledAt",
          'providerStripeAccountId', p."stripeAccountId", 'providerPayoutsEnabled', p."payoutsEnabled",
          'disputes', (SELECT count(*) FROM "Dispute" d WHERE d."bookingId" = b.id),
          'chargeRefunds', (SELECT count(*) FROM "ChargeRefund" r WHERE r."bookingId" = b.id),
          'acceptedTips', (SELECT COALESCE(sum(t.amount), 0) FROM "Tip" t WHERE t."bookingId" = b.id AND t.status = 'accepted'),
          'unattachedTips', (SELECT count(*) FROM "Tip" t WHERE t."bookingId" = b.id AND t.status = 'accepted' AND t."payoutId" IS NULL))), '[]'::jsonb)
        FROM "Booking" b JOIN "Provider" p ON p.id = b."providerId" WHERE b.id = ANY(${bookingIds}::uuid[])) AS bookings,
      (SELECT COALESCE(jsonb_agg(t."externalId"), '[]'::jsonb) FROM "Tip" t
        WHERE t."externalId" = ANY(${candidates.map((c) => c.event.data.tipId)}::text[])) AS "existingTips"`,
  );
  const bookings = new Map(facts.bookings.map((b) => [b.externalId, b]));
  const payoutOf = new Map(payouts.map((p) => [p.bookingId, p]));
  const existing = new Set(facts.existingTips);
  const now = ctx.clock.now();

  type TPlain = { c: (typeof candidates)[number]; booking: TFacts["bookings"][number]; before: Payout; after: Payout };
  const plain: TPlain[] = [];
  for (const c of candidates) {
    const data = c.event.data;
    const booking = bookings.get(data.bookingId);
    const before = booking ? payoutOf.get(booking.id) : undefined;
    if (
      !booking ||
      !before ||
      existing.has(data.tipId) ||
      !booking.completedAt ||
      booking.cancelledAt ||
      c.currency !== booking.currency ||
      !isTipInWindow(new Date(booking.completedAt), new Date(data.createdAt), ctx.timing) ||
      booking.disputes > 0 ||
      booking.chargeRefunds > 0 ||
      booking.unattachedTips > 0 ||
      before.status !== "scheduled" ||
      before.debtRecoveredAmount !== 0
    ) {
      left.push(c);
      continue;
    }
    // What syncPayoutWithBooking writes: the tips accepted (this one with them), the refunds as they
    // were. Amounts past what a payout may carry: addTip says so (one tip, not the whole batch).
    let after: Payout;
    try {
      const fields = changedPayoutFields(before, undefined, {
        tipAmount: booking.acceptedTips + data.amount,
        refundedAmount: before.refundedAmount,
      });
      after = { ...before, ...fields, updatedAt: before.updatedAt };
    } catch {
      left.push(c);
      continue;
    }
    if (after.tipAmount > MAX_AMOUNT_MINOR || after.amount > MAX_AMOUNT_MINOR) {
      left.push(c);
      continue;
    }
    // requestTransferIfDue's question, on the payout as the tip leaves it.
    const bookingFacts = {
      completedAt: new Date(booking.completedAt),
      cancelledAt: null,
      provider: { stripeAccountId: booking.providerStripeAccountId, payoutsEnabled: booking.providerPayoutsEnabled },
    };
    const due = evaluateEligibility(eligibilityFacts(after, bookingFacts, 0), now).eligible;
    if (due || after.amount === 0 || platformEventForPayoutChange(before, after) !== null) {
      left.push(c);
      continue;
    }
    plain.push({ c, booking, before, after });
  }
  if (plain.length === 0) return [];

  const tips = await sqlRows<Tip[]>(
    tx,
    Prisma.sql`
    INSERT INTO "Tip" ("externalId", "bookingId", "payoutId", amount, currency, status, "rejectionReason", "tippedAt", "receivedAt")
    SELECT "externalId", "bookingId", "payoutId", amount, currency, 'accepted', NULL, "tippedAt", "receivedAt"
    FROM jsonb_to_recordset(${JSON.stringify(
      plain.map(({ c, booking, before }) => ({
        externalId: c.event.data.tipId,
        bookingId: booking.id,
        payoutId: before.id,
        amount: c.event.data.amount,
        currency: c.currency,
        tippedAt: new Date(c.event.data.createdAt).toISOString(),
        receivedAt: c.delivery.receivedAt.toISOString(),
      })),
    )}::jsonb) AS x("externalId" text, "bookingId" uuid, "payoutId" uuid, amount integer, currency text, "tippedAt" timestamptz, "receivedAt" timestamptz)
    RETURNING *`,
  );
  const tipOf = new Map(tips.map((t) => [t.externalId, t]));

  const updated = await sqlRows<Payout[]>(
    tx,
    Prisma.sql`
    UPDATE "Payout" p SET
      "tipAmount" = x."tipAmount", amount = x.amount, "amountVersion" = x."amountVersion", version = x.version,
      "holdReason" = NULL, "holdNote" = NULL, "debtRecoveredAmount" = 0, "updatedAt" = clock_timestamp()
    FROM jsonb_to_recordset(${JSON.stringify(
      plain.map(({ before, after }) => ({
        id: before.id,
        expected: before.version,
        tipAmount: after.tipAmount,
        amount: after.amount,
        amountVersion: after.amountVersion,
        version: after.version,
      })),
    )}::jsonb) AS x(id uuid, expected integer, "tipAmount" integer, amount integer, "amountVersion" integer, version integer)
    WHERE p.id = x.id AND p.version = x.expected
    RETURNING p.*`,
  );
  // Locked above: every one is written (else something wrote a locked row: nothing of this is kept).
  if (updated.length !== plain.length || tips.length !== plain.length)
    throw new Error("tips: a locked payout or a new tip changed under the batch");
  const updatedOf = new Map(updated.map((p) => [p.id, p]));

  await recordAudits(
    tx,
    plain.flatMap(({ c, booking, before }) => {
      const tip = tipOf.get(c.event.data.tipId)!;
      const after = updatedOf.get(before.id)!;
      const common = { actor: ctx.actor, runId: ctx.runId, requestId: `webhook:${c.delivery.id}` } as const;
      const entries: TAuditEntry[] = [
        {
          ...common,
          action: "tip.accepted",
          entityType: "tip",
          entityId: tip.id,
          reason: null,
          after: {
            bookingId: booking.id,
            payoutId: before.id,
            amount: tip.amount,
            currency: c.currency,
            tippedAt: new Date(c.event.data.createdAt).toISOString(),
            receivedAt: c.delivery.receivedAt.toISOString(),
          },
        },
        {
          ...common,
          action: "payout.amount_adjusted",
          entityType: "payout",
          entityId: before.id,
          reason: `tip ${c.event.data.tipId} added`,
          before: payoutSnapshot(before),
          after: payoutSnapshot(after),
        },
      ];
      return entries;
    }),
  );
  await enqueueEvents(
    tx,
    plain.map(({ c, booking }) => ({
      name: "tip/added" as const,
      data: { tipId: tipOf.get(c.event.data.tipId)!.id, bookingId: booking.id },
      eventId: c.delivery.id,
    })),
  );
  const ids = plain.map(({ c }) => c.delivery.id);
  await recordProcessedTogether(tx, ids);
  return ids;
}
