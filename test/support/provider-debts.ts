// Providers with open debts and their later bookings, for the debt-recovery tests.
import { randomUUID } from "node:crypto";

import { db } from "@/lib/db";

import { payoutOf, type TEngineHarness } from "./engine";

export type TProviderInput = { externalId: string; name: string; email: string; stripeAccountId: string };

/** A new provider with its own connected account (`label` names it: "Provider 1a2b3c4d"). */
export function newProvider(h: TEngineHarness, label = "Provider"): TProviderInput {
  const key = randomUUID().slice(0, 8);
  return { externalId: `prov_${key}`, name: `${label} ${key}`, email: `p-${key}@example.test`, stripeAccountId: h.account() };
}

/** A provider with open debts (failed reversals of an earlier payout), oldest first, in `currency`. */
export async function providerWithDebts(h: TEngineHarness, amounts: number[], currency = "USD") {
  const provider = newProvider(h);
  const { bookingId } = await h.completeBooking({ provider, stripeAccountId: provider.stripeAccountId, providerReady: true, currency });
  const earlier = await payoutOf(bookingId);
  const debts = [];
  for (const [i, amount] of amounts.entries()) {
    debts.push(
      await db.providerDebt.create({
        data: {
          providerId: earlier.providerId,
          payoutId: earlier.id,
          amount,
          currency,
          reason: "transfer reversal failed: balance_insufficient",
          createdAt: new Date(h.clock.now().getTime() - (amounts.length - i) * 1000),
        },
      }),
    );
  }
  return { provider, debts, earlier };
}

/** A booking of the provider completed now (paid by `stripeChargeId` when given), due once the clock passes 48 h: its payout. */
export async function bookingOf(h: TEngineHarness, provider: TProviderInput, share = 8_000, currency = "USD", stripeChargeId?: string) {
  const { bookingId } = await h.completeBooking({
    provider,
    stripeAccountId: provider.stripeAccountId,
    providerReady: true,
    providerShare: share,
    currency,
    ...(stripeChargeId ? { stripeChargeId } : {}),
  });
  return payoutOf(bookingId);
}

export const debtOf = (id: string) => db.providerDebt.findUniqueOrThrow({ where: { id } });
