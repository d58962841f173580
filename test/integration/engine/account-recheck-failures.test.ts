// The sweep re-asks Stripe about held providers, least recently asked first, 20 per run.
// Look-ups that keep failing (an account Stripe no longer lets us read) must take their turn,
// not stay first in line and starve every other held provider; a refusal raises an alert.
import { describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { sweepPayouts } from "@/lib/payouts/sweep-payouts";

import { HOUR, engineHarness } from "../../support/engine";
import { createPayout, createProvider } from "../../support/factories";

const h = engineHarness();

describe("sweep: re-checking held providers' Stripe accounts", () => {
  it("still re-asks a ready provider when 20 other held providers' look-ups keep failing", async () => {
    const now = h.clock.now();
    // 20 providers whose accounts Stripe no longer lets us read (403 account_invalid), asked 3 h ago.
    for (let i = 0; i < 20; i += 1) {
      const provider = await createProvider({ payoutsEnabled: false, accountCheckedAt: new Date(now.getTime() - 3 * HOUR) });
      await createPayout({ provider, status: "on_hold", holdReason: "provider_account_not_ready", holdNote: "not ready" });
    }
    // One provider that finished onboarding at Stripe; its account.updated was lost. Asked 2 h ago.
    const ready = h.account({ payoutsEnabled: true, transfersCapability: "active" });
    const provider = await createProvider({
      stripeAccountId: ready,
      payoutsEnabled: false,
      accountCheckedAt: new Date(now.getTime() - 2 * HOUR),
    });
    const held = await createPayout({ provider, status: "on_hold", holdReason: "provider_account_not_ready", holdNote: "not ready" });

    // The first sweep asks the 20 longest unheard-of; each is refused, and said so once.
    await sweepPayouts(h.ctx(), h.stripe);
    const alerts = await db.alert.findMany({ where: { kind: "account_lookup_refused" } });
    expect(alerts).toHaveLength(20);
    h.clock.advance(15 * 60 * 1000);

    // A day of sweeps, every 15 minutes.
    for (let i = 0; i < 95; i += 1) {
      await sweepPayouts(h.ctx(), h.stripe);
      h.clock.advance(15 * 60 * 1000);
    }

    const lookups = h.fake.requests().filter((r) => r.method === "GET" && r.path === `/v1/accounts/${ready}`).length;
    expect(lookups).toBeGreaterThan(0);
    expect(await db.payout.findUniqueOrThrow({ where: { id: held.id } })).toMatchObject({ status: "scheduled" });
    // One alert per refused account and (UTC) day, however often it is asked.
    const days = new Set([now.toISOString().slice(0, 10), new Date(h.clock.now().getTime() - 15 * 60 * 1000).toISOString().slice(0, 10)]);
    expect(await db.alert.count({ where: { kind: "account_lookup_refused" } })).toBe(20 * days.size);
  }, 120_000);
});
