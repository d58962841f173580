import "server-only";

import type Stripe from "stripe";

import type { PrismaClient } from "@/generated/prisma/client";
import type { Tx } from "@/lib/db";
import { getEnv } from "@/lib/env";
import { retrieveBalanceCurrencies } from "@/lib/stripe/charges";
import { classifyStripeError } from "@/lib/stripe/classify-error";

// The currencies the platform can transfer in: those its Stripe balance holds. Configured
// (STRIPE_SETTLEMENT_CURRENCIES), or read from Stripe's balance and kept in SystemState for an hour.

/** The SystemState row that keeps them (also read with a transfer attempt's facts, lib/payouts/attempt-facts.ts). */
export const PLATFORM_CURRENCIES_STATE_KEY = "stripe_platform_currencies";
export const PLATFORM_CURRENCIES_TTL_MS = 60 * 60 * 1000;

type TStored = { currencies: string[]; checkedAt: string };

function parseStored(value: unknown): TStored | null {
  if (typeof value !== "object" || value === null) return null;
  const { currencies, checkedAt } = value as Record<string, unknown>;
  if (!Array.isArray(currencies) || typeof checkedAt !== "string") return null;
  return { currencies: currencies.filter((c): c is string => typeof c === "string"), checkedAt };
}

/** The platform's currencies as last known (configuration, else the cached balance), or null when never learnt. */
export async function knownPlatformCurrencies(db: PrismaClient | Tx): Promise<string[] | null> {
  const configured = getEnv().STRIPE_SETTLEMENT_CURRENCIES;
  if (configured) return configured;
  const row = await db.systemState.findUnique({ where: { key: PLATFORM_CURRENCIES_STATE_KEY } });
  return platformCurrenciesFrom(row?.value ?? null);
}

/**
 * knownPlatformCurrencies given the value of the PLATFORM_CURRENCIES_STATE_KEY row as a caller
 * read it with something else (the JSON value, parsed; null when there is no row). Anything but
 * the object it is written as (a string, a number, JSON null) is "never learnt", as above.
 */
export function platformCurrenciesFrom(stored: unknown): string[] | null {
  const configured = getEnv().STRIPE_SETTLEMENT_CURRENCIES;
  if (configured) return configured;
  return parseStored(stored)?.currencies ?? null;
}

/**
 * Reads the balance's currencies from Stripe when the cached ones are older than an hour (never
 * with configured currencies). A failed read keeps what was known. `kept`: the cached row's value
 * as the caller just read it (else it is read here).
 */
export async function refreshPlatformCurrencies(
  db: PrismaClient,
  stripe: Stripe,
  now: Date,
  kept?: { value: unknown },
): Promise<string[] | null> {
  const configured = getEnv().STRIPE_SETTLEMENT_CURRENCIES;
  if (configured) return configured;
  const stored = parseStored(
    kept ? kept.value : (await db.systemState.findUnique({ where: { key: PLATFORM_CURRENCIES_STATE_KEY } }))?.value,
  );
  if (stored && now.getTime() - Date.parse(stored.checkedAt) < PLATFORM_CURRENCIES_TTL_MS) return stored.currencies;
  try {
    const currencies = await retrieveBalanceCurrencies(stripe);
    const value = { currencies, checkedAt: now.toISOString() };
    await db.systemState.upsert({
      where: { key: PLATFORM_CURRENCIES_STATE_KEY },
      create: { key: PLATFORM_CURRENCIES_STATE_KEY, value },
      update: { value },
    });
    return currencies;
  } catch (error) {
    console.error("platform currencies: could not read the Stripe balance", classifyStripeError(error).message);
    return stored?.currencies ?? null;
  }
}
