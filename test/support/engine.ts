// Drives the payout engine in integration tests: the real database, the real Stripe SDK
// against the local fake Stripe, Inngest functions through @inngest/test, and a clock the
// test moves.
import { randomUUID } from "node:crypto";

import { InngestTestEngine, mockCtx } from "@inngest/test";
import type { Context } from "inngest";
import { afterAll, beforeAll, beforeEach } from "vitest";

import type { TEngineDeps } from "@/inngest/deps";
import { createFollowUpPayoutFunction } from "@/inngest/functions/follow-up-payout";
import { createReconcilePayoutsFunction } from "@/inngest/functions/reconcile-payouts";
import { createRepayProviderFunction } from "@/inngest/functions/repay-provider";
import { createReverseTransferFunction } from "@/inngest/functions/reverse-transfer";
import { createSchedulePayoutFunction } from "@/inngest/functions/schedule-payout";
import { createTopUpPayoutFunction } from "@/inngest/functions/top-up-payout";
import { createTransferPayoutFunction } from "@/inngest/functions/transfer-payout";
import type { TActor } from "@/lib/audit/record-audit";
import { recordCompletedBooking, type TCompletedBookingInput } from "@/lib/bookings/record-completed-booking";
import type { TServiceContext } from "@/lib/context";
import { db } from "@/lib/db";
import type { TClock } from "@/lib/payouts/timing";
import { stripeWriteGate } from "@/lib/stripe/write-gate";

import { startFakeStripe, type TFakeStripe } from "./fake-stripe";

export const HOUR = 60 * 60 * 1000;

export type TTestClock = TClock & { set(at: Date): void; advance(ms: number): Date };

export function testClock(start = new Date()): TTestClock {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    set: (at) => {
      current = at.getTime();
    },
    advance: (ms) => {
      current += ms;
      return new Date(current);
    },
  };
}

export const WEBHOOK_ACTOR: TActor = { type: "webhook", id: "booking-platform", label: "Booking platform" };

export type TEngineHarness = Awaited<ReturnType<typeof startEngineHarness>>;

export async function startEngineHarness() {
  const clock = testClock();
  // The fake Stripe runs on the test clock (created / available_on), and it refuses a transfer
  // without source_transaction that the platform's available balance cannot cover, as Stripe
  // does. Engine tests transfer USD, EUR and JPY without charges, so the platform starts funded;
  // a test that wants a short balance sets its own (fake.setBalance).
  const fake: TFakeStripe = await startFakeStripe({ now: () => clock.now() });
  for (const currency of ["usd", "eur", "jpy"]) fake.setBalance(currency, 1_000_000_000);
  const stripe = fake.stripe({ maxNetworkRetries: 0, timeout: 2_000 });
  // Stripe writes go through the shared gate as in production, with short pauses after a 429 so tests stay fast.
  const stripeWrites = stripeWriteGate(db, { perSecond: 100, baseBackoffMs: 1 });
  const deps: TEngineDeps = { db, stripe: () => stripe, clock, stripeWrites };
  const ctx = (actor: TActor = WEBHOOK_ACTOR): TServiceContext => ({ db, actor, clock, stripeWrites });

  const functions = {
    schedule: createSchedulePayoutFunction(deps),
    transfer: createTransferPayoutFunction(deps),
    followUp: createFollowUpPayoutFunction(deps),
    reverse: createReverseTransferFunction(deps),
    repay: createRepayProviderFunction(deps),
    topUp: createTopUpPayoutFunction(deps),
    reconcile: createReconcilePayoutsFunction(deps),
  };

  /** Runs a function once with a fixed run id (the same id again models Inngest's retry of that run). */
  async function run(
    fn: keyof typeof functions,
    event: { name: string; data: Record<string, unknown> } | null,
    options: { runId?: string; sleepUntil?: (until: string) => void } = {},
  ) {
    const runId = options.runId ?? `run_${randomUUID()}`;
    // @inngest/test reads transformCtx from the engine's options, not from execute().
    const engine = new InngestTestEngine({
      function: functions[fn],
      transformCtx: (raw: Context.Any) => {
        const ctx = mockCtx(raw);
        const sleepUntil = ctx.step.sleepUntil;
        return {
          ...ctx,
          runId,
          step: {
            ...ctx.step,
            sleepUntil: ((id: string, until: string | Date) => {
              // The sleep itself is mocked (see `steps`); move the test clock to its end, as time would.
              const at = new Date(until);
              if (at.getTime() > clock.now().getTime()) clock.set(at);
              options.sleepUntil?.(at.toISOString());
              return sleepUntil(id, until);
            }) as typeof sleepUntil,
          },
        } as Context.Any;
      },
    });
    return engine.execute({
      ...(event ? { events: [{ ...event, id: randomUUID() }] as [never] } : {}),
      steps: [
        {
          id: "wait-until-due",
          handler() {
            return undefined;
          },
        },
      ],
    });
  }

  /** A provider's connected account at the fake Stripe, ready for transfers unless told otherwise. */
  function account(input: Parameters<TFakeStripe["addAccount"]>[0] = {}) {
    return fake.addAccount({ payoutsEnabled: true, transfersCapability: "active", ...input });
  }

  /**
   * Records that the provider of this connected account can receive payouts, as our record would
   * after Stripe said so (providers start with payouts disabled until Stripe says otherwise). A
   * direct write: no audit entry, no payout released; for tests whose subject is not readiness.
   */
  async function readyProvider(stripeAccountId: string) {
    await db.provider.updateMany({ where: { stripeAccountId }, data: { payoutsEnabled: true } });
  }

  type TCompleteBookingOptions = Partial<TCompletedBookingInput> & {
    /** The connected account (default: a new ready one at the fake Stripe; null: none). */
    stripeAccountId?: string | null;
    /** Also mark the provider ready in our record (readyProvider), before and after the booking. */
    providerReady?: boolean;
  };

  /** Records a completed booking now (recordCompletedBooking), of a new provider unless told otherwise. */
  async function completeBooking(options: TCompleteBookingOptions = {}) {
    const { providerReady = false, ...overrides } = options;
    const key = randomUUID().slice(0, 8);
    const stripeAccountId = overrides.stripeAccountId === undefined ? account() : overrides.stripeAccountId;
    // Before, for a provider we know already (its payout is derived in the same transaction), and
    // after, for the provider this booking creates.
    if (providerReady && stripeAccountId) await readyProvider(stripeAccountId);
    const result = await recordCompletedBooking(ctx(), {
      bookingExternalId: `bk_${key}`,
      completedAt: clock.now(),
      currency: "USD",
      providerShare: 8_000,
      provider: { externalId: `prov_${key}`, name: `Provider ${key}`, email: `p-${key}@example.test`, stripeAccountId },
      ...overrides,
    });
    if (providerReady && stripeAccountId) await readyProvider(stripeAccountId);
    return result;
  }

  /** The transfers the fake Stripe holds for one payout (by the payout id in their metadata). */
  function transfersFor(payoutId: string) {
    return fake.transfers().filter((t) => t.metadata?.payoutId === payoutId);
  }

  return { fake, clock, stripe, deps, ctx, functions, run, account, readyProvider, completeBooking, transfersFor };
}

/**
 * The engine harness of a test file: started before its tests, its fake Stripe stopped after
 * them, and before each test the clock set to now and Inngest reachable again.
 */
export function engineHarness(): TEngineHarness {
  const h = {} as TEngineHarness;
  beforeAll(async () => {
    Object.assign(h, await startEngineHarness());
  });
  afterAll(async () => {
    await h.fake.stop();
  });
  beforeEach(() => {
    h.clock.set(new Date());
    globalThis.inngestReceiver.setDown(false);
  });
  return h;
}

/** The event that asks for a payout's transfer, as a test sends it. */
export const transferEvent = (payoutId: string) => ({ name: "payout/transfer.requested", data: { payoutId, reason: "test" } });

export async function payoutOf(bookingId: string) {
  return db.payout.findUniqueOrThrow({ where: { bookingId } });
}

export const ADMIN_ACTOR = (id: string, name = "Ada Admin"): TActor => ({
  type: "admin",
  id,
  label: `${name} <${name.split(" ")[0]!.toLowerCase()}@payouts.test>`,
});
