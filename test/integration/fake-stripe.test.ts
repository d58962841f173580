// The real `stripe` SDK against the local fake: the fake behaves like Stripe where the payout
// engine depends on it, and every injected fault reaches classifyStripeError as specified.
import Stripe from "stripe";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { resetEnvForTests } from "@/lib/env";
import { classifyStripeError } from "@/lib/stripe/classify-error";
import { createStripeClient, getStripe, resetStripeForTests } from "@/lib/stripe/client";
import {
  createTransfer,
  createTransferReversal,
  findTransferForPayout,
  retrieveAccountReadiness,
  reversalIdempotencyKey,
  transferIdempotencyKey,
} from "@/lib/stripe/transfers";

import { startFakeStripe, type TFakeStripe } from "../support/fake-stripe";

const { errors } = Stripe;
const TRANSFERS = { method: "POST", path: "/v1/transfers" } as const;

let fake: TFakeStripe;
let stripe: Stripe;
let provider: string;

beforeAll(async () => {
  fake = await startFakeStripe();
});

afterAll(async () => {
  await fake.stop();
});

beforeEach(() => {
  fake.reset();
  stripe = fake.stripe();
  provider = fake.addAccount({ id: "acct_provider" });
  // Transfers without a source_transaction are drawn from the platform's available balance.
  fake.setBalance("eur", 1_000_000);
});

function transferInput(payoutId: string, overrides: Partial<Parameters<typeof createTransfer>[1]> = {}) {
  return {
    amount: 4200,
    currency: "EUR",
    destination: provider,
    transferGroup: `booking_${payoutId}`,
    metadata: { payoutId },
    idempotencyKey: transferIdempotencyKey(payoutId, 1),
    ...overrides,
  };
}

/** The error a promise rejects with (fails the test when it resolves). */
async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail");
}

function postsTo(path: string) {
  return fake.requests().filter((request) => request.method === "POST" && request.path === path);
}

describe("resources", () => {
  it("creates, retrieves, lists and reverses transfers", async () => {
    const created = await createTransfer(stripe, transferInput("pay_1"));
    expect(created).toMatchObject({
      object: "transfer",
      amount: 4200,
      amount_reversed: 0,
      currency: "eur",
      destination: provider,
      transfer_group: "booking_pay_1",
      metadata: { payoutId: "pay_1" },
      reversed: false,
      reversals: { object: "list", data: [], has_more: false },
    });
    expect(created.id).toMatch(/^tr_[A-Za-z0-9]{24}$/);
    expect(created.lastResponse.requestId).toMatch(/^req_/);
    expect(postsTo("/v1/transfers")[0]).toMatchObject({
      idempotencyKey: "payout:pay_1:v1",
      params: { amount: "4200", currency: "eur", "metadata[payoutId]": "pay_1" },
      status: 200,
    });

    const retrieved = await stripe.transfers.retrieve(created.id);
    expect(retrieved.id).toBe(created.id);

    const partial = await createTransferReversal(stripe, {
      transferId: created.id,
      amount: 1000,
      idempotencyKey: reversalIdempotencyKey("dp_1"),
      metadata: { disputeId: "dp_1" },
    });
    expect(partial).toMatchObject({ object: "transfer_reversal", amount: 1000, currency: "eur", transfer: created.id });
    expect(partial.id).toMatch(/^trr_/);
    expect(await stripe.transfers.retrieve(created.id)).toMatchObject({ amount_reversed: 1000, reversed: false });

    const tooMuch = await failureOf(
      createTransferReversal(stripe, { transferId: created.id, amount: 3201, idempotencyKey: reversalIdempotencyKey("dp_2") }),
    );
    expect(tooMuch).toBeInstanceOf(errors.StripeInvalidRequestError);

    await createTransferReversal(stripe, { transferId: created.id, amount: 3200, idempotencyKey: reversalIdempotencyKey("dp_3") });
    const reversed = await stripe.transfers.retrieve(created.id);
    expect(reversed).toMatchObject({ amount_reversed: 4200, reversed: true });
    expect(reversed.reversals.data).toHaveLength(2);
    expect(fake.reversals().map((reversal) => reversal.amount)).toEqual([1000, 3200]);

    const missing = await failureOf(stripe.transfers.retrieve("tr_missing"));
    expect(missing).toMatchObject({ type: "StripeInvalidRequestError", statusCode: 404, code: "resource_missing" });
  });

  it("paginates the transfer list and finds a payout's transfer in its group", async () => {
    for (const n of [1, 2, 3, 4, 5]) {
      await createTransfer(stripe, transferInput(`pay_${n}`, { transferGroup: "group_a", amount: 100 * n }));
    }
    await createTransfer(stripe, transferInput("pay_other", { transferGroup: "group_b" }));

    const first = await stripe.transfers.list({ transfer_group: "group_a", limit: 2 });
    expect(first.has_more).toBe(true);
    expect(first.data.map((transfer) => transfer.metadata.payoutId)).toEqual(["pay_5", "pay_4"]);
    const last = first.data.at(-1);
    const second = await stripe.transfers.list({ transfer_group: "group_a", limit: 2, starting_after: last?.id });
    expect(second.data.map((transfer) => transfer.metadata.payoutId)).toEqual(["pay_3", "pay_2"]);

    const all = await stripe.transfers.list({ transfer_group: "group_a", limit: 2 }).autoPagingToArray({ limit: 100 });
    expect(all).toHaveLength(5);

    // findTransferForPayout pages through the group (100 per page) until it matches.
    for (let n = 6; n <= 104; n += 1) {
      await createTransfer(stripe, transferInput(`pay_${n}`, { transferGroup: "group_a", amount: 1 }));
    }
    const found = await findTransferForPayout(stripe, { transferGroup: "group_a", payoutId: "pay_1" });
    expect(found).toMatchObject({ amount: 100, metadata: { payoutId: "pay_1" } });
    expect(fake.requests().filter((request) => request.method === "GET" && request.path === "/v1/transfers")).toHaveLength(
      2 + 3 + 2,
    );
    expect(await findTransferForPayout(stripe, { transferGroup: "group_a", payoutId: "pay_other" })).toBeNull();
    expect(await findTransferForPayout(stripe, { transferGroup: "group_none", payoutId: "pay_1" })).toBeNull();
  });

  it("reports account readiness", async () => {
    fake.addAccount({ id: "acct_restricted", payoutsEnabled: false, transfersCapability: "inactive" });
    expect(await retrieveAccountReadiness(stripe, provider)).toEqual({
      accountId: provider,
      payoutsEnabled: true,
      transfersActive: true,
      disabledReason: null,
    });
    expect(await retrieveAccountReadiness(stripe, "acct_restricted")).toEqual({
      accountId: "acct_restricted",
      payoutsEnabled: false,
      transfersActive: false,
      disabledReason: "requirements.past_due",
    });
    const unknown = await failureOf(retrieveAccountReadiness(stripe, "acct_unknown"));
    expect(unknown).toBeInstanceOf(errors.StripePermissionError);
    expect(classifyStripeError(unknown)).toMatchObject({ retry: "never", reason: "destination_unusable" });
  });

  it("validates amounts and parameters without storing the answer under the key", async () => {
    const zero = await failureOf(createTransfer(stripe, transferInput("pay_1", { amount: 0 })));
    expect(zero).toMatchObject({ type: "StripeInvalidRequestError", param: "amount" });
    expect(classifyStripeError(zero)).toMatchObject({ retry: "never", reason: "invalid_request" });
    const fraction = await failureOf(createTransfer(stripe, transferInput("pay_1", { amount: 1.5 })));
    expect(fraction).toMatchObject({ type: "StripeInvalidRequestError", code: "parameter_invalid_integer" });
    // Same key, now valid: validation errors are not stored, so this executes.
    await createTransfer(stripe, transferInput("pay_1"));
    expect(fake.transfers()).toHaveLength(1);
  });

  it("works through createStripeClient and the environment", async () => {
    const direct = createStripeClient({ host: fake.host, port: fake.port, protocol: "http", maxNetworkRetries: 0 });
    expect((await retrieveAccountReadiness(direct, provider)).transfersActive).toBe(true);

    const saved = { ...process.env };
    Object.assign(process.env, fake.env(), { STRIPE_MAX_NETWORK_RETRIES: "0", STRIPE_TIMEOUT_MS: "2000" });
    resetEnvForTests();
    resetStripeForTests();
    try {
      expect(getStripe()).toBe(getStripe());
      expect((await retrieveAccountReadiness(getStripe(), provider)).accountId).toBe(provider);
    } finally {
      process.env = saved;
      resetEnvForTests();
      resetStripeForTests();
    }
  });
});

describe("idempotency", () => {
  it("replays the same transfer for the same key and parameters, creating nothing", async () => {
    const first = await createTransfer(stripe, transferInput("pay_1"));
    const again = await createTransfer(stripe, transferInput("pay_1"));
    expect(again.id).toBe(first.id);
    expect(again).toEqual(first);
    expect(again.lastResponse.headers["idempotent-replayed"]).toBe("true");
    expect(fake.transfers()).toHaveLength(1);
    expect(postsTo("/v1/transfers").map((request) => request.replayed)).toEqual([false, true]);
  });

  it("refuses the same key with other parameters", async () => {
    await createTransfer(stripe, transferInput("pay_1"));
    const error = await failureOf(createTransfer(stripe, transferInput("pay_1", { amount: 4300 })));
    expect(error).toBeInstanceOf(errors.StripeIdempotencyError);
    expect(error).toMatchObject({
      statusCode: 400,
      message: expect.stringContaining("can only be used with the same parameters they were first used with"),
    });
    expect(classifyStripeError(error)).toMatchObject({ retry: "never", outcomeUnknown: false, reason: "idempotency" });
    expect(fake.transfers()).toHaveLength(1);
  });

  it("refuses a key reused on another endpoint", async () => {
    const transfer = await createTransfer(stripe, transferInput("pay_1"));
    const error = await failureOf(
      createTransferReversal(stripe, { transferId: transfer.id, amount: 1, idempotencyKey: "payout:pay_1:v1" }),
    );
    expect(error).toBeInstanceOf(errors.StripeIdempotencyError);
    expect(fake.reversals()).toHaveLength(0);
  });

  it("replays a stored error such as balance_insufficient", async () => {
    fake.setBalance("eur", 1000);
    const first = await failureOf(createTransfer(stripe, transferInput("pay_1")));
    expect(first).toMatchObject({ code: "balance_insufficient" });
    fake.setBalance("eur", 100_000);
    const replay = await failureOf(createTransfer(stripe, transferInput("pay_1")));
    expect(replay).toMatchObject({ code: "balance_insufficient" });
    expect(postsTo("/v1/transfers").map((request) => request.replayed)).toEqual([false, true]);
    // A new key (e.g. the next amount version) executes.
    await createTransfer(stripe, transferInput("pay_1", { idempotencyKey: transferIdempotencyKey("pay_1", 2) }));
    expect(fake.balance("eur")).toBe(100_000 - 4200);
  });

  it("answers 409 while the first request with the key is still running", async () => {
    fake.failNext(TRANSFERS, { kind: "delay", ms: 300 });
    const slow = createTransfer(stripe, transferInput("pay_1"));
    await expect.poll(() => postsTo("/v1/transfers").length).toBe(1);
    const error = await failureOf(createTransfer(stripe, transferInput("pay_1")));
    expect(error).toMatchObject({ type: "StripeAPIError", statusCode: 409, rawType: "idempotency_error" });
    expect(classifyStripeError(error)).toMatchObject({ retry: "now", outcomeUnknown: true, reason: "conflict" });
    const created = await slow;
    expect(fake.transfers().map((transfer) => transfer.id)).toEqual([created.id]);
  });
});

describe("business errors", () => {
  it("insufficient platform balance: retry later", async () => {
    fake.setBalance("eur", 4199);
    const error = await failureOf(createTransfer(stripe, transferInput("pay_1")));
    expect(error).toBeInstanceOf(errors.StripeInvalidRequestError);
    expect(error).toMatchObject({ statusCode: 400, code: "balance_insufficient" });
    expect(classifyStripeError(error)).toMatchObject({ retry: "later", outcomeUnknown: false, retryAfterMs: 3_600_000 });
    expect(fake.transfers()).toHaveLength(0);
    expect(fake.balance("eur")).toBe(4199);
  });

  it("unknown destination: never retry", async () => {
    const error = await failureOf(createTransfer(stripe, transferInput("pay_1", { destination: "acct_nobody" })));
    expect(error).toBeInstanceOf(errors.StripeInvalidRequestError);
    expect(error).toMatchObject({ code: "resource_missing", param: "destination", message: "No such destination: 'acct_nobody'" });
    expect(classifyStripeError(error)).toMatchObject({ retry: "never", outcomeUnknown: false, reason: "destination_unusable" });
  });

  it("restricted destination (transfers capability inactive): never retry", async () => {
    fake.addAccount({ id: "acct_restricted", transfersCapability: "inactive" });
    const error = await failureOf(createTransfer(stripe, transferInput("pay_1", { destination: "acct_restricted" })));
    expect(error).toBeInstanceOf(errors.StripeInvalidRequestError);
    expect(error).toMatchObject({
      code: "insufficient_capabilities_for_transfer",
      message: expect.stringContaining("capabilities enabled: transfers"),
    });
    expect(classifyStripeError(error)).toMatchObject({ retry: "never", reason: "destination_unusable" });
    expect(fake.transfers()).toHaveLength(0);
  });
});

describe("faults", () => {
  it("applies a fault only to the matching request, then stops", async () => {
    fake.failNext(TRANSFERS, { kind: "status", status: 500 });
    await retrieveAccountReadiness(stripe, provider);
    await expect(createTransfer(stripe, transferInput("pay_1"))).rejects.toBeInstanceOf(errors.StripeAPIError);
    await createTransfer(stripe, transferInput("pay_1"));
    expect(fake.requests().map((request) => [request.method, request.path, request.status, request.fault])).toEqual([
      ["GET", "/v1/accounts/acct_provider", 200, null],
      ["POST", "/v1/transfers", 500, "status"],
      ["POST", "/v1/transfers", 200, null],
    ]);
  });

  it("matches paths by RegExp and counts `times`", async () => {
    const transfer = await createTransfer(stripe, transferInput("pay_1"));
    fake.failNext({ path: /^\/v1\/transfers\/[^/]+$/ }, { kind: "rate_limit" }, 2);
    await expect(stripe.transfers.retrieve(transfer.id)).rejects.toBeInstanceOf(errors.StripeRateLimitError);
    await expect(stripe.transfers.retrieve(transfer.id)).rejects.toBeInstanceOf(errors.StripeRateLimitError);
    await expect(stripe.transfers.retrieve(transfer.id)).resolves.toMatchObject({ id: transfer.id });
  });

  it("timeout: the SDK gives up with a connection error; outcome unknown, nothing created", async () => {
    fake.failNext(TRANSFERS, { kind: "timeout" });
    const error = await failureOf(createTransfer(fake.stripe({ timeout: 300 }), transferInput("pay_1")));
    expect(error).toBeInstanceOf(errors.StripeConnectionError);
    expect(error).toMatchObject({ message: "Request aborted due to timeout being reached (300ms)" });
    expect(classifyStripeError(error)).toMatchObject({ retry: "now", outcomeUnknown: true, reason: "timeout" });
    expect(fake.transfers()).toHaveLength(0);
    expect(postsTo("/v1/transfers")).toMatchObject([{ status: null, fault: "timeout" }]);
  });

  it("timeout after processing: the transfer exists and the lookup settles it", async () => {
    fake.failNext(TRANSFERS, { kind: "timeout", process: true });
    const error = await failureOf(createTransfer(fake.stripe({ timeout: 300 }), transferInput("pay_1")));
    expect(classifyStripeError(error)).toMatchObject({ outcomeUnknown: true });
    const found = await findTransferForPayout(stripe, { transferGroup: "booking_pay_1", payoutId: "pay_1" });
    expect(found?.id).toBe(fake.transfers()[0]?.id);
    // Retrying with the same key replays it instead of creating another.
    expect((await createTransfer(stripe, transferInput("pay_1"))).id).toBe(found?.id);
    expect(fake.transfers()).toHaveLength(1);
  });

  it("500: a StripeAPIError to retry now; a retry with the same key creates one transfer", async () => {
    fake.failNext(TRANSFERS, { kind: "status", status: 500 });
    const error = await failureOf(createTransfer(stripe, transferInput("pay_1")));
    expect(error).toBeInstanceOf(errors.StripeAPIError);
    expect(error).toMatchObject({ statusCode: 500 });
    expect(classifyStripeError(error)).toMatchObject({ retry: "now", outcomeUnknown: true, reason: "server_error" });
    expect(fake.transfers()).toHaveLength(0);
    await createTransfer(stripe, transferInput("pay_1"));
    expect(fake.transfers()).toHaveLength(1);
  });

  it("429 rate limit: retry now; Stripe-Should-Retry: false overrides", async () => {
    fake.failNext(TRANSFERS, { kind: "rate_limit" });
    const error = await failureOf(createTransfer(stripe, transferInput("pay_1")));
    expect(error).toBeInstanceOf(errors.StripeRateLimitError);
    expect(error).toMatchObject({ statusCode: 429, code: "rate_limit" });
    expect(classifyStripeError(error)).toMatchObject({ retry: "now", outcomeUnknown: false, reason: "rate_limit" });

    fake.failNext(TRANSFERS, { kind: "rate_limit", shouldRetry: false });
    const refused = await failureOf(createTransfer(stripe, transferInput("pay_1")));
    expect(classifyStripeError(refused)).toMatchObject({ retry: "never" });
    expect(fake.transfers()).toHaveLength(0);
  });

  it("lock_timeout: a 429 RateLimitError with code lock_timeout, retried now (and by the SDK itself)", async () => {
    fake.failNext(TRANSFERS, { kind: "lock_timeout" });
    const error = await failureOf(createTransfer(stripe, transferInput("pay_1")));
    expect(error).toBeInstanceOf(errors.StripeRateLimitError);
    expect(error).toMatchObject({ statusCode: 429, code: "lock_timeout" });
    expect(classifyStripeError(error)).toMatchObject({ retry: "now", outcomeUnknown: false, reason: "lock_timeout" });

    // The answer carries Stripe-Should-Retry: true, so an SDK with retries tries again itself.
    fake.failNext(TRANSFERS, { kind: "lock_timeout" });
    await createTransfer(fake.stripe({ maxNetworkRetries: 1 }), transferInput("pay_1"));
    expect(fake.transfers()).toHaveLength(1);
  });

  it("error: any Stripe error, e.g. a 401 becomes a StripeAuthenticationError", async () => {
    fake.failNext(TRANSFERS, { kind: "error", status: 401, type: "invalid_request_error", message: "Invalid API Key provided: sk_test_****" });
    const error = await failureOf(createTransfer(stripe, transferInput("pay_1")));
    expect(error).toBeInstanceOf(errors.StripeAuthenticationError);
    expect(classifyStripeError(error)).toMatchObject({ retry: "never", reason: "authentication" });
  });

  it("drop_response: the transfer is created, the client sees a connection error, the same key returns it", async () => {
    // The SDK retries a closed connection once even with maxNetworkRetries 0, so drop both.
    fake.failNext(TRANSFERS, { kind: "drop_response" }, 2);
    const error = await failureOf(createTransfer(stripe, transferInput("pay_1")));
    expect(error).toBeInstanceOf(errors.StripeConnectionError);
    expect(classifyStripeError(error)).toMatchObject({ retry: "now", outcomeUnknown: true, reason: "connection" });
    expect(fake.transfers()).toHaveLength(1);

    const settled = await createTransfer(stripe, transferInput("pay_1"));
    expect(settled.id).toBe(fake.transfers()[0]?.id);
    expect(fake.transfers()).toHaveLength(1);
    const posts = postsTo("/v1/transfers");
    expect(posts.map((request) => [request.fault, request.status, request.replayed])).toEqual([
      ["drop_response", null, false],
      ["drop_response", null, false],
      [null, 200, true],
    ]);
    expect(new Set(posts.map((request) => request.idempotencyKey))).toEqual(new Set(["payout:pay_1:v1"]));
  });

  it("drop_response once: the SDK's own closed-connection retry gets the replayed transfer", async () => {
    fake.failNext(TRANSFERS, { kind: "drop_response" });
    const transfer = await createTransfer(stripe, transferInput("pay_1"));
    expect(fake.transfers().map((created) => created.id)).toEqual([transfer.id]);
    expect(postsTo("/v1/transfers").map((request) => request.replayed)).toEqual([false, true]);
  });

  it("maxNetworkRetries: 2 retries a 500 with the same Idempotency-Key and gets one transfer", async () => {
    fake.failNext(TRANSFERS, { kind: "status", status: 500 });
    const transfer = await createTransfer(fake.stripe({ maxNetworkRetries: 2 }), transferInput("pay_1"));
    expect(fake.transfers().map((created) => created.id)).toEqual([transfer.id]);
    const posts = postsTo("/v1/transfers");
    expect(posts.map((request) => request.status)).toEqual([500, 200]);
    expect(posts.map((request) => request.idempotencyKey)).toEqual(["payout:pay_1:v1", "payout:pay_1:v1"]);
  });
});

describe("stop()", () => {
  let other: TFakeStripe | undefined;
  afterEach(async () => {
    await other?.stop().catch(() => undefined);
  });

  it("closes promptly while a request is held by a timeout fault", async () => {
    other = await startFakeStripe();
    other.addAccount({ id: "acct_x" });
    other.failNext({ path: "/v1/accounts/acct_x" }, { kind: "timeout" });
    const pending = failureOf(retrieveAccountReadiness(other.stripe({ timeout: 10_000 }), "acct_x"));
    const current = other;
    await expect.poll(() => current.requests().length).toBe(1);
    const started = Date.now();
    await other.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(errors.StripeConnectionError);
    other = undefined;
  });
});
