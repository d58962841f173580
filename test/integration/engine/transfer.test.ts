// The payout engine's transfers: exactly one Stripe transfer per payout, whatever happens.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { db } from "@/lib/db";
import { openDispute } from "@/lib/disputes/open-dispute";
import { forceReleasePayout } from "@/lib/payouts/force-release-payout";
import { retryPayout } from "@/lib/payouts/retry-payout";
import { transferPayout } from "@/lib/payouts/transfer-payout";

import { ADMIN_ACTOR, HOUR, payoutOf, startEngineHarness, type TEngineHarness } from "../../support/engine";

let h: TEngineHarness;
let adminId: string;

beforeAll(async () => {
  h = await startEngineHarness();
  const admin = await db.adminUser.create({ data: { email: "ada@payouts.test", name: "Ada Admin", role: "admin", passwordHash: "x" } });
  adminId = admin.id;
});

afterAll(async () => {
  await h.fake.stop();
});

beforeEach(() => {
  h.clock.set(new Date());
});

async function dueBooking(overrides: Parameters<TEngineHarness["completeBooking"]>[0] = {}) {
  const { bookingId } = await h.completeBooking({ providerReady: true, ...overrides });
  h.clock.advance(48 * HOUR + 1000);
  return payoutOf(bookingId);
}

describe("transfer", () => {
  it("20 concurrent transfer requests for one payout make exactly one Stripe transfer, one transition, one audit entry", async () => {
    const payout = await dueBooking();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        h.run(
          "transfer",
          { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "test" } },
          { runId: `run_concurrent_${i}` },
        ),
      ),
    );
    expect(results.filter((r) => r.error)).toEqual([]);

    expect(h.transfersFor(payout.id)).toHaveLength(1);
    const creates = h.fake
      .requests()
      .filter((r) => r.method === "POST" && r.path === "/v1/transfers" && r.params["metadata[payoutId]"] === payout.id);
    expect(creates).toHaveLength(1);
    const after = await payoutOf(payout.bookingId);
    expect(after).toMatchObject({ status: "transferred", stripeTransferId: h.transfersFor(payout.id)[0]!.id, attempts: 1 });
    expect(await db.auditLog.count({ where: { entityId: payout.id, action: "payout.transferred" } })).toBe(1);
    expect(await db.transferAttempt.count({ where: { payoutId: payout.id } })).toBe(1);

    // A late duplicate request changes nothing.
    const late = await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "late" } });
    expect(late.result).toMatchObject({ kind: "skipped", reason: "already_settled" });
    expect(h.transfersFor(payout.id)).toHaveLength(1);
  });

  it("sends the payout id, the booking's transfer group and a stable idempotency key", async () => {
    const payout = await dueBooking();
    await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "test" } });
    const booking = await db.booking.findUniqueOrThrow({ where: { id: payout.bookingId }, include: { provider: true } });
    const [transfer] = h.transfersFor(payout.id);
    expect(transfer).toMatchObject({
      amount: 8_000,
      currency: "usd",
      destination: booking.provider.stripeAccountId,
      transfer_group: `booking_${booking.externalId}`,
      metadata: { payoutId: payout.id },
    });
    const request = h.fake
      .requests()
      .find((r) => r.method === "POST" && r.path === "/v1/transfers" && r.params["metadata[payoutId]"] === payout.id);
    expect(request?.idempotencyKey).toBe(`payout:${payout.id}:v1`);
  });

  it("when the response of a successful transfer is lost, the retry records the same single transfer", async () => {
    const payout = await dueBooking();
    // Twice: the SDK itself retries a dropped connection once, with the same idempotency key.
    h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "drop_response" }, 2);
    // The look-up right after the lost answer fails too, so the outcome stays unknown.
    h.fake.failNext({ method: "GET", path: "/v1/transfers" }, { kind: "status", status: 500 });
    const runId = "run_lost_response";
    const first = await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "test" } }, { runId });
    expect(first.error).toBeDefined();
    expect(h.transfersFor(payout.id)).toHaveLength(1);
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "processing", stripeTransferId: null });

    // Inngest retries the step in the same run.
    const second = await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "test" } }, { runId });
    expect(second.error).toBeUndefined();
    expect(h.transfersFor(payout.id)).toHaveLength(1);
    const after = await payoutOf(payout.bookingId);
    expect(after).toMatchObject({ status: "transferred", stripeTransferId: h.transfersFor(payout.id)[0]!.id });
    const attempts = await db.transferAttempt.findMany({ where: { payoutId: payout.id }, orderBy: { attemptNumber: "asc" } });
    expect(attempts.map((a) => [a.attemptNumber, a.status, a.stripeTransferId])).toEqual([
      [1, "failed", null],
      [2, "succeeded", after.stripeTransferId],
    ]);
  });

  it("when the response of a successful transfer is lost, the attempt looks it up at once and records it", async () => {
    const payout = await dueBooking();
    h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "drop_response" }, 2);
    const run = await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "test" } });
    expect(run.error).toBeUndefined();
    expect(h.transfersFor(payout.id)).toHaveLength(1);
    expect(await payoutOf(payout.bookingId)).toMatchObject({
      status: "transferred",
      attempts: 1,
      stripeTransferId: h.transfersFor(payout.id)[0]!.id,
    });
    const attempts = await db.transferAttempt.findMany({ where: { payoutId: payout.id } });
    expect(attempts.map((a) => [a.attemptNumber, a.status])).toEqual([[1, "succeeded"]]);
  });

  it("if the process dies after Stripe accepted the transfer, the next attempt ends with the same single transfer", async () => {
    const payout = await dueBooking();
    // Stripe accepts the transfer, but our process "dies" before recording it: simulate by
    // calling the first two steps of an attempt and never the third.
    const { claimTransfer } = await import("@/lib/payouts/transfer-claim");
    const { executeTransfer } = await import("@/lib/payouts/transfer-execute");
    const ctx = { ...h.ctx(), runId: "run_crashed" };
    const claimed = await claimTransfer(ctx, { payoutId: payout.id });
    if (claimed.kind !== "claimed") throw new Error("expected a claim");
    const outcome = await executeTransfer(ctx, h.stripe, claimed.claim);
    expect(outcome.result.kind).toBe("succeeded");
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "processing", stripeTransferId: null });

    // Inngest retries the run: the same run id continues.
    const retry = await h.run(
      "transfer",
      { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "retry" } },
      { runId: "run_crashed" },
    );
    expect(retry.result).toMatchObject({ kind: "transferred" });
    expect(h.transfersFor(payout.id)).toHaveLength(1);
    expect((await payoutOf(payout.bookingId)).stripeTransferId).toBe(h.transfersFor(payout.id)[0]!.id);
  });

  it("3 retryable failures: failed, 3 attempts, one alert, audited; then an admin retry transfers it", async () => {
    const payout = await dueBooking();
    h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "status", status: 500 }, 2);
    h.fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "status", status: 502 }, 1);
    const runId = "run_three_failures";
    const event = { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "test" } };
    const first = await h.run("transfer", event, { runId });
    const second = await h.run("transfer", event, { runId });
    expect(first.error).toBeDefined();
    expect(second.error).toBeDefined();
    const third = await h.run("transfer", event, { runId });
    expect(third.error).toBeUndefined();
    expect(third.result).toMatchObject({ kind: "failed", attemptNumber: 3 });
    // A 5xx may hide a transfer Stripe made: after the last attempt the payout stays processing
    // until the sweep has asked Stripe; then it fails with one alert.
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "processing", attempts: 3 });
    h.clock.advance(HOUR + 1000);
    await h.run("reconcile", null);

    const failed = await payoutOf(payout.bookingId);
    expect(failed).toMatchObject({ status: "failed", attempts: 3, stripeTransferId: null });
    expect(failed.lastError).toMatch(/no transfer found at Stripe/);
    const attempts = await db.transferAttempt.findMany({ where: { payoutId: payout.id }, orderBy: { attemptNumber: "asc" } });
    expect(attempts.map((a) => [a.attemptNumber, a.status, a.retryable, a.counted])).toEqual([
      [1, "failed", true, true],
      [2, "failed", true, true],
      [3, "failed", true, true],
    ]);
    expect(await db.alert.count({ where: { payoutId: payout.id, kind: "payout_failed" } })).toBe(1);
    const actions = (await db.auditLog.findMany({ where: { entityId: payout.id }, orderBy: { createdAt: "asc" } })).map((a) => a.action);
    expect(actions).toEqual([
      "payout.scheduled",
      "payout.transfer_started",
      "payout.transfer_attempt_failed",
      "payout.transfer_attempt_started",
      "payout.transfer_attempt_failed",
      "payout.transfer_attempt_started",
      "payout.transfer_outcome_unknown",
      "payout.failed",
    ]);
    expect(h.transfersFor(payout.id)).toHaveLength(0);

    // A fourth delivery of the same request does nothing to a failed payout.
    expect((await h.run("transfer", event)).result).toMatchObject({ kind: "skipped", reason: "not_eligible" });

    const retried = await retryPayout(h.ctx(ADMIN_ACTOR(adminId)), { payoutId: payout.id, reason: "Stripe is back up" });
    expect(retried).toMatchObject({ payout: { status: "scheduled", attempts: 0 }, transferRequested: true });
    const again = await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "retry" } });
    expect(again.result).toMatchObject({ kind: "transferred" });
    expect(h.transfersFor(payout.id)).toHaveLength(1);
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "transferred" });
    const retryAudit = await db.auditLog.findFirstOrThrow({ where: { entityId: payout.id, action: "payout.retried" } });
    expect(retryAudit).toMatchObject({ actorType: "admin", actorId: adminId, reason: "Stripe is back up" });

    // The alerts that said the transfer failed (no clear answer, then failed) do not stay open:
    // the transfer resolves them, as acknowledged by the engine with the reason, each audited.
    const alerts = await db.alert.findMany({ where: { payoutId: payout.id }, orderBy: { kind: "asc" } });
    expect(alerts.map((a) => [a.kind, a.acknowledgedAt !== null, a.acknowledgedById])).toEqual([
      ["payout_failed", true, null],
      ["transfer_outcome_unknown", true, null],
    ]);
    const resolved = await db.auditLog.findMany({
      where: { entityType: "alert", entityId: { in: alerts.map((a) => a.id) }, action: "alert.acknowledged" },
    });
    expect(resolved).toHaveLength(2);
    for (const entry of resolved) {
      expect(entry.actorType).toBe("system");
      expect(entry.reason).toMatch(
        new RegExp(
          `^resolved: payout ${payout.id} \\(\\$\\d+\\.\\d{2}\\) was transferred \\(Stripe transfer ${h.transfersFor(payout.id)[0]!.id}\\)$`,
        ),
      );
    }
  });

  it("an invalid destination fails after one attempt, with no retries", async () => {
    const payout = await dueBooking({ stripeAccountId: "acct_doesnotexist000" });
    const result = await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "test" } });
    expect(result.error).toBeUndefined();
    expect(result.result).toMatchObject({ kind: "failed", attemptNumber: 1 });
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "failed", attempts: 1 });
    expect(await db.transferAttempt.findMany({ where: { payoutId: payout.id } })).toMatchObject([{ status: "failed", retryable: false }]);
    expect(await db.alert.count({ where: { payoutId: payout.id } })).toBe(1);
  });

  it("a destination without the transfers capability holds the payout for the account, without spending an attempt", async () => {
    const account = h.account({ transfersCapability: "inactive" });
    const payout = await dueBooking({ stripeAccountId: account });
    const result = await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "test" } });
    expect(result.error).toBeUndefined();
    expect(result.result).toMatchObject({ kind: "held_account_not_ready" });
    // Held as it would have been had account.updated told us first; not failed, no attempt spent.
    const held = await payoutOf(payout.bookingId);
    expect(held).toMatchObject({ status: "on_hold", holdReason: "provider_account_not_ready", attempts: 0, processingStartedAt: null });
    expect(held.holdNote).toContain("insufficient_capabilities_for_transfer");
    expect(await db.transferAttempt.findMany({ where: { payoutId: payout.id } })).toMatchObject([
      { status: "failed", counted: false, retryable: false, errorCode: "insufficient_capabilities_for_transfer" },
    ]);
    // Audited in the same transaction, by the engine, naming Stripe's refusal.
    const audit = await db.auditLog.findFirstOrThrow({ where: { entityId: payout.id, action: "payout.held" } });
    expect(audit).toMatchObject({ actorType: "system" });
    expect(audit.reason).toMatch(
      /^Stripe refused the transfer: the provider's Stripe account .* cannot receive transfers \(StripeInvalidRequestError \(insufficient_capabilities_for_transfer\)/,
    );
    // What Stripe says of the account (asked after the refusal) is recorded as an account.updated would be.
    expect(h.fake.requests().some((r) => r.method === "GET" && r.path === `/v1/accounts/${account}`)).toBe(true);
    expect(await db.provider.findUniqueOrThrow({ where: { id: payout.providerId } })).toMatchObject({
      payoutsEnabled: false,
      accountCheckedAt: h.clock.now(),
    });
    expect(await db.auditLog.count({ where: { entityId: payout.providerId, action: "provider.account_not_ready" } })).toBe(1);
    // The refusal is stored under the key: the next try uses a new one. The hold reason tells finance why; no alert.
    expect(await db.payoutTransfer.findFirstOrThrow({ where: { payoutId: payout.id, kind: "payout" } })).toMatchObject({
      status: "pending",
      refusals: 1,
    });
    expect(await db.alert.count({ where: { payoutId: payout.id } })).toBe(0);
    expect(h.transfersFor(payout.id)).toHaveLength(0);
  });

  it("a destination refused as without the transfers capability while Stripe shows the account ready is an ordinary failed attempt, tried again with a new key", async () => {
    const payout = await dueBooking();
    // Stripe's answers disagree (or the account became ready right after the refusal).
    h.fake.failNext(
      { method: "POST", path: "/v1/transfers" },
      {
        kind: "error",
        status: 400,
        type: "invalid_request_error",
        code: "insufficient_capabilities_for_transfer",
        param: "destination",
        message:
          "Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments",
      },
    );
    const runId = "run_refused_but_ready";
    const first = await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "test" } }, { runId });
    expect(first.error).toBeDefined();
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "processing", attempts: 1 });
    expect(await db.transferAttempt.findMany({ where: { payoutId: payout.id } })).toMatchObject([
      { status: "failed", counted: true, retryable: true },
    ]);
    expect(await db.provider.findUniqueOrThrow({ where: { id: payout.providerId } })).toMatchObject({ payoutsEnabled: true });

    const retry = await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "test" } }, { runId });
    expect(retry.result).toMatchObject({ kind: "transferred", attemptNumber: 2 });
    const keys = (await db.transferAttempt.findMany({ where: { payoutId: payout.id }, orderBy: { attemptNumber: "asc" } })).map(
      (a) => a.idempotencyKey,
    );
    expect(keys).toEqual([`payout:${payout.id}:v1`, `payout:${payout.id}:v1:r1`]);
  });

  it("insufficient platform balance: the payout waits for funds without spending an attempt, and is paid when they are due", async () => {
    const payout = await dueBooking();
    h.fake.setBalance("usd", 100);
    const runId = "run_low_balance";
    const result = await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "test" } }, { runId });
    expect(result.error).toBeUndefined();
    // No charge names when funds come: the engine looks again in an hour.
    const dueAt = new Date(h.clock.now().getTime() + HOUR);
    expect(result.result).toMatchObject({ kind: "waiting_for_funds", until: dueAt.toISOString() });
    expect(await payoutOf(payout.bookingId)).toMatchObject({
      status: "on_hold",
      holdReason: "awaiting_funds",
      attempts: 0,
      fundsExpectedAt: dueAt,
      fundsWaitingSince: h.clock.now(),
    });
    expect(await db.transferAttempt.findMany({ where: { payoutId: payout.id } })).toMatchObject([
      { status: "failed", counted: false, errorCode: "balance_insufficient" },
    ]);
    expect(await db.alert.count({ where: { payoutId: payout.id } })).toBe(0);

    // Before the date nothing happens; then the balance is topped up and the sweep releases it: Stripe
    // stored the refusal under the first key, so the transfer uses a new one and goes through.
    h.clock.advance(HOUR / 2);
    await h.run("reconcile", null);
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "on_hold", holdReason: "awaiting_funds" });
    h.fake.setBalance("usd", 1_000_000);
    h.clock.advance(HOUR / 2);
    await h.run("reconcile", null);
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "scheduled", holdReason: null });
    const retry = await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "funds_due" } });
    expect(retry.result).toMatchObject({ kind: "transferred", attemptNumber: 2 });
    expect(h.transfersFor(payout.id)).toHaveLength(1);
    expect(await payoutOf(payout.bookingId)).toMatchObject({
      status: "transferred",
      attempts: 1,
      fundsExpectedAt: null,
      fundsWaitingSince: null,
    });
    const keys = (await db.transferAttempt.findMany({ where: { payoutId: payout.id }, orderBy: { attemptNumber: "asc" } })).map(
      (a) => a.idempotencyKey,
    );
    expect(keys).toEqual([`payout:${payout.id}:v1`, `payout:${payout.id}:v1:r1`]);
  });

  it("a JPY booking of 5000 pays exactly 5000", async () => {
    const payout = await dueBooking({ currency: "JPY", providerShare: 5000 });
    expect(payout).toMatchObject({ amount: 5000, currency: "JPY" });
    await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "test" } });
    expect(h.transfersFor(payout.id)).toMatchObject([{ amount: 5000, currency: "jpy" }]);
  });

  it("is not transferred before it is due", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    const payout = await payoutOf(bookingId);
    const result = await transferPayout(h.ctx(), h.stripe, { payoutId: payout.id });
    expect(result).toMatchObject({ kind: "skipped", reason: "not_eligible" });
    expect(h.transfersFor(payout.id)).toHaveLength(0);
  });
});

describe("provider account readiness", () => {
  it("asks Stripe before holding: an account we have not heard about yet but that is ready is paid", async () => {
    const payout = await dueBooking();
    await db.provider.update({ where: { id: payout.providerId }, data: { payoutsEnabled: false } });
    const result = await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "test" } });
    expect(result.result).toMatchObject({ kind: "transferred" });
    expect(await db.provider.findUniqueOrThrow({ where: { id: payout.providerId } })).toMatchObject({ payoutsEnabled: true });
    expect(await db.auditLog.count({ where: { entityId: payout.providerId, action: "provider.account_ready" } })).toBe(1);
  });

  it("holds the payout while the account cannot receive payouts, and releases and pays it when it can", async () => {
    const account = h.account({ payoutsEnabled: false, transfersCapability: "inactive" });
    const payout = await dueBooking({ stripeAccountId: account });
    await db.provider.update({ where: { id: payout.providerId }, data: { payoutsEnabled: false } });
    const held = await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "test" } });
    expect(held.result).toMatchObject({ kind: "skipped", status: "on_hold" });
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "on_hold", holdReason: "provider_account_not_ready" });
    expect(h.transfersFor(payout.id)).toHaveLength(0);

    const { updateProviderAccount } = await import("@/lib/payouts/update-provider-account");
    const update = await updateProviderAccount(h.ctx(), {
      stripeAccountId: account,
      payoutsEnabled: true,
      transfersActive: true,
      stateAt: h.clock.now(),
    });
    expect(update).toMatchObject({ ready: true, changed: true, released: 1 });
    expect(await payoutOf(payout.bookingId)).toMatchObject({ status: "scheduled", holdReason: null });
    h.account({ id: account });
    expect(
      (await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "released" } })).result,
    ).toMatchObject({ kind: "transferred" });
  });
});

describe("force release", () => {
  it("before 48 h transfers at once", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    h.clock.advance(2 * HOUR);
    const payout = await payoutOf(bookingId);
    const released = await forceReleasePayout(h.ctx(ADMIN_ACTOR(adminId)), {
      payoutId: payout.id,
      reason: "Provider needs the money today",
    });
    expect(released.transferRequested).toBe(true);
    expect(released.payout.eligibleAt.getTime()).toBe(h.clock.now().getTime());
    const outbox = await db.outboxEvent.findMany({ where: { name: "payout/transfer.requested" } });
    expect(outbox.some((e) => (e.data as { payoutId: string }).payoutId === payout.id)).toBe(true);
    const result = await h.run("transfer", { name: "payout/transfer.requested", data: { payoutId: payout.id, reason: "force" } });
    expect(result.result).toMatchObject({ kind: "transferred" });
    const audit = await db.auditLog.findFirstOrThrow({ where: { entityId: payout.id, action: "payout.force_released" } });
    expect(audit).toMatchObject({ actorId: adminId, reason: "Provider needs the money today" });
  });

  it("during an open dispute is refused with a clear error and changes nothing", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    await openDispute(h.ctx(), { bookingId, externalId: `dsp_${bookingId}`, openedAt: h.clock.now() });
    const before = await payoutOf(bookingId);
    await expect(forceReleasePayout(h.ctx(ADMIN_ACTOR(adminId)), { payoutId: before.id, reason: "please" })).rejects.toMatchObject({
      status: 409,
      message: expect.stringMatching(/dispute on this booking is open/),
    });
    expect(await payoutOf(bookingId)).toEqual(before);
    expect(await db.auditLog.count({ where: { entityId: before.id, action: "payout.force_released" } })).toBe(0);
  });

  it("needs a reason and an admin", async () => {
    const { bookingId } = await h.completeBooking({ providerReady: true });
    const payout = await payoutOf(bookingId);
    await expect(forceReleasePayout(h.ctx(ADMIN_ACTOR(adminId)), { payoutId: payout.id, reason: "  " })).rejects.toMatchObject({
      status: 400,
    });
    await expect(forceReleasePayout(h.ctx(), { payoutId: payout.id, reason: "a webhook cannot" })).rejects.toMatchObject({ status: 400 });
  });
});
