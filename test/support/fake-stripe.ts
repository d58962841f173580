// A local fake of the parts of Stripe's API a payout engine on "separate charges and transfers"
// depends on, for the REAL `stripe` SDK to talk to over HTTP (the machine has no internet; never
// mock the stripe module).
//
//   const fake = await startFakeStripe({ now: () => clock.now() });
//   const stripe = fake.stripe();            // a real client pointed at the fake
//   fake.addAccount({ id: "acct_provider" });
//   fake.setBalance("usd", 100_000);         // or fake.createCharge({ amount, currency, availableOn })
//   fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "timeout" });
//
// Every object it returns is a clone of Stripe's published fixture of its type (stripe-fixtures.ts)
// with fields overridden, so it has Stripe's keys and no invented ones.
//
// Money: the platform and every connected account have a ledger of balance transactions. Each has
// `available_on`; it is "pending" until the fake's clock (`now`) reaches it, then "available".
// GET /v1/balance sums them per currency. A transfer without `source_transaction` is drawn from the
// platform's AVAILABLE balance in its currency (else 400 balance_insufficient, stored under the
// idempotency key); with `source_transaction: ch_…` it succeeds while the charge is pending, leaves
// with the charge's availability, is capped by the charge's balance-transaction amount (the sum of
// its transfers; refunds and reversals do not change the cap) and must be in that balance
// transaction's currency. A charge in a currency the platform does not settle in is converted to the
// default currency (`exchange_rate` set on its balance transaction).
//
// Implemented: POST/GET /v1/transfers, GET /v1/transfers/:id, POST/GET /v1/transfers/:id/reversals,
// GET /v1/accounts/:id, GET /v1/charges/:id, GET /v1/payment_intents/:id, GET /v1/refunds(/:id),
// GET /v1/disputes/:id, GET /v1/balance, GET /v1/balance_transactions(/:id) (filters payout, source,
// type, currency), GET /v1/payouts(/:id), GET /v1/events(/:id). GETs honour `expand[]` on id fields.
// The `Stripe-Account` header makes a request act as that connected account: its balance, balance
// transactions, payouts and events; the platform's objects are "No such …" there, and the
// account's are "No such …" without it.
//
// Idempotency follows Stripe: a POST with a key already used (per account) replays the stored
// status and body (header `Idempotent-Replayed: true`) and changes nothing; the same key with other
// parameters or on another endpoint is a 400 idempotency_error; a key whose first request is still
// running gets a 409. Like Stripe, only requests that got past parameter validation are stored
// (successes and errors such as balance_insufficient or an unusable destination); injected faults
// other than drop_response / timeout+process, and rate-limited requests, are never stored.
//
// Not modelled: Stripe's own events (the fake creates none; store them with addEvent), fees other
// than a charge's `fee`, dispute fees, currency conversion on connected accounts (their balance
// transactions are in the transfer's currency), POST `expand[]`.
//
// No app imports on purpose: Playwright's global setup can start it too.
import http from "node:http";
import type { AddressInfo } from "node:net";

import Stripe from "stripe";

import { fixture, stripeId, stripeObject } from "./stripe-fixtures";

export type TFakeFault =
  /** Answer with this status (5xx: type api_error), without processing the request. */
  | { kind: "status"; status: number; shouldRetry?: boolean }
  /** 429 rate_limit; `Stripe-Should-Retry` is sent only when shouldRetry is given. */
  | { kind: "rate_limit"; shouldRetry?: boolean }
  /** 429 with code lock_timeout and `Stripe-Should-Retry: true`, as Stripe answers. */
  | { kind: "lock_timeout" }
  /** Never answer (until the client gives up or stop()). With process: true, do the work first. */
  | { kind: "timeout"; process?: boolean }
  /** Process the request for real (e.g. create the transfer), then destroy the socket unanswered. */
  | { kind: "drop_response" }
  /** Process after `ms`; meanwhile the idempotency key counts as in flight (concurrent reuse: 409). */
  | { kind: "delay"; ms: number }
  /** Answer with this Stripe error, without processing the request. */
  | {
      kind: "error";
      status: number;
      type: string;
      message: string;
      code?: string;
      param?: string;
      shouldRetry?: boolean;
    };

export type TFakeFaultMatch = {
  /** Any method when omitted. */
  method?: string;
  /** Exact pathname (no query string), or a RegExp tested against the pathname. */
  path: string | RegExp;
};

export type TFakeRequest = {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Form body of a POST (nested keys kept flat: "metadata[payoutId]"). */
  params: Record<string, string>;
  idempotencyKey: string | null;
  /** The `Stripe-Account` header (a request made as that connected account), or null. */
  account: string | null;
  /** When the request arrived: ms of real time (performance.timeOrigin + performance.now()). */
  receivedAt: number;
  /** null while pending, or when no answer was sent (timeout, drop_response). */
  status: number | null;
  replayed: boolean;
  fault: TFakeFault["kind"] | null;
  /** Refused by setRateLimit's limiter (429 rate_limit) without being processed. */
  rateLimited: boolean;
};

export type TFakeAccountInput = {
  id?: string;
  payoutsEnabled?: boolean;
  transfersCapability?: "active" | "inactive" | "pending";
  country?: string;
  defaultCurrency?: string;
};

export type TFakeStripeOptions = {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** The fake's clock for `created`, `available_on` and pending/available; real time by default. */
  now?: () => Date;
  /** The platform's default (settlement) currency; "usd" by default. */
  defaultCurrency?: string;
  /** Currencies the platform's balance holds (charges in them are not converted); [defaultCurrency] by default. */
  settlementCurrencies?: string[];
  /** Presentment currency → default currency rates (minor units × rate); 1.1 for any other currency. */
  exchangeRates?: Record<string, number>;
};

export type TFakeClientOptions = {
  apiKey?: string;
  /** Default 0, so tests see each failure; the SDK still retries a closed connection once. */
  maxNetworkRetries?: number;
  /** Milliseconds; the SDK's default is 80 s. */
  timeout?: number;
};

export type TFakeChargeInput = {
  /** Minor units of `currency` (the presentment currency). */
  amount: number;
  currency: string;
  metadata?: Record<string, string>;
  transferGroup?: string | null;
  /** Also create a succeeded PaymentIntent whose latest_charge is the charge; true by default. */
  paymentIntent?: boolean;
  /** When the charge's funds become available; now by default (available at once). */
  availableOn?: Date;
  /** Stripe's fee, in the settlement currency; 0 by default. */
  fee?: number;
  id?: string;
};

export type TFakeRefundStatus = "pending" | "requires_action" | "succeeded" | "failed" | "canceled";

export type TFakePayoutStatus = "pending" | "in_transit" | "paid" | "failed" | "canceled";

export type TFakeRateLimit = {
  /** Requests admitted in any sliding 1000 ms window of real time. */
  perSecond: number;
  /** Only requests with this method count and are limited; all when omitted. */
  method?: string;
};

export type TFakeBalances = { available: number; pending: number };

export type TFakeStripe = {
  port: number;
  host: string;
  /** http://127.0.0.1:<port> */
  url: string;
  /** A real Stripe client pointed at the fake. */
  stripe(options?: TFakeClientOptions): Stripe;
  /** The STRIPE_API_* variables that point lib/env at the fake. */
  env(): { STRIPE_API_HOST: string; STRIPE_API_PORT: string; STRIPE_API_PROTOCOL: "http" };
  stop(): Promise<void>;
  /** Forget all accounts, money, objects, events, idempotency keys, logged requests, faults and the rate limit. */
  reset(): void;
  /** Adds (or replaces) a connected account; returns its id. */
  addAccount(input?: TFakeAccountInput): string;
  /** Makes the platform's available balance in a currency exactly `amount` (an adjustment balance transaction). */
  setBalance(currency: string, amount: number): void;
  /** The platform's available balance in a currency (0 when it holds none). */
  balance(currency: string): number;
  /** Available and pending balance of the platform, or of a connected account. */
  balances(currency: string, account?: string): TFakeBalances;
  /** Every transfer created, oldest first. */
  transfers(): Stripe.Transfer[];
  /** Every reversal created, oldest first. */
  reversals(): Stripe.TransferReversal[];
  /** A succeeded charge on the platform (and its PaymentIntent), with its balance transaction. */
  createCharge(input: TFakeChargeInput): Stripe.Charge;
  charge(id: string): Stripe.Charge;
  paymentIntent(id: string): Stripe.PaymentIntent;
  balanceTransaction(id: string): Stripe.BalanceTransaction;
  /** Refunds (part of) a charge: the whole remaining amount by default, status "succeeded" by default. */
  refundCharge(chargeId: string, input?: { amount?: number; status?: TFakeRefundStatus }): Stripe.Refund;
  /** Moves a refund on; failing or cancelling it gives the money back. */
  setRefundStatus(refundId: string, status: "succeeded" | "failed" | "canceled", failureReason?: string): Stripe.Refund;
  /** Disputes a charge (the whole amount, "fraudulent", "needs_response" by default). */
  disputeCharge(chargeId: string, input?: { amount?: number; reason?: string; status?: Stripe.Dispute.Status }): Stripe.Dispute;
  setDisputeStatus(disputeId: string, status: Stripe.Dispute.Status): Stripe.Dispute;
  dispute(id: string): Stripe.Dispute;
  /**
   * An automatic payout of a connected account carrying its available balance transactions not yet
   * paid out (in `currency`: by default the one currency they are in, else the account's default).
   */
  payoutAccount(
    accountId: string,
    input?: { status?: TFakePayoutStatus; failureCode?: string; amount?: number; currency?: string },
  ): Stripe.Payout;
  setPayoutStatus(accountId: string, payoutId: string, status: TFakePayoutStatus, failureCode?: string): Stripe.Payout;
  /** Stores an event as Stripe would have created it (for GET /v1/events); `account` set = a connected account's. */
  addEvent(event: Stripe.Event | Record<string, unknown>): Stripe.Event;
  /** Answer 429 rate_limit to requests beyond `perSecond` in any 1000 ms of real time; null turns it off. */
  setRateLimit(limit: TFakeRateLimit | null): void;
  /** The most matching requests that arrived within any 1000 ms sliding window (of receivedAt). */
  maxPerSecond(filter?: (request: TFakeRequest) => boolean): number;
  /** Every request received, including faulted ones, oldest first. */
  requests(): TFakeRequest[];
  failNext(match: TFakeFaultMatch, fault: TFakeFault, times?: number): void;
  /** Forgets the faults not yet used (the simulation's faults heal). */
  clearFaults(): void;
};

type TJson = Record<string, unknown>;
type TResult = { status: number; body: TJson; headers?: Record<string, string>; store: boolean };
type TAccount = Required<Omit<TFakeAccountInput, "id">> & { id: string; created: number; bankAccount: string };
type TStoredResponse = { endpoint: string; fingerprint: string; status: number; body: TJson; requestId: string };
type TQueuedFault = { match: TFakeFaultMatch; fault: TFakeFault; remaining: number };
/** null: the platform; otherwise the connected account whose object it is. */
type TScope = string | null;
type TRequest = {
  method: string;
  path: string;
  params: Record<string, string>;
  query: Record<string, string>;
  /** Every query pair, for repeated keys (`types[]`, `expand[]`). */
  queryList: [string, string][];
  scope: TScope;
};
/** A balance transaction as stored: `status` is derived from `available_on` and the clock when shown. */
type TBalanceTransaction = Stripe.BalanceTransaction & { available_on: number };
type TRefundState = { refund: Stripe.Refund; settledAmount: number };
type TDisputeState = { dispute: Stripe.Dispute; withdrawn: number; reinstated: boolean; balanceTransactions: string[] };

const INSUFFICIENT_FUNDS =
  "You have insufficient available funds in your Stripe account. Try adding funds directly to your available balance by creating Charges using the 4000000000000077 test card. See: https://stripe.com/docs/testing#available-balance";

const PAYOUT_FAILURE_MESSAGES: Record<string, string> = {
  account_closed: "The bank account has been closed.",
  account_frozen: "The bank account has been frozen.",
  bank_account_restricted: "The bank account has restrictions on either the type or number of payouts allowed.",
  could_not_process: "The bank could not process this payout.",
  insufficient_funds: "Your Stripe account has insufficient funds to cover the payout.",
  invalid_account_number: "The routing number seems correct, but the account number is invalid.",
  no_account: "The bank account details on file are probably incorrect. No bank account could be located with those details.",
};

const DAY = 86_400;

function clone<T>(value: T): T {
  return structuredClone(value);
}

function isPlainObject(value: unknown): value is TJson {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stripeError(status: number, error: { type: string; message: string; code?: string; param?: string }, store: boolean): TResult {
  const body: TJson = {
    ...(error.code ? { code: error.code, doc_url: `https://stripe.com/docs/error-codes/${error.code.replaceAll("_", "-")}` } : {}),
    message: error.message,
    ...(error.param ? { param: error.param } : {}),
    request_log_url: "https://dashboard.stripe.com/test/logs",
    type: error.type,
  };
  return { status, body: { error: body }, store };
}

function invalid(message: string, extra: { code?: string; param?: string; status?: number; store?: boolean } = {}): TResult {
  return stripeError(
    extra.status ?? 400,
    { type: "invalid_request_error", message, code: extra.code, param: extra.param },
    extra.store ?? false,
  );
}

function noSuch(kind: string, id: string, param = "id", store = false): TResult {
  return invalid(`No such ${kind}: '${id}'`, { status: 404, code: "resource_missing", param, store });
}

function missingParam(param: string): TResult {
  return invalid(`Missing required param: ${param}.`, { code: "parameter_missing", param });
}

function unknownParams(params: Record<string, string>, allowed: RegExp): TResult | null {
  const unknown = Object.keys(params).find((key) => !allowed.test(key));
  if (unknown === undefined) return null;
  const name = unknown.replace(/\[.*$/, "");
  return invalid(`Received unknown parameter: ${name}`, { code: "parameter_unknown", param: name });
}

/** A positive integer amount, or the error to answer with. */
function parseAmount(raw: string | undefined): number | TResult | undefined {
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw)) return invalid(`Invalid integer: ${raw}`, { code: "parameter_invalid_integer", param: "amount" });
  const amount = Number(raw);
  if (!Number.isSafeInteger(amount)) return invalid(`Invalid integer: ${raw}`, { code: "parameter_invalid_integer", param: "amount" });
  if (amount < 1) {
    return invalid("This value must be greater than or equal to 1.", { code: "parameter_invalid_integer", param: "amount" });
  }
  return amount;
}

function metadataOf(params: Record<string, string>): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    const match = /^metadata\[(.+)\]$/.exec(key);
    if (match?.[1] !== undefined && value !== "") metadata[match[1]] = value;
  }
  return metadata;
}

/** The values of an array parameter, sent as `name[]=…` or `name[0]=…`. */
function arrayParam(pairs: [string, string][], name: string): string[] {
  const pattern = new RegExp(`^${name}\\[\\d*\\]$`);
  return pairs.filter(([key]) => pattern.test(key)).map(([, value]) => value);
}

function matches(match: TFakeFaultMatch, method: string, path: string): boolean {
  if (match.method !== undefined && match.method.toUpperCase() !== method) return false;
  return typeof match.path === "string" ? match.path === path : match.path.test(path);
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

function realTimeMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The largest number of `times` (ascending) within any window shorter than 1000 ms. */
function densestSecond(times: number[]): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < times.length; end += 1) {
    while (times[end]! - times[start]! >= 1000) start += 1;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

export async function startFakeStripe(options: TFakeStripeOptions = {}): Promise<TFakeStripe> {
  const host = options.host ?? "127.0.0.1";
  const clock = options.now ?? (() => new Date());
  const defaultCurrency = (options.defaultCurrency ?? "usd").toLowerCase();
  const settlementCurrencies = (options.settlementCurrencies ?? [defaultCurrency]).map((currency) => currency.toLowerCase());
  if (!settlementCurrencies.includes(defaultCurrency)) settlementCurrencies.unshift(defaultCurrency);
  const exchangeRates = Object.fromEntries(
    Object.entries(options.exchangeRates ?? {}).map(([currency, rate]) => [currency.toLowerCase(), rate]),
  );

  let accounts = new Map<string, TAccount>();
  let transfers: Stripe.Transfer[] = [];
  let reversals: Stripe.TransferReversal[] = [];
  let charges = new Map<string, Stripe.Charge>();
  let paymentIntents = new Map<string, Stripe.PaymentIntent>();
  let refunds = new Map<string, TRefundState>();
  let disputes = new Map<string, TDisputeState>();
  let balanceTransactions = new Map<string, TBalanceTransaction>();
  let payouts = new Map<string, Stripe.Payout>();
  /** Which ledger (platform or connected account) each object belongs to. */
  let scopes = new Map<string, TScope>();
  /** Balance transaction id → the payout that carried it. */
  let paidOutBy = new Map<string, string>();
  let events: Stripe.Event[] = [];
  let stored = new Map<string, TStoredResponse>();
  let inFlight = new Set<string>();
  let log: TFakeRequest[] = [];
  let faults: TQueuedFault[] = [];
  let rateLimit: TFakeRateLimit | null = null;
  /** receivedAt of the requests the limiter admitted within the last second. */
  let admitted: number[] = [];
  const held = new Set<http.ServerResponse>();
  const sleeping = new Set<NodeJS.Timeout>();

  const nowSeconds = (): number => Math.floor(clock().getTime() / 1000);

  function takeFault(method: string, path: string, answerStored: boolean): TFakeFault | null {
    const index = faults.findIndex((queued) => matches(queued.match, method, path));
    const queued = faults[index];
    if (queued === undefined) return null;
    // A request whose idempotency key already has Stripe's answer gets that answer again: an error
    // Stripe would raise while processing (a lack of funds) cannot happen to it. The fault waits
    // for the next request. (5xx, 429 and lost connections can, and are taken.)
    if (answerStored && queued.fault.kind === "error") return null;
    queued.remaining -= 1;
    if (queued.remaining <= 0) faults.splice(index, 1);
    return queued.fault;
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        sleeping.delete(timer);
        resolve();
      }, ms);
      sleeping.add(timer);
    });
  }

  function owned<T>(map: Map<string, T>, id: string, scope: TScope): T | undefined {
    const found = map.get(id);
    return found !== undefined && scopes.get(id) === scope ? found : undefined;
  }

  // ---- ledger -------------------------------------------------------------------------

  function addBalanceTransaction(
    scope: TScope,
    input: {
      amount: number;
      currency: string;
      type: Stripe.BalanceTransaction.Type;
      reportingCategory: string;
      source: string | null;
      availableOn: number;
      fee?: number;
      exchangeRate?: number | null;
      description?: string | null;
    },
  ): TBalanceTransaction {
    const fee = input.fee ?? 0;
    const id = stripeId("txn_");
    const transaction = stripeObject("balance_transaction", {
      id,
      amount: input.amount,
      available_on: input.availableOn,
      created: nowSeconds(),
      currency: input.currency,
      description: input.description ?? null,
      exchange_rate: input.exchangeRate ?? null,
      fee,
      fee_details:
        fee === 0
          ? []
          : [{ amount: fee, application: null, currency: input.currency, description: "Stripe processing fees", type: "stripe_fee" }],
      net: input.amount - fee,
      reporting_category: input.reportingCategory,
      source: input.source,
      status: "pending",
      type: input.type,
      balance_type: "payments",
    }) as TBalanceTransaction;
    balanceTransactions.set(id, transaction);
    scopes.set(id, scope);
    return transaction;
  }

  function transactionJson(transaction: TBalanceTransaction): Stripe.BalanceTransaction {
    return { ...clone(transaction), status: transaction.available_on <= nowSeconds() ? "available" : "pending" };
  }

  function balancesOf(scope: TScope, currency: string): TFakeBalances {
    const now = nowSeconds();
    const totals = { available: 0, pending: 0 };
    for (const transaction of balanceTransactions.values()) {
      if (scopes.get(transaction.id) !== scope || transaction.currency !== currency) continue;
      if (transaction.available_on <= now) totals.available += transaction.net;
      else totals.pending += transaction.net;
    }
    return totals;
  }

  /** A presentment amount in the platform's settlement currency (converted when it does not settle in it). */
  function settle(amount: number, currency: string): { amount: number; currency: string; exchangeRate: number | null } {
    if (settlementCurrencies.includes(currency)) return { amount, currency, exchangeRate: null };
    const exchangeRate = exchangeRates[currency] ?? 1.1;
    return { amount: Math.round(amount * exchangeRate), currency: defaultCurrency, exchangeRate };
  }

  function balanceJson(scope: TScope): Stripe.Balance {
    const home = scope === null ? defaultCurrency : (accounts.get(scope)?.defaultCurrency ?? defaultCurrency);
    const currencies = new Set(scope === null ? settlementCurrencies : [home]);
    for (const transaction of balanceTransactions.values()) {
      if (scopes.get(transaction.id) === scope) currencies.add(transaction.currency);
    }
    const ordered = [home, ...[...currencies].filter((currency) => currency !== home).sort()];
    const totals = ordered.map((currency) => ({ currency, ...balancesOf(scope, currency) }));
    return stripeObject("balance", {
      available: totals.map(({ currency, available }) => ({ amount: available, currency, source_types: { card: available } })),
      connect_reserved: [{ amount: 0, currency: home }],
      livemode: false,
      pending: totals.map(({ currency, pending }) => ({ amount: pending, currency, source_types: { card: pending } })),
    });
  }

  // ---- transfers ----------------------------------------------------------------------

  function findTransfer(id: string, scope: TScope): Stripe.Transfer | undefined {
    return transfers.find((transfer) => transfer.id === id && scopes.get(transfer.id) === scope);
  }

  function createTransfer(params: Record<string, string>, scope: TScope): TResult {
    const unknown = unknownParams(
      params,
      /^(amount|currency|destination|transfer_group|description|source_transaction|source_type|metadata\[.+\]|expand\[\d*\])$/,
    );
    if (unknown) return unknown;
    const amount = parseAmount(params.amount);
    if (amount === undefined) return missingParam("amount");
    if (typeof amount !== "number") return amount;
    const currency = params.currency;
    if (currency === undefined) return missingParam("currency");
    if (!/^[a-zA-Z]{3}$/.test(currency)) return invalid(`Invalid currency: ${currency}.`, { param: "currency" });
    const destination = params.destination;
    if (destination === undefined) return missingParam("destination");

    // From here on the request "executes": Stripe stores the answer under the idempotency key.
    const account = accounts.get(destination);
    if (account === undefined) {
      return invalid(`No such destination: '${destination}'`, { code: "resource_missing", param: "destination", store: true });
    }
    if (account.transfersCapability !== "active") {
      return invalid(
        "Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments",
        { code: "insufficient_capabilities_for_transfer", param: "destination", store: true },
      );
    }
    const lower = currency.toLowerCase();
    const now = nowSeconds();
    let availableOn = now;
    const sourceId = params.source_transaction;
    if (sourceId !== undefined) {
      // Only a charge id: a PaymentIntent (pi_…) is "No such charge" too.
      const charge = owned(charges, sourceId, scope);
      const chargeTransaction =
        charge && typeof charge.balance_transaction === "string" ? balanceTransactions.get(charge.balance_transaction) : undefined;
      if (charge === undefined || chargeTransaction === undefined) {
        return invalid(`No such charge: '${sourceId}'`, { code: "resource_missing", param: "source_transaction", store: true });
      }
      if (chargeTransaction.currency !== lower) {
        return invalid(
          `The currency of source_transaction's balance transaction (${chargeTransaction.currency}) must be the same as the transfer currency (${lower}).`,
          { param: "source_transaction", store: true },
        );
      }
      const transferred = transfers
        .filter((transfer) => transfer.source_transaction === charge.id)
        .reduce((sum, transfer) => sum + transfer.amount, 0);
      const remaining = chargeTransaction.amount - transferred;
      if (amount > remaining) {
        return invalid(
          `The transfer amount exceeds the amount remaining on the source transaction ${charge.id} (${remaining} remaining).`,
          { param: "source_transaction", store: true },
        );
      }
      // The transfer's funds leave with the charge's: pending until the charge is available.
      availableOn = Math.max(chargeTransaction.available_on, now);
    } else if (balancesOf(scope, lower).available < amount) {
      return invalid(INSUFFICIENT_FUNDS, { code: "balance_insufficient", store: true });
    }

    const id = stripeId("tr_");
    const destinationPayment = stripeId("py_", 14);
    const outgoing = addBalanceTransaction(scope, {
      amount: -amount,
      currency: lower,
      type: "transfer",
      reportingCategory: "transfer",
      source: id,
      availableOn,
    });
    addBalanceTransaction(destination, {
      amount,
      currency: lower,
      type: "payment",
      reportingCategory: "charge",
      source: destinationPayment,
      availableOn,
    });
    const transfer = stripeObject("transfer", {
      id,
      amount,
      amount_reversed: 0,
      balance_transaction: outgoing.id,
      created: now,
      currency: lower,
      description: params.description ?? null,
      destination,
      destination_payment: destinationPayment,
      livemode: false,
      metadata: metadataOf(params),
      reversals: { object: "list", data: [], has_more: false, url: `/v1/transfers/${id}/reversals` },
      reversed: false,
      source_transaction: sourceId ?? null,
      source_type: params.source_type ?? "card",
      transfer_group: params.transfer_group ?? null,
    });
    transfers.push(transfer);
    scopes.set(id, scope);
    return { status: 200, body: transferJson(transfer), store: true };
  }

  function transferJson(transfer: Stripe.Transfer): TJson {
    return clone(transfer) as unknown as TJson;
  }

  /** Stripe's cursor pagination over a newest-first list. */
  function page<T extends { id: string }>(
    items: T[],
    query: Record<string, string>,
    url: string,
    notFound: (id: string) => TResult,
    toJson: (item: T) => unknown,
  ): TResult {
    const limit = query.limit === undefined ? 10 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      return invalid("This value must be between 1 and 100.", { param: "limit", code: "parameter_invalid_integer" });
    }
    let start = 0;
    let end = items.length;
    if (query.starting_after !== undefined) {
      const index = items.findIndex((item) => item.id === query.starting_after);
      if (index === -1) return notFound(query.starting_after);
      start = index + 1;
    } else if (query.ending_before !== undefined) {
      const index = items.findIndex((item) => item.id === query.ending_before);
      if (index === -1) return notFound(query.ending_before);
      end = index;
      start = Math.max(0, end - limit);
    }
    const data = items.slice(start, Math.min(end, start + limit)).map(toJson);
    const hasMore = query.ending_before !== undefined ? start > 0 : start + limit < end;
    return { status: 200, body: { object: "list", data, has_more: hasMore, url }, store: false };
  }

  function listTransfers(query: Record<string, string>, scope: TScope): TResult {
    const newestFirst = [...transfers]
      .reverse()
      .filter((transfer) => scopes.get(transfer.id) === scope)
      .filter((transfer) => query.transfer_group === undefined || transfer.transfer_group === query.transfer_group)
      .filter((transfer) => query.destination === undefined || transfer.destination === query.destination);
    return page(newestFirst, query, "/v1/transfers", (id) => noSuch("transfer", id), transferJson);
  }

  function createReversal(transferId: string, params: Record<string, string>, scope: TScope): TResult {
    const unknown = unknownParams(params, /^(amount|description|refund_application_fee|metadata\[.+\]|expand\[\d*\])$/);
    if (unknown) return unknown;
    const transfer = findTransfer(transferId, scope);
    if (transfer === undefined) return noSuch("transfer", transferId, "id", true);
    const parsed = parseAmount(params.amount);
    if (parsed !== undefined && typeof parsed !== "number") return parsed;
    const remaining = transfer.amount - transfer.amount_reversed;
    if (remaining === 0) {
      return invalid(`Transfer ${transfer.id} has already been fully reversed.`, { store: true });
    }
    const amount = parsed ?? remaining;
    if (amount > remaining) {
      return invalid(
        `Reversal amount (${amount}) is greater than the unreversed amount remaining on transfer ${transfer.id} (${remaining}).`,
        { param: "amount", store: true },
      );
    }
    const id = stripeId("trr_");
    const paymentRefund = stripeId("pyr_");
    const original = typeof transfer.balance_transaction === "string" ? balanceTransactions.get(transfer.balance_transaction) : undefined;
    const availableOn = Math.max(original?.available_on ?? 0, nowSeconds());
    // The money comes back to the platform and leaves the connected account.
    const incoming = addBalanceTransaction(scope, {
      amount,
      currency: transfer.currency,
      type: "transfer_refund",
      reportingCategory: "transfer_reversal",
      source: id,
      availableOn,
    });
    addBalanceTransaction(typeof transfer.destination === "string" ? transfer.destination : null, {
      amount: -amount,
      currency: transfer.currency,
      type: "payment_refund",
      reportingCategory: "refund",
      source: paymentRefund,
      availableOn,
    });
    const reversal = stripeObject("transfer_reversal", {
      id,
      amount,
      balance_transaction: incoming.id,
      created: nowSeconds(),
      currency: transfer.currency,
      destination_payment_refund: paymentRefund,
      metadata: metadataOf(params),
      source_refund: null,
      transfer: transfer.id,
    });
    transfer.amount_reversed += amount;
    transfer.reversed = transfer.amount_reversed === transfer.amount;
    transfer.reversals.data.unshift(reversal);
    reversals.push(reversal);
    scopes.set(id, scope);
    return { status: 200, body: clone(reversal) as unknown as TJson, store: true };
  }

  // ---- charges, refunds, disputes -----------------------------------------------------

  function chargeJson(charge: Stripe.Charge): Stripe.Charge {
    const ofCharge = [...refunds.values()]
      .map((state) => state.refund)
      .filter((refund) => refund.charge === charge.id)
      .reverse()
      .map((refund) => clone(refund));
    return { ...clone(charge), refunds: { object: "list", data: ofCharge, has_more: false, url: `/v1/charges/${charge.id}/refunds` } };
  }

  function createCharge(input: TFakeChargeInput): Stripe.Charge {
    if (!Number.isSafeInteger(input.amount) || input.amount < 1)
      throw new RangeError("A charge amount is a positive integer in minor units.");
    const fee = input.fee ?? 0;
    if (!Number.isSafeInteger(fee) || fee < 0) throw new RangeError("A fee is a non-negative integer in minor units.");
    const id = input.id ?? stripeId("ch_");
    if (charges.has(id)) throw new Error(`Charge ${id} exists already.`);
    const currency = input.currency.toLowerCase();
    const now = nowSeconds();
    const settled = settle(input.amount, currency);
    const transaction = addBalanceTransaction(null, {
      amount: settled.amount,
      currency: settled.currency,
      exchangeRate: settled.exchangeRate,
      fee,
      type: "charge",
      reportingCategory: "charge",
      source: id,
      availableOn: input.availableOn === undefined ? now : Math.floor(input.availableOn.getTime() / 1000),
    });
    const paymentMethod = stripeId("pm_");
    const metadata = input.metadata ?? {};
    const transferGroup = input.transferGroup ?? null;
    let paymentIntentId: string | null = null;
    if (input.paymentIntent !== false) {
      paymentIntentId = stripeId("pi_");
      const paymentIntent = stripeObject("payment_intent", {
        id: paymentIntentId,
        amount: input.amount,
        amount_capturable: 0,
        amount_received: input.amount,
        canceled_at: null,
        client_secret: `${paymentIntentId}_secret_${stripeId("", 25)}`,
        created: now,
        currency,
        last_payment_error: null,
        latest_charge: id,
        metadata,
        next_action: null,
        payment_method: paymentMethod,
        processing: null,
        status: "succeeded",
        transfer_data: null,
        transfer_group: transferGroup,
      });
      paymentIntents.set(paymentIntentId, paymentIntent);
      scopes.set(paymentIntentId, null);
    }
    const base = fixture<Stripe.Charge>("charge");
    const charge = stripeObject("charge", {
      id,
      amount: input.amount,
      amount_captured: input.amount,
      amount_refunded: 0,
      balance_transaction: transaction.id,
      captured: true,
      created: now,
      currency,
      description: null,
      disputed: false,
      metadata,
      outcome: { ...base.outcome, network_status: "approved_by_network", seller_message: "Payment complete.", type: "authorized" },
      paid: true,
      payment_intent: paymentIntentId,
      payment_method: paymentMethod,
      receipt_url: null,
      refunded: false,
      refunds: { object: "list", data: [], has_more: false, url: `/v1/charges/${id}/refunds` },
      source: null,
      status: "succeeded",
      transfer_data: null,
      transfer_group: transferGroup,
    });
    charges.set(id, charge);
    scopes.set(id, null);
    return chargeJson(charge);
  }

  function chargeOrThrow(id: string): Stripe.Charge {
    const charge = charges.get(id);
    if (charge === undefined) throw new Error(`The fake Stripe has no charge ${id}.`);
    return charge;
  }

  function chargeTransactionOf(charge: Stripe.Charge): TBalanceTransaction {
    const transaction = typeof charge.balance_transaction === "string" ? balanceTransactions.get(charge.balance_transaction) : undefined;
    if (transaction === undefined) throw new Error(`Charge ${charge.id} has no balance transaction.`);
    return transaction;
  }

  /** An amount of the charge's currency in its balance transaction's (settlement) currency. */
  function inSettlement(charge: Stripe.Charge, amount: number): { amount: number; currency: string; exchangeRate: number | null } {
    const transaction = chargeTransactionOf(charge);
    const rate = transaction.exchange_rate;
    return { amount: rate === null ? amount : Math.round(amount * rate), currency: transaction.currency, exchangeRate: rate };
  }

  function refundCharge(chargeId: string, input: { amount?: number; status?: TFakeRefundStatus } = {}): Stripe.Refund {
    const charge = chargeOrThrow(chargeId);
    const remaining = charge.amount - charge.amount_refunded;
    const amount = input.amount ?? remaining;
    if (!Number.isSafeInteger(amount) || amount < 1 || amount > remaining) {
      throw new RangeError(`Cannot refund ${amount} of charge ${chargeId}: ${remaining} is left to refund.`);
    }
    const status = input.status ?? "succeeded";
    const id = stripeId("re_");
    const settled = inSettlement(charge, amount);
    // Stripe takes a refund from the balance when it is created, whatever its status.
    const transaction = addBalanceTransaction(null, {
      amount: -settled.amount,
      currency: settled.currency,
      exchangeRate: settled.exchangeRate,
      type: "refund",
      reportingCategory: "refund",
      source: id,
      availableOn: nowSeconds(),
    });
    const refund = stripeObject("refund", {
      id,
      amount,
      balance_transaction: transaction.id,
      charge: chargeId,
      created: nowSeconds(),
      currency: charge.currency,
      metadata: {},
      payment_intent: charge.payment_intent,
      reason: null,
      status: status === "failed" || status === "canceled" ? "pending" : status,
    });
    refunds.set(id, { refund, settledAmount: settled.amount });
    scopes.set(id, null);
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded === charge.amount;
    if (status === "failed" || status === "canceled") return setRefundStatus(id, status);
    return clone(refund);
  }

  function setRefundStatus(refundId: string, status: "succeeded" | "failed" | "canceled", failureReason?: string): Stripe.Refund {
    const state = refunds.get(refundId);
    if (state === undefined) throw new Error(`The fake Stripe has no refund ${refundId}.`);
    const { refund } = state;
    if (refund.status === "failed" || refund.status === "canceled") {
      throw new Error(`Refund ${refundId} is ${refund.status} already; that is final.`);
    }
    if (status === "succeeded") {
      refund.status = "succeeded";
      return clone(refund);
    }
    // A failed or canceled refund gives the money back: to the balance, and to the charge.
    const charge = chargeOrThrow(String(refund.charge));
    const transaction = chargeTransactionOf(charge);
    const back = addBalanceTransaction(null, {
      amount: state.settledAmount,
      currency: transaction.currency,
      exchangeRate: transaction.exchange_rate,
      type: "refund_failure",
      reportingCategory: "refund_failure",
      source: refundId,
      availableOn: nowSeconds(),
    });
    refund.status = status;
    refund.failure_reason = failureReason ?? (status === "canceled" ? "merchant_request" : "unknown");
    refund.failure_balance_transaction = back.id;
    charge.amount_refunded -= refund.amount;
    charge.refunded = charge.amount_refunded === charge.amount;
    return clone(refund);
  }

  function disputeJson(state: TDisputeState): Stripe.Dispute {
    return {
      ...clone(state.dispute),
      balance_transactions: state.balanceTransactions.map((id) => transactionJson(balanceTransactions.get(id)!)),
    };
  }

  function isInquiry(status: string): boolean {
    return status.startsWith("warning_");
  }

  /** A chargeback (not an inquiry) takes the disputed amount from the platform's balance, once. */
  function withdrawFor(state: TDisputeState): void {
    if (state.withdrawn > 0 || isInquiry(state.dispute.status)) return;
    const charge = chargeOrThrow(String(state.dispute.charge));
    const settled = inSettlement(charge, state.dispute.amount);
    const transaction = addBalanceTransaction(null, {
      amount: -settled.amount,
      currency: settled.currency,
      exchangeRate: settled.exchangeRate,
      type: "adjustment",
      reportingCategory: "dispute",
      source: state.dispute.id,
      availableOn: nowSeconds(),
      description: `Chargeback withdrawal for ${charge.id}`,
    });
    state.withdrawn = settled.amount;
    state.balanceTransactions.push(transaction.id);
  }

  function disputeCharge(
    chargeId: string,
    input: { amount?: number; reason?: string; status?: Stripe.Dispute.Status } = {},
  ): Stripe.Dispute {
    const charge = chargeOrThrow(chargeId);
    const amount = input.amount ?? charge.amount;
    if (!Number.isSafeInteger(amount) || amount < 1 || amount > charge.amount) {
      throw new RangeError(`Cannot dispute ${amount} of charge ${chargeId} (${charge.amount}).`);
    }
    const status = input.status ?? "needs_response";
    const id = stripeId("dp_");
    const now = nowSeconds();
    const base = fixture<Stripe.Dispute>("dispute");
    const dispute = stripeObject("dispute", {
      id,
      amount,
      balance_transactions: [],
      charge: chargeId,
      created: now,
      currency: charge.currency,
      enhanced_eligibility_types: [],
      evidence_details: { ...base.evidence_details, due_by: now + 7 * DAY },
      is_charge_refundable: isInquiry(status),
      metadata: {},
      payment_intent: charge.payment_intent,
      payment_method_details: {
        ...base.payment_method_details,
        card: { ...base.payment_method_details?.card, case_type: isInquiry(status) ? "inquiry" : "chargeback" },
      },
      reason: input.reason ?? "fraudulent",
      status,
    });
    const state: TDisputeState = { dispute, withdrawn: 0, reinstated: false, balanceTransactions: [] };
    disputes.set(id, state);
    scopes.set(id, null);
    charge.disputed = true;
    withdrawFor(state);
    return disputeJson(state);
  }

  function setDisputeStatus(disputeId: string, status: Stripe.Dispute.Status): Stripe.Dispute {
    const state = disputes.get(disputeId);
    if (state === undefined) throw new Error(`The fake Stripe has no dispute ${disputeId}.`);
    state.dispute.status = status;
    withdrawFor(state);
    if (status === "won" && state.withdrawn > 0 && !state.reinstated) {
      // A won chargeback gives the disputed amount back.
      const charge = chargeOrThrow(String(state.dispute.charge));
      const transaction = chargeTransactionOf(charge);
      const back = addBalanceTransaction(null, {
        amount: state.withdrawn,
        currency: transaction.currency,
        exchangeRate: transaction.exchange_rate,
        type: "adjustment",
        reportingCategory: "dispute_reversal",
        source: disputeId,
        availableOn: nowSeconds(),
        description: `Chargeback reversal for ${charge.id}`,
      });
      state.reinstated = true;
      state.balanceTransactions.push(back.id);
    }
    return disputeJson(state);
  }

  // ---- connected accounts and their payouts -------------------------------------------

  function accountJson(account: TAccount): Stripe.Account {
    const restricted = account.transfersCapability !== "active" || !account.payoutsEnabled;
    return stripeObject("account", {
      id: account.id,
      business_type: "individual",
      capabilities: { transfers: account.transfersCapability },
      charges_enabled: false,
      controller: { type: "application" },
      country: account.country,
      created: account.created,
      default_currency: account.defaultCurrency,
      details_submitted: true,
      email: null,
      external_accounts: { object: "list", data: [], has_more: false, url: `/v1/accounts/${account.id}/external_accounts` },
      metadata: {},
      payouts_enabled: account.payoutsEnabled,
      requirements: {
        alternatives: [],
        current_deadline: null,
        currently_due: restricted ? ["external_account"] : [],
        disabled_reason: restricted ? "requirements.past_due" : null,
        errors: [],
        eventually_due: restricted ? ["external_account"] : [],
        past_due: restricted ? ["external_account"] : [],
        pending_verification: [],
      },
      type: "express",
    });
  }

  function payoutAccount(
    accountId: string,
    input: { status?: TFakePayoutStatus; failureCode?: string; amount?: number; currency?: string } = {},
  ): Stripe.Payout {
    const account = accounts.get(accountId);
    if (account === undefined) throw new Error(`The fake Stripe has no account ${accountId}.`);
    const now = nowSeconds();
    // An automatic payout carries what has become available and was not paid out yet.
    const unpaid = [...balanceTransactions.values()].filter(
      (transaction) => scopes.get(transaction.id) === accountId && !paidOutBy.has(transaction.id) && transaction.available_on <= now,
    );
    const unpaidCurrencies = [...new Set(unpaid.map((transaction) => transaction.currency))];
    const currency = (input.currency ?? (unpaidCurrencies.length === 1 ? unpaidCurrencies[0]! : account.defaultCurrency)).toLowerCase();
    const carried = unpaid.filter((transaction) => transaction.currency === currency);
    const amount = input.amount ?? carried.reduce((sum, transaction) => sum + transaction.net, 0);
    if (!Number.isSafeInteger(amount) || amount < 1) {
      throw new RangeError(`Account ${accountId} has nothing available to pay out in ${currency} (${amount}).`);
    }
    const id = stripeId("po_");
    const transaction = addBalanceTransaction(accountId, {
      amount: -amount,
      currency,
      type: "payout",
      reportingCategory: "payout",
      source: id,
      availableOn: now,
      description: "STRIPE PAYOUT",
    });
    for (const paid of [...carried, transaction]) paidOutBy.set(paid.id, id);
    const payout = stripeObject("payout", {
      id,
      amount,
      application_fee: null,
      application_fee_amount: null,
      arrival_date: now + 2 * DAY,
      automatic: true,
      balance_transaction: transaction.id,
      created: now,
      currency,
      description: "STRIPE PAYOUT",
      destination: account.bankAccount,
      failure_balance_transaction: null,
      failure_code: null,
      failure_message: null,
      livemode: false,
      metadata: {},
      method: "standard",
      original_payout: null,
      reconciliation_status: "completed",
      reversed_by: null,
      source_type: "card",
      statement_descriptor: null,
      status: "pending",
      type: "bank_account",
      trace_id: { status: "pending", value: null },
      payout_method: null,
    });
    payouts.set(id, payout);
    scopes.set(id, accountId);
    if (input.status !== undefined && input.status !== "pending") return setPayoutStatus(accountId, id, input.status, input.failureCode);
    return clone(payout);
  }

  function setPayoutStatus(accountId: string, payoutId: string, status: TFakePayoutStatus, failureCode?: string): Stripe.Payout {
    const payout = owned(payouts, payoutId, accountId);
    if (payout === undefined) throw new Error(`The fake Stripe has no payout ${payoutId} on ${accountId}.`);
    if (payout.status === "failed" || payout.status === "canceled") {
      throw new Error(`Payout ${payoutId} is ${payout.status} already; that is final.`);
    }
    payout.status = status;
    if (status === "in_transit" || status === "paid") {
      payout.trace_id = { status: "supported", value: stripeId("TRACE", 12) };
    }
    if (status === "failed" || status === "canceled") {
      // The money comes back to the account's balance (and goes out with a later payout).
      const back = addBalanceTransaction(accountId, {
        amount: payout.amount,
        currency: payout.currency,
        type: status === "failed" ? "payout_failure" : "payout_cancel",
        reportingCategory: "payout_reversal",
        source: payoutId,
        availableOn: nowSeconds(),
      });
      payout.failure_balance_transaction = back.id;
      if (status === "failed") {
        const code = failureCode ?? "could_not_process";
        payout.failure_code = code;
        payout.failure_message = PAYOUT_FAILURE_MESSAGES[code] ?? `The payout failed (${code}).`;
      }
    }
    return clone(payout);
  }

  // ---- events -------------------------------------------------------------------------

  function addEvent(event: Stripe.Event | TJson): Stripe.Event {
    const copy = clone(event) as Stripe.Event;
    if (copy.object !== "event" || typeof copy.id !== "string" || typeof copy.type !== "string" || typeof copy.created !== "number") {
      throw new Error("addEvent: an event has object 'event', an id, a type and created.");
    }
    if (events.some((existing) => existing.id === copy.id)) throw new Error(`Event ${copy.id} exists already.`);
    events.push(copy);
    scopes.set(copy.id, copy.account ?? null);
    return clone(copy);
  }

  function listEvents(request: TRequest): TResult {
    const { query, queryList, scope } = request;
    const types = arrayParam(queryList, "types");
    if (query.type !== undefined && types.length > 0) {
      return invalid("You may only specify one of these parameters: type, types.", { param: "types" });
    }
    if (types.length > 20) return invalid("You may pass at most 20 values for types.", { param: "types" });
    const patterns = (query.type !== undefined ? [query.type] : types).map(
      (type) => new RegExp(`^${type.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*")}$`),
    );
    const bounds: [string, (created: number, bound: number) => boolean][] = [
      ["gt", (created, bound) => created > bound],
      ["gte", (created, bound) => created >= bound],
      ["lt", (created, bound) => created < bound],
      ["lte", (created, bound) => created <= bound],
    ];
    const checks: ((created: number) => boolean)[] = [];
    if (query.created !== undefined) {
      if (!/^\d+$/.test(query.created))
        return invalid(`Invalid integer: ${query.created}`, { param: "created", code: "parameter_invalid_integer" });
      const exact = Number(query.created);
      checks.push((created) => created === exact);
    }
    for (const [name, test] of bounds) {
      const raw = query[`created[${name}]`];
      if (raw === undefined) continue;
      if (!/^\d+$/.test(raw)) return invalid(`Invalid integer: ${raw}`, { param: `created[${name}]`, code: "parameter_invalid_integer" });
      checks.push((created) => test(created, Number(raw)));
    }
    const newestFirst = events
      .map((event, index) => ({ event, index }))
      .filter(({ event }) => (event.account ?? null) === scope)
      .filter(({ event }) => patterns.length === 0 || patterns.some((pattern) => pattern.test(event.type)))
      .filter(({ event }) => checks.every((check) => check(event.created)))
      .sort((a, b) => b.event.created - a.event.created || b.index - a.index)
      .map(({ event }) => event);
    return page(newestFirst, query, "/v1/events", (id) => noSuch("event", id, "starting_after"), clone);
  }

  // ---- routing ------------------------------------------------------------------------

  /** The object an id names, as the account `scope` sees it (for expand[]). */
  function resolveId(id: string, scope: TScope): TJson | null {
    const found = (() => {
      if (id.startsWith("ch_")) return owned(charges, id, scope) && chargeJson(charges.get(id)!);
      if (id.startsWith("pi_")) return owned(paymentIntents, id, scope) && clone(paymentIntents.get(id)!);
      if (id.startsWith("txn_")) return owned(balanceTransactions, id, scope) && transactionJson(balanceTransactions.get(id)!);
      if (id.startsWith("re_")) return owned(refunds, id, scope) && clone(refunds.get(id)!.refund);
      if (id.startsWith("dp_")) return owned(disputes, id, scope) && disputeJson(disputes.get(id)!);
      if (id.startsWith("tr_")) {
        const transfer = findTransfer(id, scope);
        return transfer && transferJson(transfer);
      }
      if (id.startsWith("po_")) return owned(payouts, id, scope) && clone(payouts.get(id)!);
      return undefined;
    })();
    return (found as TJson | undefined) ?? null;
  }

  /** Replaces the id fields named by `paths` ("a" or "a.b") with the objects; an error for a path that cannot be expanded. */
  function expand(object: TJson, paths: string[], scope: TScope): TResult | null {
    for (const path of paths) {
      const [head, ...rest] = path.split(".");
      if (head === undefined || !Object.hasOwn(object, head)) {
        return invalid(`This property cannot be expanded (${path}).`, { param: "expand" });
      }
      let value = object[head];
      if (typeof value === "string") {
        const resolved = resolveId(value, scope);
        if (resolved === null) return invalid(`This property cannot be expanded (${path}).`, { param: "expand" });
        object[head] = resolved;
        value = resolved;
      }
      if (rest.length > 0 && isPlainObject(value)) {
        const error = expand(value, [rest.join(".")], scope);
        if (error) return error;
      }
    }
    return null;
  }

  /** A GET's answer with its `expand[]` applied (on each item of a list, for `data.…` paths). */
  function expanded(result: TResult, request: TRequest): TResult {
    const paths = arrayParam(request.queryList, "expand");
    if (paths.length === 0 || result.status !== 200) return result;
    if (result.body.object === "list" && Array.isArray(result.body.data)) {
      const itemPaths = paths.filter((path) => path.startsWith("data.")).map((path) => path.slice("data.".length));
      if (itemPaths.length !== paths.length) return invalid("This property cannot be expanded (expand).", { param: "expand" });
      for (const item of result.body.data as TJson[]) {
        const error = expand(item, itemPaths, request.scope);
        if (error) return error;
      }
      return result;
    }
    return expand(result.body, paths, request.scope) ?? result;
  }

  function found(object: unknown, kind: string, id: string): TResult {
    return object === undefined || object === null ? noSuch(kind, id) : { status: 200, body: object as TJson, store: false };
  }

  function listBalanceTransactions(request: TRequest): TResult {
    const { query, scope } = request;
    if (query.payout !== undefined && owned(payouts, query.payout, scope) === undefined) {
      return noSuch("payout", query.payout, "payout");
    }
    const newestFirst = [...balanceTransactions.values()]
      .filter((transaction) => scopes.get(transaction.id) === scope)
      .filter((transaction) => query.payout === undefined || paidOutBy.get(transaction.id) === query.payout)
      .filter((transaction) => query.source === undefined || transaction.source === query.source)
      .filter((transaction) => query.type === undefined || transaction.type === query.type)
      .filter((transaction) => query.currency === undefined || transaction.currency === query.currency.toLowerCase())
      .reverse();
    return page(
      newestFirst,
      query,
      "/v1/balance_transactions",
      (id) => noSuch("balance_transaction", id, "starting_after"),
      transactionJson,
    );
  }

  /** GET /v1/refunds: newest first, filtered by `charge` or `payment_intent` (an unknown one is "No such …", as at Stripe). */
  function listRefunds(request: TRequest): TResult {
    const { query, scope } = request;
    if (query.charge !== undefined && owned(charges, query.charge, scope) === undefined) return noSuch("charge", query.charge, "charge");
    if (query.payment_intent !== undefined && owned(paymentIntents, query.payment_intent, scope) === undefined) {
      return noSuch("payment_intent", query.payment_intent, "payment_intent");
    }
    const newestFirst = [...refunds.values()]
      .map((state) => state.refund)
      .filter((refund) => scopes.get(refund.id) === scope)
      .filter((refund) => query.charge === undefined || refund.charge === query.charge)
      .filter((refund) => query.payment_intent === undefined || refund.payment_intent === query.payment_intent)
      .reverse();
    return page(newestFirst, query, "/v1/refunds", (id) => noSuch("refund", id, "starting_after"), clone);
  }

  function route(request: TRequest): TResult {
    const { method, path, params, query, scope } = request;
    const segments = path.split("/").filter(Boolean);
    const [version, resource, id, sub] = segments;
    if (version !== "v1") return unrecognized(method, path);
    if (resource === "transfers" && segments.length <= 4) {
      if (id === undefined) {
        if (method === "POST") return createTransfer(params, scope);
        if (method === "GET") return expanded(listTransfers(query, scope), request);
      } else if (sub === undefined && method === "GET") {
        const transfer = findTransfer(id, scope);
        return expanded(transfer ? { status: 200, body: transferJson(transfer), store: false } : noSuch("transfer", id), request);
      } else if (sub === "reversals") {
        if (method === "POST") return createReversal(id, params, scope);
        if (method === "GET") {
          const transfer = findTransfer(id, scope);
          if (transfer === undefined) return noSuch("transfer", id);
          return expanded(
            page(transfer.reversals.data, query, `/v1/transfers/${id}/reversals`, (missing) => noSuch("transfer_reversal", missing), clone),
            request,
          );
        }
      }
    }
    if (method !== "GET") return unrecognized(method, path);
    if (resource === "accounts" && id !== undefined && segments.length === 3) {
      const account = accounts.get(id);
      if (account === undefined || (scope !== null && scope !== id)) return noAccess(id);
      return { status: 200, body: accountJson(account) as unknown as TJson, store: false };
    }
    if (segments.length === 2 && resource === "balance") return { status: 200, body: balanceJson(scope) as unknown as TJson, store: false };
    if (segments.length === 3 && id !== undefined) {
      const answer = (() => {
        switch (resource) {
          case "charges":
            return found(owned(charges, id, scope) && chargeJson(charges.get(id)!), "charge", id);
          case "payment_intents":
            return found(owned(paymentIntents, id, scope) && clone(paymentIntents.get(id)!), "payment_intent", id);
          case "refunds":
            return found(owned(refunds, id, scope) && clone(refunds.get(id)!.refund), "refund", id);
          case "disputes":
            return found(owned(disputes, id, scope) && disputeJson(disputes.get(id)!), "dispute", id);
          case "balance_transactions":
            return found(owned(balanceTransactions, id, scope) && transactionJson(balanceTransactions.get(id)!), "balance_transaction", id);
          case "payouts":
            return found(owned(payouts, id, scope) && clone(payouts.get(id)!), "payout", id);
          case "events": {
            const event = events.find((candidate) => candidate.id === id && (candidate.account ?? null) === scope);
            return found(event && clone(event), "event", id);
          }
          default:
            return null;
        }
      })();
      if (answer) return expanded(answer, request);
    }
    if (segments.length === 2) {
      if (resource === "balance_transactions") return expanded(listBalanceTransactions(request), request);
      if (resource === "events") return expanded(listEvents(request), request);
      if (resource === "refunds") return expanded(listRefunds(request), request);
      if (resource === "payouts") {
        const newestFirst = [...payouts.values()].filter((payout) => scopes.get(payout.id) === scope).reverse();
        return expanded(
          page(newestFirst, query, "/v1/payouts", (missing) => noSuch("payout", missing, "starting_after"), clone),
          request,
        );
      }
    }
    return unrecognized(method, path);
  }

  function unrecognized(method: string, path: string): TResult {
    return invalid(
      `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
      { status: 404 },
    );
  }

  function noAccess(accountId: string): TResult {
    return invalid(
      `The provided key 'sk_test_********fake' does not have access to account '${accountId}' (or that account does not exist). Application access may have been revoked.`,
      { status: 403, code: "account_invalid" },
    );
  }

  // ---- idempotency --------------------------------------------------------------------

  function fingerprint(params: Record<string, string>): string {
    return JSON.stringify(Object.entries(params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  type TAnswer = TResult & { replayed: boolean; requestId: string; originalRequestId?: string };

  function execute(request: TRequest, key: string | null): TAnswer {
    const requestId = stripeId("req_", 14);
    const { method, path, params } = request;
    if (method !== "POST" || key === null) return { ...route(request), replayed: false, requestId };

    // Stripe keeps idempotency keys per account.
    const storeKey = `${request.scope ?? ""} ${key}`;
    const endpoint = `${method} ${path}`;
    const previous = stored.get(storeKey);
    if (previous !== undefined) {
      if (previous.endpoint !== endpoint) {
        return {
          ...stripeError(
            400,
            {
              type: "idempotency_error",
              message: `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${previous.endpoint}' vs '${endpoint}'). Try using a key other than '${key}' if you meant to execute a different request.`,
            },
            false,
          ),
          replayed: false,
          requestId,
        };
      }
      if (previous.fingerprint !== fingerprint(params)) {
        return {
          ...stripeError(
            400,
            {
              type: "idempotency_error",
              message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
            },
            false,
          ),
          replayed: false,
          requestId,
        };
      }
      return {
        status: previous.status,
        body: clone(previous.body),
        store: false,
        replayed: true,
        requestId,
        originalRequestId: previous.requestId,
      };
    }

    const result = route(request);
    if (result.store) {
      stored.set(storeKey, { endpoint, fingerprint: fingerprint(params), status: result.status, body: clone(result.body), requestId });
    }
    return { ...result, replayed: false, requestId };
  }

  function conflict(key: string): TAnswer {
    return {
      ...stripeError(
        409,
        {
          type: "idempotency_error",
          message: `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${key}. Please try again later.`,
        },
        false,
      ),
      replayed: false,
      requestId: stripeId("req_", 14),
    };
  }

  // ---- HTTP ---------------------------------------------------------------------------

  function send(res: http.ServerResponse, entry: TFakeRequest, answer: TAnswer, stripeVersion: string | undefined): void {
    if (res.destroyed || res.writableEnded) return;
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      "Request-Id": answer.requestId,
      ...(stripeVersion ? { "Stripe-Version": stripeVersion } : {}),
      ...(entry.idempotencyKey !== null && entry.method === "POST" ? { "Idempotency-Key": entry.idempotencyKey } : {}),
      ...(answer.replayed ? { "Idempotent-Replayed": "true", "Original-Request": answer.originalRequestId ?? "" } : {}),
      ...(entry.account !== null ? { "Stripe-Account": entry.account } : {}),
      ...answer.headers,
    };
    entry.status = answer.status;
    entry.replayed = answer.replayed;
    res.writeHead(answer.status, headers);
    res.end(JSON.stringify(answer.body));
  }

  function rateLimitedAnswer(headers: Record<string, string>): TAnswer {
    return {
      ...stripeError(
        429,
        {
          type: "invalid_request_error",
          code: "rate_limit",
          message: "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.",
        },
        false,
      ),
      headers,
      replayed: false,
      requestId: stripeId("req_", 14),
    };
  }

  function faultAnswer(fault: TFakeFault): TAnswer | null {
    const requestId = stripeId("req_", 14);
    const retryHeader = (shouldRetry: boolean | undefined): Record<string, string> =>
      shouldRetry === undefined ? {} : { "Stripe-Should-Retry": String(shouldRetry) };
    switch (fault.kind) {
      case "status":
        return {
          ...stripeError(fault.status, { type: "api_error", message: "An unknown error occurred while processing your request." }, false),
          headers: retryHeader(fault.shouldRetry),
          replayed: false,
          requestId,
        };
      case "rate_limit":
        return rateLimitedAnswer(retryHeader(fault.shouldRetry));
      case "lock_timeout":
        return {
          ...stripeError(
            429,
            {
              type: "invalid_request_error",
              code: "lock_timeout",
              message:
                "This object cannot be accessed right now because another API request or Stripe process is currently accessing it. If you see this error intermittently, retry the request. If you see this error frequently and are making multiple concurrent requests to a single object, make your requests serially or at a lower rate.",
            },
            false,
          ),
          headers: retryHeader(true),
          replayed: false,
          requestId,
        };
      case "error":
        return {
          ...stripeError(fault.status, { type: fault.type, message: fault.message, code: fault.code, param: fault.param }, false),
          headers: retryHeader(fault.shouldRetry),
          replayed: false,
          requestId,
        };
      default:
        return null;
    }
  }

  /** Whether the limiter refuses a request arriving now (decided synchronously, in arrival order). */
  function overRateLimit(method: string, receivedAt: number): boolean {
    if (rateLimit === null) return false;
    if (rateLimit.method !== undefined && rateLimit.method.toUpperCase() !== method) return false;
    while (admitted.length > 0 && admitted[0]! <= receivedAt - 1000) admitted.shift();
    if (admitted.length >= rateLimit.perSecond) return true;
    admitted.push(receivedAt);
    return false;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // Everything up to the first await runs as the request arrives, so the limiter sees arrival order.
    const receivedAt = realTimeMs();
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", "http://fake-stripe.local");
    const path = url.pathname;
    const queryList = [...url.searchParams];
    const query = Object.fromEntries(queryList);
    const rawKey = req.headers["idempotency-key"];
    const key = typeof rawKey === "string" && rawKey !== "" ? rawKey : null;
    const rawAccount = req.headers["stripe-account"];
    const account = typeof rawAccount === "string" && rawAccount !== "" ? rawAccount : null;
    const stripeVersion = typeof req.headers["stripe-version"] === "string" ? req.headers["stripe-version"] : undefined;
    const auth = req.headers.authorization;
    const authorized = typeof auth === "string" && /^Bearer (sk|rk)_\w+/.test(auth);
    const limited = authorized && overRateLimit(method, receivedAt);

    const entry: TFakeRequest = {
      method,
      path,
      query,
      params: {},
      idempotencyKey: key,
      account,
      receivedAt,
      status: null,
      replayed: false,
      fault: null,
      rateLimited: limited,
    };
    log.push(entry);
    // Before we answer, "close" means the client hung up (it gave up waiting).
    let clientGone = false;
    res.once("close", () => {
      clientGone = true;
    });

    const body = await readBody(req);
    const params = method === "POST" ? Object.fromEntries(new URLSearchParams(body)) : {};
    entry.params = params;

    if (!authorized) {
      const answer = invalid("Invalid API Key provided.", { status: 401 });
      send(res, entry, { ...answer, replayed: false, requestId: stripeId("req_", 14) }, stripeVersion);
      return;
    }
    if (limited) {
      // Stripe's rate limiters run before anything else (idempotency included): nothing is stored.
      send(res, entry, rateLimitedAnswer({ "Stripe-Rate-Limited-Reason": "global-rate" }), stripeVersion);
      return;
    }

    const fault = takeFault(method, path, method === "POST" && key !== null && stored.has(`${account ?? ""} ${key}`));
    entry.fault = fault?.kind ?? null;
    const ready = fault ? faultAnswer(fault) : null;
    if (ready) {
      send(res, entry, ready, stripeVersion);
      return;
    }

    if (account !== null && !accounts.has(account)) {
      send(res, entry, { ...noAccess(account), replayed: false, requestId: stripeId("req_", 14) }, stripeVersion);
      return;
    }
    const request: TRequest = { method, path, params, query, queryList, scope: account };
    const flightKey = key === null ? null : `${account ?? ""} ${key}`;

    if (flightKey !== null && method === "POST" && inFlight.has(flightKey)) {
      send(res, entry, conflict(key!), stripeVersion);
      return;
    }

    if (fault?.kind === "timeout") {
      if (fault.process) execute(request, key);
      held.add(res);
      res.on("close", () => held.delete(res));
      return;
    }

    if (fault?.kind === "delay") {
      if (flightKey !== null && method === "POST") inFlight.add(flightKey);
      try {
        await sleep(fault.ms);
      } finally {
        if (flightKey !== null) inFlight.delete(flightKey);
      }
      if (clientGone) {
        // The client gave up while we waited; Stripe would still have done the work.
        execute(request, key);
        return;
      }
    }

    const answer = execute(request, key);
    if (fault?.kind === "drop_response") {
      req.socket.destroy();
      return;
    }
    send(res, entry, answer, stripeVersion);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(500, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ error: { type: "api_error", message: `Fake Stripe failed: ${String(error)}` } }));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  function dropHeld(): void {
    for (const res of held) res.destroy();
    held.clear();
  }

  function lookUp<T>(map: Map<string, T>, kind: string, id: string): T {
    const value = map.get(id);
    if (value === undefined) throw new Error(`The fake Stripe has no ${kind} ${id}.`);
    return value;
  }

  return {
    port,
    host,
    url: `http://${host}:${port}`,
    stripe(clientOptions = {}) {
      return new Stripe(clientOptions.apiKey ?? "sk_test_fake", {
        host,
        port,
        protocol: "http",
        maxNetworkRetries: clientOptions.maxNetworkRetries ?? 0,
        ...(clientOptions.timeout === undefined ? {} : { timeout: clientOptions.timeout }),
        telemetry: false,
      });
    },
    env() {
      return { STRIPE_API_HOST: host, STRIPE_API_PORT: String(port), STRIPE_API_PROTOCOL: "http" };
    },
    async stop() {
      dropHeld();
      for (const timer of sleeping) clearTimeout(timer);
      sleeping.clear();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
    reset() {
      dropHeld();
      accounts = new Map();
      transfers = [];
      reversals = [];
      charges = new Map();
      paymentIntents = new Map();
      refunds = new Map();
      disputes = new Map();
      balanceTransactions = new Map();
      payouts = new Map();
      scopes = new Map();
      paidOutBy = new Map();
      events = [];
      stored = new Map();
      inFlight = new Set();
      log = [];
      faults = [];
      rateLimit = null;
      admitted = [];
    },
    addAccount(input = {}) {
      const id = input.id ?? stripeId("acct_", 16);
      accounts.set(id, {
        id,
        payoutsEnabled: input.payoutsEnabled ?? true,
        transfersCapability: input.transfersCapability ?? "active",
        country: input.country ?? "US",
        defaultCurrency: (input.defaultCurrency ?? "usd").toLowerCase(),
        created: nowSeconds(),
        bankAccount: stripeId("ba_"),
      });
      return id;
    },
    setBalance(currency, amount) {
      if (!Number.isSafeInteger(amount) || amount < 0) throw new RangeError("A balance is a non-negative integer in minor units.");
      const lower = currency.toLowerCase();
      const difference = amount - balancesOf(null, lower).available;
      if (difference === 0) return;
      addBalanceTransaction(null, {
        amount: difference,
        currency: lower,
        type: "adjustment",
        reportingCategory: "other_adjustment",
        source: null,
        // Available at once whatever the fake's clock says later (tests move their clock back and forth).
        availableOn: 0,
        description: "Fake Stripe: setBalance",
      });
    },
    balance(currency) {
      return balancesOf(null, currency.toLowerCase()).available;
    },
    balances(currency, account) {
      return balancesOf(account ?? null, currency.toLowerCase());
    },
    transfers() {
      return transfers.map((transfer) => clone(transfer));
    },
    reversals() {
      return reversals.map((reversal) => clone(reversal));
    },
    createCharge,
    charge(id) {
      return chargeJson(lookUp(charges, "charge", id));
    },
    paymentIntent(id) {
      return clone(lookUp(paymentIntents, "payment intent", id));
    },
    balanceTransaction(id) {
      return transactionJson(lookUp(balanceTransactions, "balance transaction", id));
    },
    refundCharge,
    setRefundStatus,
    disputeCharge,
    setDisputeStatus,
    dispute(id) {
      return disputeJson(lookUp(disputes, "dispute", id));
    },
    payoutAccount,
    setPayoutStatus,
    addEvent,
    setRateLimit(limit) {
      if (limit !== null && (!Number.isInteger(limit.perSecond) || limit.perSecond < 1)) {
        throw new RangeError("perSecond must be a positive integer.");
      }
      rateLimit = limit === null ? null : { ...limit };
      admitted = [];
    },
    maxPerSecond(filter = () => true) {
      return densestSecond(
        log
          .filter((entry) => filter(entry))
          .map((entry) => entry.receivedAt)
          .sort((a, b) => a - b),
      );
    },
    requests() {
      return log.map((entry) => clone(entry));
    },
    failNext(match, fault, times = 1) {
      if (!Number.isInteger(times) || times < 1) throw new RangeError("times must be a positive integer.");
      faults.push({ match, fault, remaining: times });
    },
    clearFaults() {
      faults = [];
    },
  };
}
