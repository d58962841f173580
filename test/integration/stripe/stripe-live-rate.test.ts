// Stripe in live mode, its rate limit: a transfer Stripe keeps turning away (429) is sent again
// until it goes through, once, without using up the payout's attempts; and 300 payouts due at the
// same moment go out under the shared write rate, never tripping Stripe's limit.
import { beforeEach, describe, expect, it } from "vitest";

import { TRANSFER_RUN_RETRIES } from "@/inngest/functions/transfer-payout";
import { db } from "@/lib/db";
import { transferPayout } from "@/lib/payouts/transfer-payout";
import { MAX_TRANSFER_ATTEMPTS, type TTransferResult } from "@/lib/payouts/transfer-types";
import { stripeWriteGate } from "@/lib/stripe/write-gate";

import { HOUR, payoutOf, transferEvent, engineHarness } from "../../support/engine";

const h = engineHarness();

beforeEach(() => {
  h.fake.setRateLimit(null);
});

const isTransferPost = (r: { method: string; path: string }) => r.method === "POST" && r.path === "/v1/transfers";

describe("Stripe's rate limit", () => {
  it("30 consecutive 429s, then success: re-run with the same run id until it returns; transferred once, attempts not used up", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true, providerShare: 4_200 });
    h.clock.advance(48 * HOUR + 1000);
    const payout = await payoutOf(bookingId);
    h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "rate_limit" }, 30);

    const runId = "run_rate_limited";
    let tries = 0;
    let result: unknown;
    // Inngest retries a failed step of the same run (TRANSFER_RUN_RETRIES times) until it returns.
    for (;;) {
      tries += 1;
      const run = await h.run("transfer", transferEvent(payout.id), { runId });
      if (!run.error) {
        result = run.result;
        break;
      }
      expect(String((run.error as { message?: string }).message ?? run.error)).toMatch(/turned the attempt away \(not counted\)/);
      const between = await payoutOf(bookingId);
      expect(between.status).toBe("processing");
      expect(between.attempts).toBeLessThanOrEqual(1);
      if (tries > 1 + TRANSFER_RUN_RETRIES) throw new Error(`still failing after ${tries} tries`);
    }
    expect(tries).toBeLessThanOrEqual(1 + TRANSFER_RUN_RETRIES);
    expect(tries).toBeGreaterThan(1);
    expect(result).toMatchObject({ kind: "transferred" });

    const posts = h.fake.requests().filter((r) => isTransferPost(r) && r.params["metadata[payoutId]"] === payout.id);
    expect(posts.filter((p) => p.status === 429)).toHaveLength(30);
    expect(posts.filter((p) => p.status === 200)).toHaveLength(1);
    expect(posts).toHaveLength(31);
    // Stripe stored nothing for a 429: every send used the transfer's one key.
    expect(new Set(posts.map((p) => p.idempotencyKey))).toEqual(new Set([`payout:${payout.id}:v1`]));

    const transfers = h.transfersFor(payout.id);
    expect(transfers).toMatchObject([{ amount: 4_200, currency: "usd" }]);
    expect(transfers).toHaveLength(1);
    const after = await payoutOf(bookingId);
    expect(after).toMatchObject({ status: "transferred", stripeTransferId: transfers[0]!.id });
    expect(after.attempts).toBeLessThanOrEqual(MAX_TRANSFER_ATTEMPTS);
    const attempts = await db.transferAttempt.findMany({ where: { payoutId: payout.id }, orderBy: { attemptNumber: "asc" } });
    expect(attempts.filter((a) => a.counted).length).toBeLessThanOrEqual(MAX_TRANSFER_ATTEMPTS);
    expect(attempts.at(-1)).toMatchObject({ status: "succeeded", stripeTransferId: transfers[0]!.id });
    expect(attempts.slice(0, -1).every((a) => a.status === "failed" && !a.counted && a.errorCode === "rate_limit")).toBe(true);
    expect(await db.alert.count({ where: { payoutId: payout.id } })).toBe(0);
  });

  it("300 payouts due at once go out under the shared rate of 20/s: no 429 from Stripe's 25/s, each transferred once", async () => {
    const COUNT = 300;
    const bookingIds: string[] = [];
    for (let i = 0; i < COUNT; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, COUNT - i) }, () => h.completeBooking({ providerReady: true, providerShare: 1_000 })),
      );
      bookingIds.push(...batch.map((b) => b.bookingId));
    }
    h.clock.advance(48 * HOUR + 1000);
    const payouts = await db.payout.findMany({ where: { bookingId: { in: bookingIds } }, select: { id: true } });
    expect(payouts).toHaveLength(COUNT);

    // Stripe test mode's limit, and our production gate (20 writes per second, all servers together).
    h.fake.setRateLimit({ perSecond: 25, method: "POST" });
    const gate = stripeWriteGate(db, { perSecond: 20 });
    const logBefore = h.fake.requests().length;
    const results = new Map<string, TTransferResult>();
    const queue = payouts.map((p) => p.id);
    const started = Date.now();
    try {
      await Promise.all(
        Array.from({ length: 30 }, async (_, worker) => {
          for (let payoutId = queue.shift(); payoutId; payoutId = queue.shift()) {
            const ctx = { ...h.ctx(), runId: `run_bulk_${worker}_${payoutId}`, stripeWrites: gate };
            results.set(payoutId, await transferPayout(ctx, h.stripe, { payoutId }));
          }
        }),
      );
    } finally {
      h.fake.setRateLimit(null);
    }
    const elapsed = Date.now() - started;

    expect([...results.values()].filter((r) => r.kind !== "transferred")).toEqual([]);
    const log = h.fake.requests().slice(logBefore);
    const posts = log.filter(isTransferPost);
    expect(posts).toHaveLength(COUNT);
    expect(log.filter((r) => r.rateLimited || r.status === 429)).toEqual([]);
    const ids = new Set(payouts.map((p) => p.id));
    const densest = h.fake.maxPerSecond((r) => isTransferPost(r) && !r.rateLimited && ids.has(r.params["metadata[payoutId]"] ?? ""));
    expect(densest).toBeLessThanOrEqual(20);
    // 300 writes at 20/s (spaced 10 % wider) take about 16 s: the gate was what spaced them.
    expect(elapsed).toBeGreaterThan(13_000);

    const made = h.fake.transfers().filter((t) => ids.has(t.metadata.payoutId ?? ""));
    expect(made).toHaveLength(COUNT);
    expect(new Set(made.map((t) => t.metadata.payoutId)).size).toBe(COUNT);
    const states = await db.payout.groupBy({ by: ["status", "attempts"], where: { id: { in: [...ids] } }, _count: true });
    expect(states).toEqual([{ status: "transferred", attempts: 1, _count: COUNT }]);
  }, 60_000);
});
