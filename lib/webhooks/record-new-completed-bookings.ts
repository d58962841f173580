import "server-only";

import { randomUUID } from "node:crypto";

import { Prisma, type Booking, type Payout, type Provider, type WebhookEvent } from "@/generated/prisma/client";
import { recordAudits, type TAuditEntry } from "@/lib/audit/record-audit";
import { knownPlatformCurrencies } from "@/lib/charges/platform-currencies";
import { resolveContext, TX_OPTIONS, type TServiceContext } from "@/lib/context";
import type { Tx } from "@/lib/db";
import { sqlExecute, sqlRows, transaction } from "@/lib/direct-sql";
import { assertMinorUnits, normalizeCurrency, payoutAmount } from "@/lib/money/money";
import { enqueueEvents } from "@/lib/outbox/enqueue-event";
import { evaluateEligibility } from "@/lib/payouts/eligibility";
import { eligibilityFacts } from "@/lib/payouts/payout-facts";
import { payoutSnapshot } from "@/lib/payouts/payout-snapshot";
import { payoutDueAt } from "@/lib/payouts/timing";
import { stripeAccountLockKey } from "@/lib/payouts/update-provider-account";
import { recordNewPayoutEvents } from "@/lib/platform-webhooks/record-event";
import { paymentIdsOf, type TBookingWebhook } from "@/lib/webhooks/booking-webhook-schema";

import { recordProcessedTogether } from "./store-delivery";

/** A stored `booking.completed` delivery and its parsed event. */
export type TCompletedDelivery = { delivery: WebhookEvent; event: Extract<TBookingWebhook, { type: "booking.completed" }> };

type TCandidate = TCompletedDelivery & {
  currency: string;
  completedAt: Date;
  stripeChargeId: string | null;
  stripePaymentIntentId: string | null;
};

type TBatchFacts = {
  known: TProviderToBe[];
  kept: string[];
  taken: { externalId: string; stripeChargeId: string | null; stripePaymentIntentId: string | null }[];
};

/** A provider as recorded, or as the batch will record it (new). */
type TProviderToBe = Pick<Provider, "externalId" | "name" | "email" | "stripeAccountId" | "payoutsEnabled"> & { isNew?: true };

type TRecorded = { candidate: TCandidate; provider: Provider; booking: Booking; payout: Payout };

/**
 * Records, in ONE transaction and a dozen statements whatever their number, the completions of
 * bookings first heard of, each as recordCompletedBooking would (the provider recorded if new, the
 * booking inserted completed, its payout scheduled, both audited, the booking platform's
 * `payout.scheduled` event, the `booking/completed` Inngest event with the delivery's id, and the
 * delivery marked processed), for deliveries whose lanes the caller holds.
 *
 * Only the plain case is done here, and decided before anything is written for a delivery: a
 * booking not recorded yet; a provider new, or recorded with the account the delivery names (or
 * the delivery names none); no account state kept for a provider still to come (StripeAccount);
 * a currency the platform can transfer; no booking recorded with its charge or PaymentIntent; a
 * payout not due now and not zero. Everything else is returned in `left`, untouched, for the caller
 * to apply one by one through the engine's services (recordCompletedBooking). Decided on reads made
 * under the same locks; when a concurrent transaction recorded one of the batch's providers or
 * bookings between those reads and the writes, the transaction is rolled back and tried once more
 * (its reads then see it). `test/integration/webhooks/batch-apply.test.ts` holds both paths to the
 * same rows.
 */
export async function recordNewCompletedBookings(
  context: TServiceContext,
  deliveries: readonly TCompletedDelivery[],
): Promise<{ applied: string[]; left: TCompletedDelivery[] }> {
  const ctx = resolveContext(context);
  const left: TCompletedDelivery[] = [];
  const candidates: TCandidate[] = [];
  for (const d of deliveries) {
    try {
      assertMinorUnits(d.event.data.providerShare, "providerShare");
      candidates.push({
        ...d,
        currency: normalizeCurrency(d.event.data.currency),
        completedAt: new Date(d.event.data.completedAt),
        ...paymentIdsOf(d.event.data),
      });
    } catch {
      left.push(d); // the services say what is wrong with it
    }
  }
  if (candidates.length === 0) return { applied: [], left };

  let recorded: TRecorded[] = [];
  for (let attempt = 1; ; attempt++) {
    const stillLeft: TCompletedDelivery[] = [];
    try {
      recorded = await transaction(ctx.db, (tx) => recordInTransaction(tx, ctx, candidates, stillLeft), TX_OPTIONS);
      left.push(...stillLeft);
      break;
    } catch (error) {
      // Another transaction recorded a provider or a booking of the batch between the reads and the
      // writes: nothing was written; the next attempt's reads see it (and leave that delivery).
      if (!(error instanceof ConcurrentRecordError) || attempt === 2) throw error;
    }
  }
  return { applied: recorded.map((r) => r.candidate.delivery.id), left };
}

/** What a booking holds that no other booking may (Booking's unique columns), as tagged strings. */
function uniqueIdsOf(b: { externalId: string; stripeChargeId: string | null; stripePaymentIntentId: string | null }): string[] {
  return [
    `b:${b.externalId}`,
    ...(b.stripeChargeId ? [`c:${b.stripeChargeId}`] : []),
    ...(b.stripePaymentIntentId ? [`p:${b.stripePaymentIntentId}`] : []),
  ];
}

/** The batch's reads no longer hold at its writes: a concurrent transaction recorded a provider or booking of it. */
class ConcurrentRecordError extends Error {
  override name = "ConcurrentRecordError";
}

async function recordInTransaction(
  tx: Tx,
  ctx: ReturnType<typeof resolveContext>,
  candidates: readonly TCandidate[],
  left: TCompletedDelivery[],
): Promise<TRecorded[]> {
  // The same lock recordCompletedBooking takes, for every account named, in one order.
  const named = [
    ...new Set(candidates.flatMap((c) => (c.event.data.provider.stripeAccountId ? [c.event.data.provider.stripeAccountId] : []))),
  ].sort();
  if (named.length > 0) {
    await sqlExecute(
      tx,
      Prisma.sql`SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(${named.map(stripeAccountLockKey)}::text[]) AS k`,
    );
  }
  const externalIds = [...new Set(candidates.map((c) => c.event.data.provider.id))];
  // What decides the plain case, read in one statement: the providers known by external id or by
  // an account named, the accounts with a kept state (named, or those providers'), and the bookings
  // recorded with a booking id, charge or PaymentIntent of the batch.
  const [facts] = await sqlRows<[TBatchFacts]>(
    tx,
    Prisma.sql`
    WITH known AS (
      SELECT "externalId", "stripeAccountId", "payoutsEnabled", name, email FROM "Provider"
      WHERE "externalId" = ANY(${externalIds}::text[]) OR "stripeAccountId" = ANY(${named}::text[])
    )
    SELECT
      (SELECT COALESCE(jsonb_agg(known), '[]'::jsonb) FROM known) AS known,
      (SELECT COALESCE(jsonb_agg(a.id), '[]'::jsonb) FROM "StripeAccount" a
        WHERE a.id = ANY(${named}::text[]) OR a.id IN (SELECT "stripeAccountId" FROM known)) AS kept,
      (SELECT COALESCE(jsonb_agg(jsonb_build_object('externalId', b."externalId", 'stripeChargeId', b."stripeChargeId",
          'stripePaymentIntentId', b."stripePaymentIntentId")), '[]'::jsonb) FROM "Booking" b
        WHERE b."externalId" = ANY(${candidates.map((c) => c.event.data.bookingId)}::text[])
           OR b."stripeChargeId" = ANY(${candidates.flatMap((c) => (c.stripeChargeId ? [c.stripeChargeId] : []))}::text[])
           OR b."stripePaymentIntentId" = ANY(${candidates.flatMap((c) => (c.stripePaymentIntentId ? [c.stripePaymentIntentId] : []))}::text[])) AS taken`,
  );
  const { known, taken } = facts;
  const byExternalId = new Map<string, TProviderToBe>(known.map((p) => [p.externalId, p]));
  const accountOwner = new Map(known.flatMap((p) => (p.stripeAccountId ? [[p.stripeAccountId, p.externalId] as const] : [])));
  const kept = new Set(facts.kept);
  const takenIds = new Set(taken.flatMap(uniqueIdsOf));
  const platform = await knownPlatformCurrencies(tx);
  const now = ctx.clock.now();

  // Each delivery in arrival order, against the providers as the ones before it in the batch leave
  // them. A delivery left to the services is applied after the batch, though it came first: any
  // later one of its provider, or naming its account or that account's owner, is left too (the
  // services then apply them in arrival order).
  const plain: (TCandidate & { provider: TProviderToBe })[] = [];
  const touched = new Set<string>();
  const touches = (c: TCandidate): string[] => {
    const account = c.event.data.provider.stripeAccountId ?? null;
    const owner = account ? accountOwner.get(account) : undefined;
    return [`provider:${c.event.data.provider.id}`, ...(account ? [`account:${account}`] : []), ...(owner ? [`provider:${owner}`] : [])];
  };
  for (const c of candidates) {
    const input = c.event.data.provider;
    const account = input.stripeAccountId ?? null;
    // A new provider is recorded with the delivery's account unless another provider has it (then the services say so).
    const provider: TProviderToBe | undefined =
      byExternalId.get(input.id) ??
      (account && accountOwner.has(account)
        ? undefined
        : { externalId: input.id, name: input.name, email: input.email, stripeAccountId: account, payoutsEnabled: false, isNew: true });
    const ids = uniqueIdsOf({ externalId: c.event.data.bookingId, ...c });
    // requestTransferIfDue's question, on the payout as it would be created.
    const due =
      provider !== undefined &&
      evaluateEligibility(
        eligibilityFacts(
          { status: "scheduled", amount: c.event.data.providerShare, eligibleAt: payoutDueAt(c.completedAt, ctx.timing) },
          { completedAt: c.completedAt, cancelledAt: null, provider },
          0,
        ),
        now,
      ).eligible;
    const isPlain =
      provider !== undefined &&
      !touches(c).some((t) => touched.has(t)) &&
      (account === null || provider.stripeAccountId !== null) &&
      !(provider.stripeAccountId && kept.has(provider.stripeAccountId)) &&
      !ids.some((id) => takenIds.has(id)) &&
      (!platform || platform.includes(c.currency)) &&
      c.event.data.providerShare > 0 &&
      !due;
    if (isPlain) {
      plain.push({ ...c, provider });
      for (const id of ids) takenIds.add(id);
      if (provider.isNew) {
        byExternalId.set(input.id, provider);
        if (account) accountOwner.set(account, input.id);
      }
    } else {
      left.push(c);
      for (const t of touches(c)) touched.add(t);
    }
  }
  if (plain.length === 0) return [];

  const providers = await recordProviders(tx, plain);
  const withProvider = plain.map((c) => {
    const provider = providers.get(c.event.data.provider.id);
    if (!provider || provider.stripeAccountId !== c.provider.stripeAccountId) throw new ConcurrentRecordError();
    return { ...c, provider };
  });
  const bookings = await insertCompletedBookings(tx, withProvider);
  if (bookings.size !== withProvider.length) throw new ConcurrentRecordError();
  const inserted = withProvider.map((c) => ({ ...c, booking: bookings.get(c.event.data.bookingId)! }));

  const payouts = await insertScheduledPayouts(tx, inserted, ctx.timing);
  const done: TRecorded[] = inserted.map((c) => ({
    candidate: c,
    provider: c.provider,
    booking: c.booking,
    payout: payouts.get(c.booking.id)!,
  }));

  await recordAudits(
    tx,
    done.flatMap(({ candidate, booking, payout }) => {
      const common = { actor: ctx.actor, runId: ctx.runId, requestId: `webhook:${candidate.delivery.id}` } as const;
      const entries: TAuditEntry[] = [
        {
          ...common,
          action: "booking.completed",
          entityType: "booking",
          entityId: booking.id,
          after: {
            externalId: booking.externalId,
            completedAt: candidate.completedAt.toISOString(),
            providerShare: candidate.event.data.providerShare,
            currency: candidate.currency,
          },
        },
        {
          ...common,
          action: "payout.scheduled",
          entityType: "payout",
          entityId: payout.id,
          reason: "booking completed",
          before: null,
          after: payoutSnapshot(payout),
        },
      ];
      return entries;
    }),
  );
  await recordNewPayoutEvents(
    tx,
    done.map(({ booking, provider, payout }) => ({
      payout,
      bookingExternalId: booking.externalId,
      providerExternalId: provider.externalId,
      stripeAccountId: provider.stripeAccountId,
      stripeChargeId: booking.stripeChargeId,
      stripePaymentIntentId: booking.stripePaymentIntentId,
    })),
  );
  await enqueueEvents(
    tx,
    done.map(({ candidate, booking }) => ({
      name: "booking/completed" as const,
      data: { bookingId: booking.id },
      eventId: candidate.delivery.id,
    })),
  );
  // The deliveries' outcome, with what they did (the per-delivery path records it just after its commit).
  await recordProcessedTogether(
    tx,
    done.map((r) => r.candidate.delivery.id),
  );
  return done;
}

/**
 * The providers of the batch, recorded if new (first delivery's name, email and account, as
 * the per-delivery path in arrival order would), by external id. One statement; a second
 * reads the few a concurrent transaction inserted after this statement's snapshot (as
 * recordCompletedBooking's recordProvider). Inserted in external-id order, so that two batches
 * never wait on each other's new providers in a cycle.
 */
async function recordProviders(tx: Tx, candidates: readonly TCandidate[]): Promise<Map<string, Provider>> {
  const firstOf = new Map<string, TCandidate["event"]["data"]["provider"]>();
  for (const c of candidates) if (!firstOf.has(c.event.data.provider.id)) firstOf.set(c.event.data.provider.id, c.event.data.provider);
  const input = [...firstOf.values()]
    .map((p) => ({ externalId: p.id, name: p.name, email: p.email, stripeAccountId: p.stripeAccountId ?? null }))
    .sort((a, b) => (a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0));
  const rows = await sqlRows<Provider[]>(
    tx,
    Prisma.sql`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb)
        AS x("externalId" text, name text, email text, "stripeAccountId" text)
    ),
    inserted AS (
      INSERT INTO "Provider" ("externalId", "name", "email", "stripeAccountId")
      SELECT "externalId", name, email, "stripeAccountId" FROM input ORDER BY "externalId"
      ON CONFLICT DO NOTHING
      RETURNING *
    )
    SELECT * FROM inserted
    UNION ALL
    SELECT p.* FROM "Provider" p JOIN input i ON i."externalId" = p."externalId"
    WHERE NOT EXISTS (SELECT 1 FROM inserted WHERE inserted."externalId" = p."externalId")`,
  );
  const byId = new Map(rows.map((p) => [p.externalId, p]));
  const missing = input.filter((p) => !byId.has(p.externalId)).map((p) => p.externalId);
  if (missing.length > 0) {
    for (const p of await tx.provider.findMany({ where: { externalId: { in: missing } } })) byId.set(p.externalId, p);
  }
  return byId;
}

/** Inserts the bookings, completed; one that exists already (by external id, charge or PaymentIntent) is not. By external id. */
async function insertCompletedBookings(tx: Tx, plain: readonly (TCandidate & { provider: Provider })[]): Promise<Map<string, Booking>> {
  // In external-id order, so that two transactions inserting bookings that share charges never wait on each other in a cycle.
  const sorted = [...plain].sort((a, b) =>
    a.event.data.bookingId < b.event.data.bookingId ? -1 : a.event.data.bookingId > b.event.data.bookingId ? 1 : 0,
  );
  const input = sorted.map((c) => ({
    externalId: c.event.data.bookingId,
    providerId: c.provider.id,
    currency: c.currency,
    providerShare: c.event.data.providerShare,
    stripeChargeId: c.stripeChargeId,
    stripePaymentIntentId: c.stripePaymentIntentId,
    completedAt: c.completedAt.toISOString(),
  }));
  const rows = await sqlRows<Booking[]>(
    tx,
    Prisma.sql`
    INSERT INTO "Booking" ("externalId", "providerId", "currency", "providerShare", "stripeChargeId", "stripePaymentIntentId", "completedAt")
    SELECT "externalId", "providerId", currency, "providerShare", "stripeChargeId", "stripePaymentIntentId", "completedAt"
    FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS x(
      "externalId" text, "providerId" uuid, currency text, "providerShare" integer,
      "stripeChargeId" text, "stripePaymentIntentId" text, "completedAt" timestamptz)
    ON CONFLICT DO NOTHING
    RETURNING *`,
  );
  return new Map(rows.map((b) => [b.externalId, b]));
}

/** The bookings' payouts, scheduled for share + no tips, due at completion + the payout delay. By booking id. */
async function insertScheduledPayouts(
  tx: Tx,
  inserted: readonly (TCandidate & { booking: Booking })[],
  timing: ReturnType<typeof resolveContext>["timing"],
): Promise<Map<string, Payout>> {
  const input = inserted.map(({ booking }) => {
    const parts = { providerShare: booking.providerShare, tipAmount: 0, refundedAmount: 0 };
    return {
      id: randomUUID(),
      bookingId: booking.id,
      providerId: booking.providerId,
      currency: booking.currency,
      ...parts,
      amount: payoutAmount(parts),
      eligibleAt: payoutDueAt(booking.completedAt!, timing).toISOString(),
    };
  });
  const rows = await sqlRows<Payout[]>(
    tx,
    Prisma.sql`
    INSERT INTO "Payout" (id, "bookingId", "providerId", currency, "providerShare", "tipAmount", "refundedAmount", amount, "eligibleAt", status)
    SELECT id, "bookingId", "providerId", currency, "providerShare", "tipAmount", "refundedAmount", amount, "eligibleAt", 'scheduled'
    FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS x(
      id uuid, "bookingId" uuid, "providerId" uuid, currency text, "providerShare" integer, "tipAmount" integer,
      "refundedAmount" integer, amount integer, "eligibleAt" timestamptz)
    RETURNING *`,
  );
  return new Map(rows.map((p) => [p.bookingId, p]));
}
