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

import { startFakeStripe, type TFakeStripe } from "../../support/fake-stripe";
import { fixture, stripeEvent } from "../../support/stripe-fixtures";

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
    const leg = (amount: number) => ({ leg: 1, amountVersion: 1, amount, currency: "eur" });
    const found = await findTransferForPayout(stripe, { transferGroup: "group_a", payoutId: "pay_1", leg: leg(100) });
    expect(found).toMatchObject({ amount: 100, metadata: { payoutId: "pay_1" } });
    expect(fake.requests().filter((request) => request.method === "GET" && request.path === "/v1/transfers")).toHaveLength(2 + 3 + 2);
    expect(await findTransferForPayout(stripe, { transferGroup: "group_a", payoutId: "pay_other", leg: leg(4200) })).toBeNull();
    expect(await findTransferForPayout(stripe, { transferGroup: "group_none", payoutId: "pay_1", leg: leg(100) })).toBeNull();
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

  it("restricted destination (transfers capability inactive): not ready, never sent again as it is, not counted", async () => {
    fake.addAccount({ id: "acct_restricted", transfersCapability: "inactive" });
    const error = await failureOf(createTransfer(stripe, transferInput("pay_1", { destination: "acct_restricted" })));
    expect(error).toBeInstanceOf(errors.StripeInvalidRequestError);
    expect(error).toMatchObject({
      code: "insufficient_capabilities_for_transfer",
      message: expect.stringContaining("capabilities enabled: transfers"),
    });
    expect(classifyStripeError(error)).toMatchObject({ retry: "never", counts: false, reason: "destination_not_ready" });
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
    const found = await findTransferForPayout(stripe, {
      transferGroup: "booking_pay_1",
      payoutId: "pay_1",
      leg: { leg: 1, amountVersion: 1, amount: 4200, currency: "EUR" },
    });
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
    fake.failNext(TRANSFERS, {
      kind: "error",
      status: 401,
      type: "invalid_request_error",
      message: "Invalid API Key provided: sk_test_****",
    });
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

// ---- money, Connect objects, events and rate limits ------------------------------------

const DAY_MS = 24 * 60 * 60 * 1000;
const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

describe("money on a clock", () => {
  let clocked: TFakeStripe;
  let api: Stripe;
  let current: number;
  const now = () => new Date(current);

  beforeAll(async () => {
    clocked = await startFakeStripe({ now, exchangeRates: { eur: 1.08 } });
  });

  afterAll(async () => {
    await clocked.stop();
  });

  beforeEach(() => {
    current = Date.UTC(2026, 10, 2, 12, 0, 0);
    clocked.reset();
    api = clocked.stripe();
    clocked.addAccount({ id: "acct_provider" });
  });

  const transfer = (params: Partial<Stripe.TransferCreateParams> = {}, key?: string) =>
    api.transfers.create({ amount: 8_000, currency: "usd", destination: "acct_provider", ...params }, key ? { idempotencyKey: key } : {});

  async function platformBalance(currency = "usd") {
    const balance = await api.balance.retrieve();
    return {
      available: balance.available.find((entry) => entry.currency === currency)?.amount,
      pending: balance.pending.find((entry) => entry.currency === currency)?.amount,
    };
  }

  it("a pending charge: the available balance refuses the transfer, source_transaction allows it, and the money becomes available on available_on", async () => {
    const availableOn = new Date(current + 2 * DAY_MS);
    const charge = clocked.createCharge({ amount: 10_000, currency: "usd", availableOn, transferGroup: "booking_1" });
    expect(await platformBalance()).toEqual({ available: 0, pending: 10_000 });
    expect(await api.balanceTransactions.retrieve(String(charge.balance_transaction))).toMatchObject({
      amount: 10_000,
      currency: "usd",
      exchange_rate: null,
      available_on: seconds(availableOn),
      status: "pending",
      source: charge.id,
      type: "charge",
    });

    const refused = await failureOf(transfer({}, "k1"));
    expect(refused).toBeInstanceOf(errors.StripeInvalidRequestError);
    expect(refused).toMatchObject({ statusCode: 400, code: "balance_insufficient" });
    // Stored under the key like any executed request.
    await expect(transfer({}, "k1")).rejects.toMatchObject({ code: "balance_insufficient" });
    expect(clocked.requests().at(-1)).toMatchObject({ replayed: true, status: 400 });

    const made = await transfer({ source_transaction: charge.id, transfer_group: "booking_1" }, "k2");
    expect(made).toMatchObject({ source_transaction: charge.id, amount: 8_000, destination: "acct_provider" });
    expect(await api.balanceTransactions.retrieve(String(made.balance_transaction))).toMatchObject({
      amount: -8_000,
      available_on: seconds(availableOn),
      status: "pending",
      type: "transfer",
      source: made.id,
    });
    expect(await platformBalance()).toEqual({ available: 0, pending: 2_000 });
    const provider = await api.balance.retrieve({}, { stripeAccount: "acct_provider" });
    expect(provider.pending).toEqual([{ amount: 8_000, currency: "usd", source_types: { card: 8_000 } }]);
    expect(clocked.balances("usd", "acct_provider")).toEqual({ available: 0, pending: 8_000 });

    current = availableOn.getTime();
    expect(await platformBalance()).toEqual({ available: 2_000, pending: 0 });
    expect(clocked.balances("usd", "acct_provider")).toEqual({ available: 8_000, pending: 0 });
    expect(clocked.balanceTransaction(String(charge.balance_transaction)).status).toBe("available");
    expect(clocked.balance("usd")).toBe(2_000);
  });

  it("source_transaction must name a charge: a PaymentIntent or an unknown id is 'No such charge'", async () => {
    const charge = clocked.createCharge({ amount: 10_000, currency: "usd" });
    for (const id of [String(charge.payment_intent), "ch_unknown"]) {
      const error = await failureOf(transfer({ source_transaction: id }));
      expect(error).toMatchObject({
        type: "StripeInvalidRequestError",
        statusCode: 400,
        code: "resource_missing",
        param: "source_transaction",
        message: `No such charge: '${id}'`,
      });
    }
    expect(clocked.transfers()).toHaveLength(0);
  });

  it("caps the transfers from one charge at its balance transaction's amount; refunds do not change the cap", async () => {
    const charge = clocked.createCharge({ amount: 10_000, currency: "usd" });
    await transfer({ amount: 6_000, source_transaction: charge.id });
    clocked.refundCharge(charge.id, { amount: 5_000 });
    const over = await failureOf(transfer({ amount: 4_001, source_transaction: charge.id }));
    expect(over).toMatchObject({ statusCode: 400, param: "source_transaction", code: undefined });
    expect((over as Error).message).toBe(
      `The transfer amount exceeds the amount remaining on the source transaction ${charge.id} (4000 remaining).`,
    );
    await transfer({ amount: 4_000, source_transaction: charge.id });
    await expect(transfer({ amount: 1, source_transaction: charge.id })).rejects.toMatchObject({ param: "source_transaction" });

    const currency = await failureOf(transfer({ amount: 100, currency: "eur", source_transaction: charge.id }));
    expect(currency).toMatchObject({ statusCode: 400, param: "source_transaction" });
    expect((currency as Error).message).toBe(
      "The currency of source_transaction's balance transaction (usd) must be the same as the transfer currency (eur).",
    );
  });

  it("a EUR charge on a USD-settling platform settles in usd with exchange_rate; transfers from it are in usd", async () => {
    const charge = clocked.createCharge({ amount: 10_000, currency: "eur", metadata: { bookingId: "bk_1" } });
    const retrieved = await api.charges.retrieve(charge.id, { expand: ["balance_transaction", "payment_intent"] });
    expect(retrieved).toMatchObject({ amount: 10_000, currency: "eur", metadata: { bookingId: "bk_1" } });
    expect(retrieved.balance_transaction).toMatchObject({
      object: "balance_transaction",
      amount: 10_800,
      currency: "usd",
      exchange_rate: 1.08,
    });
    expect(retrieved.payment_intent).toMatchObject({
      object: "payment_intent",
      latest_charge: charge.id,
      status: "succeeded",
      amount: 10_000,
    });
    expect(await platformBalance("usd")).toEqual({ available: 10_800, pending: 0 });
    expect(await platformBalance("eur")).toEqual({ available: undefined, pending: undefined });

    const inEur = await failureOf(transfer({ amount: 9_000, currency: "eur", source_transaction: charge.id }));
    expect((inEur as Error).message).toBe(
      "The currency of source_transaction's balance transaction (usd) must be the same as the transfer currency (eur).",
    );
    // The platform holds no eur at all: a plain eur transfer is short of funds too.
    await expect(transfer({ amount: 1, currency: "eur" })).rejects.toMatchObject({ code: "balance_insufficient" });
    await expect(transfer({ amount: 10_801, source_transaction: charge.id })).rejects.toMatchObject({ param: "source_transaction" });
    expect(await transfer({ amount: 10_800, source_transaction: charge.id })).toMatchObject({ currency: "usd", amount: 10_800 });
  });

  it("settles without conversion in a currency the platform holds, and converts others at 1.1 by default", async () => {
    const multi = await startFakeStripe({ now, settlementCurrencies: ["usd", "eur"] });
    try {
      const eur = multi.createCharge({ amount: 5_000, currency: "eur" });
      expect(multi.balanceTransaction(String(eur.balance_transaction))).toMatchObject({
        amount: 5_000,
        currency: "eur",
        exchange_rate: null,
      });
      const gbp = multi.createCharge({ amount: 1_000, currency: "gbp", fee: 59, paymentIntent: false });
      expect(gbp.payment_intent).toBeNull();
      expect(multi.balanceTransaction(String(gbp.balance_transaction))).toMatchObject({
        amount: 1_100,
        fee: 59,
        net: 1_041,
        currency: "usd",
        exchange_rate: 1.1,
      });
      const balance = await multi.stripe().balance.retrieve();
      expect(balance.available.map((entry) => [entry.currency, entry.amount])).toEqual([
        ["usd", 1_041],
        ["eur", 5_000],
      ]);
    } finally {
      await multi.stop();
    }
  });

  it("reversals give the money back to the platform and take it from the connected account", async () => {
    clocked.setBalance("usd", 10_000);
    const made = await transfer({ amount: 6_000 });
    expect(clocked.balances("usd")).toEqual({ available: 4_000, pending: 0 });
    const reversal = await api.transfers.createReversal(made.id, { amount: 1_000 });
    expect(await api.balanceTransactions.retrieve(String(reversal.balance_transaction))).toMatchObject({
      amount: 1_000,
      type: "transfer_refund",
      source: reversal.id,
    });
    expect(clocked.balance("usd")).toBe(5_000);
    expect(clocked.balances("usd", "acct_provider")).toEqual({ available: 5_000, pending: 0 });
  });

  it("refunds: succeeded, pending, and a failed refund that gives the money back", async () => {
    const charge = clocked.createCharge({ amount: 10_000, currency: "usd" });
    const first = clocked.refundCharge(charge.id, { amount: 4_000 });
    expect(await api.refunds.retrieve(first.id)).toMatchObject({
      object: "refund",
      amount: 4_000,
      currency: "usd",
      charge: charge.id,
      payment_intent: charge.payment_intent,
      status: "succeeded",
    });
    expect(await api.charges.retrieve(charge.id)).toMatchObject({ amount_refunded: 4_000, refunded: false });
    expect(clocked.balance("usd")).toBe(6_000);

    const second = clocked.refundCharge(charge.id, { status: "pending" });
    expect(second).toMatchObject({ amount: 6_000, status: "pending" });
    expect(await api.charges.retrieve(charge.id)).toMatchObject({ amount_refunded: 10_000, refunded: true });
    expect(clocked.balance("usd")).toBe(0);
    expect(() => clocked.refundCharge(charge.id, { amount: 1 })).toThrow(/0 is left to refund/);

    const failed = clocked.setRefundStatus(second.id, "failed", "expired_or_canceled_card");
    const fetched = await api.refunds.retrieve(second.id);
    expect(fetched).toEqual(failed);
    expect(fetched).toMatchObject({ status: "failed", failure_reason: "expired_or_canceled_card" });
    expect(await api.balanceTransactions.retrieve(String(fetched.failure_balance_transaction))).toMatchObject({
      amount: 6_000,
      type: "refund_failure",
    });
    expect(await api.charges.retrieve(charge.id)).toMatchObject({ amount_refunded: 4_000, refunded: false });
    expect(clocked.balance("usd")).toBe(6_000);
    expect(() => clocked.setRefundStatus(second.id, "succeeded")).toThrow(/final/);
    // The charge lists its refunds, newest first.
    expect(clocked.charge(charge.id).refunds?.data.map((refund) => refund.id)).toEqual([second.id, first.id]);
    // A refund canceled at once.
    expect(clocked.refundCharge(charge.id, { amount: 100, status: "canceled" })).toMatchObject({
      status: "canceled",
      failure_reason: "merchant_request",
    });
    expect(clocked.charge(charge.id).amount_refunded).toBe(4_000);
  });

  it("lists a charge's refunds (GET /v1/refunds?charge=), newest first, with every status; an unknown charge is 404", async () => {
    const charge = clocked.createCharge({ amount: 10_000, currency: "usd" });
    const other = clocked.createCharge({ amount: 5_000, currency: "usd" });
    const first = clocked.refundCharge(charge.id, { amount: 1_000 });
    const second = clocked.refundCharge(charge.id, { amount: 2_000, status: "pending" });
    clocked.refundCharge(other.id, { amount: 500 });
    clocked.setRefundStatus(second.id, "failed");
    const listed = await api.refunds.list({ charge: charge.id, limit: 100 });
    expect(listed.data.map((r) => [r.id, r.amount, r.status])).toEqual([
      [second.id, 2_000, "failed"],
      [first.id, 1_000, "succeeded"],
    ]);
    expect(listed.has_more).toBe(false);
    // Paged with the SDK's auto-pagination.
    const paged: string[] = [];
    for await (const refund of api.refunds.list({ charge: charge.id, limit: 1 })) paged.push(refund.id);
    expect(paged).toEqual([second.id, first.id]);
    expect((await api.refunds.list({ payment_intent: String(other.payment_intent) })).data).toHaveLength(1);
    await expect(api.refunds.list({ charge: "ch_missing" })).rejects.toMatchObject({ statusCode: 404, code: "resource_missing" });
  });

  it("disputes: a chargeback withdraws the amount, winning gives it back; an inquiry moves no money", async () => {
    const charge = clocked.createCharge({ amount: 10_000, currency: "eur" });
    const dispute = clocked.disputeCharge(charge.id);
    expect(await api.disputes.retrieve(dispute.id)).toMatchObject({
      object: "dispute",
      amount: 10_000,
      currency: "eur",
      charge: charge.id,
      payment_intent: charge.payment_intent,
      status: "needs_response",
      reason: "fraudulent",
      balance_transactions: [{ object: "balance_transaction", amount: -10_800, currency: "usd", exchange_rate: 1.08, source: dispute.id }],
    });
    expect(clocked.charge(charge.id).disputed).toBe(true);
    expect(clocked.balance("usd")).toBe(0);
    expect(clocked.setDisputeStatus(dispute.id, "under_review").balance_transactions).toHaveLength(1);
    const won = clocked.setDisputeStatus(dispute.id, "won");
    expect(won.balance_transactions.map((transaction) => transaction.amount)).toEqual([-10_800, 10_800]);
    expect(clocked.balance("usd")).toBe(10_800);

    const inquiry = clocked.disputeCharge(charge.id, { amount: 500, reason: "product_not_received", status: "warning_needs_response" });
    expect(inquiry).toMatchObject({ status: "warning_needs_response", reason: "product_not_received", balance_transactions: [] });
    expect(clocked.balance("usd")).toBe(10_800);
    const lost = clocked.disputeCharge(charge.id, { amount: 1_000 });
    clocked.setDisputeStatus(lost.id, "lost");
    expect(clocked.balance("usd")).toBe(10_800 - 1_080);
  });

  it("connected-account payouts carry the transfers' destination payments; a failed payout returns the money", async () => {
    clocked.setBalance("usd", 100_000);
    const first = await transfer({ amount: 5_000 });
    const second = await transfer({ amount: 3_000 });
    const payout = clocked.payoutAccount("acct_provider", { status: "paid" });
    expect(payout).toMatchObject({ amount: 8_000, currency: "usd", status: "paid", automatic: true, failure_code: null });

    const asAccount = { stripeAccount: "acct_provider" };
    expect(await api.payouts.retrieve(payout.id, {}, asAccount)).toEqual(payout);
    const carried = await api.balanceTransactions.list({ payout: payout.id, limit: 2 }, asAccount).autoPagingToArray({ limit: 10 });
    expect(carried.map((transaction) => [transaction.type, transaction.source, transaction.amount])).toEqual([
      ["payout", payout.id, -8_000],
      ["payment", second.destination_payment, 3_000],
      ["payment", first.destination_payment, 5_000],
    ]);
    expect(
      clocked
        .requests()
        .filter((request) => request.path === "/v1/balance_transactions")
        .map((request) => request.account),
    ).toEqual(["acct_provider", "acct_provider"]);
    // The payout is the account's, not the platform's.
    await expect(api.payouts.retrieve(payout.id)).rejects.toMatchObject({ statusCode: 404, code: "resource_missing" });
    await expect(api.balanceTransactions.list({ payout: payout.id })).rejects.toMatchObject({ statusCode: 404, param: "payout" });
    await expect(api.balance.retrieve({}, { stripeAccount: "acct_nobody" })).rejects.toBeInstanceOf(errors.StripePermissionError);
    expect(clocked.balances("usd", "acct_provider")).toEqual({ available: 0, pending: 0 });

    const third = await transfer({ amount: 2_000 });
    const failing = clocked.payoutAccount("acct_provider", { status: "in_transit" });
    expect(failing.amount).toBe(2_000);
    const failed = clocked.setPayoutStatus("acct_provider", failing.id, "failed", "account_closed");
    expect(await api.payouts.retrieve(failing.id, {}, asAccount)).toMatchObject({
      status: "failed",
      failure_code: "account_closed",
      failure_message: "The bank account has been closed.",
      failure_balance_transaction: failed.failure_balance_transaction,
    });
    expect(clocked.balances("usd", "acct_provider")).toEqual({ available: 2_000, pending: 0 });
    const listed = await api.balanceTransactions.list({ payout: failing.id }, asAccount);
    expect(listed.data.map((transaction) => transaction.source)).toEqual([failing.id, third.destination_payment]);
  });

  it("a payout carries only what has become available", async () => {
    const charge = clocked.createCharge({ amount: 10_000, currency: "usd", availableOn: new Date(current + DAY_MS) });
    const made = await transfer({ amount: 4_000, source_transaction: charge.id });
    expect(() => clocked.payoutAccount("acct_provider")).toThrow(/nothing available/);
    current += DAY_MS;
    const payout = clocked.payoutAccount("acct_provider");
    expect(payout).toMatchObject({ amount: 4_000, status: "pending" });
    const listed = await api.balanceTransactions.list({ payout: payout.id }, { stripeAccount: "acct_provider" });
    expect(listed.data.map((transaction) => transaction.source)).toEqual([payout.id, made.destination_payment]);
  });
});

describe("events", () => {
  const base = Math.floor(Date.UTC(2026, 10, 2) / 1000);

  function seed() {
    const types = [
      ["charge.refunded", "charge"],
      ["charge.dispute.created", "dispute"],
      ["transfer.reversed", "transfer"],
      ["charge.dispute.closed", "dispute"],
      ["payout.paid", "payout"],
    ] as const;
    const platform = types.map(([type, objectType], index) =>
      fake.addEvent(stripeEvent({ type, object: fixture<object>(objectType), created: base + index * 60 })),
    );
    const connected = fake.addEvent(
      stripeEvent({ type: "payout.failed", object: fixture("payout"), created: base + 30, account: provider }),
    );
    return { platform, connected };
  }

  it("lists the platform's events newest first, filtered by type, types[] and created, and pages through them", async () => {
    const { platform, connected } = seed();
    const all = await stripe.events.list();
    expect(all.data.map((event) => event.id)).toEqual([...platform].reverse().map((event) => event.id));
    expect(all.data.every((event) => event.account === undefined)).toBe(true);
    expect(all.data.map((event) => event.id)).not.toContain(connected.id);

    const disputes = await stripe.events.list({ type: "charge.dispute.*" });
    expect(disputes.data.map((event) => event.type)).toEqual(["charge.dispute.closed", "charge.dispute.created"]);
    const some = await stripe.events.list({ types: ["charge.refunded", "payout.paid"] });
    expect(some.data.map((event) => event.type)).toEqual(["payout.paid", "charge.refunded"]);
    const window = await stripe.events.list({ created: { gte: base + 60, lt: base + 180 } });
    expect(window.data.map((event) => event.created - base)).toEqual([120, 60]);
    expect((await stripe.events.list({ created: { gt: base + 180 } })).data).toHaveLength(1);
    expect((await stripe.events.list({ created: { lte: base } })).data).toHaveLength(1);

    const first = await stripe.events.list({ limit: 2 });
    expect(first.has_more).toBe(true);
    const next = await stripe.events.list({ limit: 2, starting_after: first.data.at(-1)!.id });
    expect(next.data.map((event) => event.created - base)).toEqual([120, 60]);
    const previous = await stripe.events.list({ limit: 2, ending_before: next.data[0]!.id });
    expect(previous.data.map((event) => event.id)).toEqual(first.data.map((event) => event.id));
    expect(await stripe.events.list({ limit: 2 }).autoPagingToArray({ limit: 100 })).toHaveLength(5);
    expect(await stripe.events.retrieve(platform[0]!.id)).toEqual(platform[0]);
  });

  it("with Stripe-Account, lists that connected account's events (which carry account)", async () => {
    const { connected } = seed();
    const listed = await stripe.events.list({}, { stripeAccount: provider });
    expect(listed.data).toEqual([connected]);
    expect(listed.data[0]).toMatchObject({ account: provider, type: "payout.failed" });
    await expect(stripe.events.retrieve(connected.id)).rejects.toMatchObject({ statusCode: 404 });
  });

  it("refuses type with types[], more than 20 types, and a limit outside 1–100", async () => {
    await expect(stripe.events.list({ type: "charge.refunded", types: ["payout.paid"] })).rejects.toMatchObject({ statusCode: 400 });
    await expect(stripe.events.list({ types: Array.from({ length: 21 }, (_, n) => `type.${n}`) })).rejects.toMatchObject({
      param: "types",
    });
    await expect(stripe.events.list({ limit: 101 })).rejects.toMatchObject({ param: "limit" });
    await expect(stripe.events.list({ limit: 0 })).rejects.toMatchObject({ param: "limit" });
  });
});

describe("rate limit", () => {
  it("answers 429 rate_limit beyond perSecond POSTs in any second, without processing or storing them", async () => {
    fake.setRateLimit({ perSecond: 10, method: "POST" });
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, n) => createTransfer(stripe, transferInput(`pay_${n}`, { amount: 100 }))),
    );
    const refused = results.filter((result) => result.status === "rejected").map((result) => result.reason as Stripe.errors.StripeError);
    expect(refused.length).toBeGreaterThan(0);
    for (const error of refused) {
      expect(error).toBeInstanceOf(errors.StripeRateLimitError);
      expect(error).toMatchObject({ statusCode: 429, code: "rate_limit", rawType: "invalid_request_error" });
      expect(error.headers?.["stripe-rate-limited-reason"]).toBe("global-rate");
      expect(classifyStripeError(error)).toMatchObject({ reason: "rate_limit", outcomeUnknown: false });
    }
    const posts = postsTo("/v1/transfers");
    expect(posts.filter((request) => request.rateLimited).every((request) => request.status === 429)).toBe(true);
    const processed = (request: { method: string; status: number | null }) => request.method === "POST" && request.status !== 429;
    expect(fake.transfers()).toHaveLength(posts.filter(processed).length);
    expect(fake.maxPerSecond(processed)).toBeLessThanOrEqual(10);
    // The 30 POSTs did arrive faster than 10 a second, so the limit was exercised.
    expect(fake.maxPerSecond((request) => request.method === "POST")).toBeGreaterThan(10);
    // GETs are not limited by a POST limit.
    await expect(retrieveAccountReadiness(stripe, provider)).resolves.toMatchObject({ transfersActive: true });

    // A refused request was not stored under its key: the same key executes later.
    const refusedKey = posts.find((request) => request.rateLimited)!.idempotencyKey!;
    const payoutId = refusedKey.split(":")[1]!;
    fake.setRateLimit(null);
    const retried = await createTransfer(stripe, transferInput(payoutId, { amount: 100 }));
    expect(retried.lastResponse.headers["idempotent-replayed"]).toBeUndefined();
  });

  it("logs when each request arrived and for which account", async () => {
    const before = performance.timeOrigin + performance.now();
    await stripe.balance.retrieve({}, { stripeAccount: provider });
    await stripe.balance.retrieve();
    const after = performance.timeOrigin + performance.now();
    const [asAccount, asPlatform] = fake.requests();
    expect(asAccount).toMatchObject({ path: "/v1/balance", account: provider, status: 200, rateLimited: false });
    expect(asPlatform).toMatchObject({ account: null });
    expect(asAccount!.receivedAt).toBeGreaterThanOrEqual(before);
    expect(asPlatform!.receivedAt).toBeLessThanOrEqual(after);
    expect(fake.maxPerSecond()).toBe(2);
  });
});

describe("balance()", () => {
  it("is 0 in a currency the platform holds none of, and a transfer in it is refused", async () => {
    expect(fake.balance("gbp")).toBe(0);
    expect(fake.balances("gbp")).toEqual({ available: 0, pending: 0 });
    const error = await failureOf(createTransfer(stripe, transferInput("pay_1", { currency: "GBP" })));
    expect(error).toMatchObject({ statusCode: 400, code: "balance_insufficient" });
  });
});
