// Small factories for integration tests: each call creates rows with unique external ids
// and sensible defaults; pass overrides for what the test is about.
import { randomUUID } from "node:crypto";

import type { Booking, Payout, PayoutTransfer, Prisma, Provider, TransferAttempt } from "@/generated/prisma/client";
import { PLATFORM_CURRENCIES_STATE_KEY } from "@/lib/charges/platform-currencies";
import { db } from "@/lib/db";
import { payoutAmount } from "@/lib/money/money";
import { GO_ALONE } from "@/lib/together";

const HOUR_MS = 60 * 60 * 1000;

type TProviderOverrides = Partial<Prisma.ProviderUncheckedCreateInput>;

export async function createProvider(overrides: TProviderOverrides = {}): Promise<Provider> {
  const id = randomUUID();
  const short = id.replaceAll("-", "").slice(0, 16);
  return db.provider.create({
    data: {
      externalId: `prov_${id}`,
      name: `Provider ${short.slice(0, 6)}`,
      email: `provider-${short}@example.test`,
      stripeAccountId: `acct_${short}`,
      payoutsEnabled: true,
      ...overrides,
    },
  });
}

type TBookingOverrides = Partial<Prisma.BookingUncheckedCreateInput> & { provider?: Provider };

/** A completed booking (one hour ago) for `provider`, or for a new provider. */
export async function createBooking(overrides: TBookingOverrides = {}): Promise<Booking> {
  const { provider, ...data } = overrides;
  const providerId = data.providerId ?? provider?.id ?? (await createProvider()).id;
  return db.booking.create({
    data: {
      externalId: `bk_${randomUUID()}`,
      currency: "USD",
      providerShare: 10_000,
      completedAt: new Date(Date.now() - HOUR_MS),
      ...data,
      providerId,
    },
  });
}

type TPayoutOverrides = Partial<Prisma.PayoutUncheckedCreateInput> & { provider?: Provider; booking?: Booking };

/**
 * A scheduled payout for `booking`, or for a new booking (of `provider`, or a new provider)
 * in the payout's currency with the payout's provider share. `amount` defaults to the
 * formula the DB checks (providerShare + tips - refunds, never below zero); `eligibleAt`
 * to the booking's completion + 48 h.
 */
export async function createPayout(overrides: TPayoutOverrides = {}): Promise<Payout> {
  const { provider, booking: givenBooking, ...data } = overrides;
  const currency = data.currency ?? givenBooking?.currency ?? "USD";
  const providerShare = data.providerShare ?? givenBooking?.providerShare ?? 10_000;
  const booking =
    givenBooking ??
    (await createBooking({
      currency,
      providerShare,
      ...(data.providerId ? { providerId: data.providerId } : provider ? { provider } : {}),
    }));
  const completedAt = booking.completedAt ?? new Date();
  const tipAmount = data.tipAmount ?? 0;
  const refundedAmount = data.refundedAmount ?? 0;

  return db.payout.create({
    data: {
      status: "scheduled",
      eligibleAt: new Date(completedAt.getTime() + 48 * HOUR_MS),
      amount: payoutAmount({ providerShare, tipAmount, refundedAmount }),
      ...data,
      bookingId: booking.id,
      providerId: booking.providerId,
      currency,
      providerShare,
      tipAmount,
      refundedAmount,
    },
  });
}

/** The platform's Stripe balance holds these currencies, as last checked at `checkedAt` (the sweep and transfers then ask Stripe no more). */
export async function knowPlatformCurrencies(currencies: string[], checkedAt = new Date()): Promise<void> {
  const value = { currencies, checkedAt: checkedAt.toISOString() };
  await db.systemState.upsert({
    where: { key: PLATFORM_CURRENCIES_STATE_KEY },
    create: { key: PLATFORM_CURRENCIES_STATE_KEY, value },
    update: { value },
  });
}

/**
 * What Stripe said of a charge (StripeCharge), as the transfer step keeps it: USD, settled in USD
 * unless `settlement` says otherwise, available since 2026-11-01.
 */
export async function createStripeCharge(
  chargeId: string,
  amount: number,
  settlement: { currency: string; amount: number; rate?: string } | null = null,
): Promise<void> {
  await db.stripeCharge.create({
    data: {
      id: chargeId,
      amount,
      currency: "USD",
      settlementCurrency: settlement?.currency ?? "USD",
      settledAmount: settlement?.amount ?? amount,
      exchangeRate: settlement?.rate ?? null,
      availableOn: new Date("2026-11-01T00:00:00.000Z"),
      fetchedAt: new Date("2026-11-01T00:00:00.123Z"),
    },
  });
}

/**
 * A transfer attempt of `payout` numbered `attemptNumber`, for its amount and amount version,
 * started unless `overrides` says otherwise.
 */
export async function createTransferAttempt(
  payout: Payout,
  attemptNumber: number,
  overrides: Partial<Omit<Prisma.TransferAttemptUncheckedCreateInput, "payoutId" | "attemptNumber">> = {},
): Promise<TransferAttempt> {
  return db.transferAttempt.create({
    data: {
      payoutId: payout.id,
      attemptNumber,
      amount: payout.amount,
      currency: payout.currency,
      amountVersion: payout.amountVersion,
      idempotencyKey: `test-${payout.id}-${attemptNumber}-${randomUUID()}`,
      ...overrides,
    },
  });
}

/** What createPayoutTransfer may set besides its payout and leg number. */
export type TPayoutTransferInput = Partial<
  Pick<PayoutTransfer, "status" | "amountVersion" | "kind" | "stripeTransferId" | "chargeRefundId">
> & {
  amount?: number;
};

/**
 * Leg `leg` of `payout`'s transfers: a pending payout transfer of its whole amount at its amount
 * version unless `input` says otherwise.
 */
export async function createPayoutTransfer(payout: Payout, leg: number, input: TPayoutTransferInput = {}): Promise<PayoutTransfer> {
  const amount = input.amount ?? payout.amount;
  return db.payoutTransfer.create({
    data: {
      payoutId: payout.id,
      kind: input.kind ?? "payout",
      amountVersion: input.amountVersion ?? payout.amountVersion,
      leg,
      payoutAmount: amount,
      amount,
      currency: payout.currency,
      status: input.status ?? "pending",
      stripeTransferId: input.stripeTransferId ?? null,
      chargeRefundId: input.chargeRefundId ?? null,
      idempotencyKey: `test-${payout.id}-${leg}-${randomUUID()}`,
    },
  });
}

/** A batch member's result (lib/together.ts), which the test expects the batch to have given, not left to go alone. */
export function inBatch<T>(result: T | typeof GO_ALONE): T {
  if (result === GO_ALONE) throw new Error("The batch left the member out (its rows were locked): it goes alone.");
  return result;
}
