// A local fake of the parts of Stripe's API the payout engine uses, for the REAL `stripe` SDK
// to talk to over HTTP (the machine has no internet; never mock the stripe module).
//
//   const fake = await startFakeStripe();
//   const stripe = fake.stripe();            // a real client pointed at the fake
//   fake.addAccount({ id: "acct_provider" });
//   fake.failNext({ method: "POST", path: "/v1/transfers" }, { kind: "timeout" });
//
// Implemented: POST/GET /v1/transfers, GET /v1/transfers/:id, POST/GET /v1/transfers/:id/reversals,
// GET /v1/accounts/:id. Idempotency follows Stripe: a POST with a key already used replays the
// stored status and body (header `Idempotent-Replayed: true`) and changes nothing; the same key
// with other parameters or on another endpoint is a 400 idempotency_error; a key whose first
// request is still running gets a 409. Like Stripe, only requests that got past parameter
// validation are stored (successes and errors such as balance_insufficient or an unusable
// destination); injected faults other than drop_response / timeout+process are never stored.
//
// No app imports on purpose: Playwright's global setup can start it too.
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

import Stripe from "stripe";

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
  /** null while pending, or when no answer was sent (timeout, drop_response). */
  status: number | null;
  replayed: boolean;
  fault: TFakeFault["kind"] | null;
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
};

export type TFakeClientOptions = {
  apiKey?: string;
  /** Default 0, so tests see each failure; the SDK still retries a closed connection once. */
  maxNetworkRetries?: number;
  /** Milliseconds; the SDK's default is 80 s. */
  timeout?: number;
};

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
  /** Forget all accounts, balances, transfers, idempotency keys, logged requests and faults. */
  reset(): void;
  /** Adds (or replaces) a connected account; returns its id. */
  addAccount(input?: TFakeAccountInput): string;
  /** Sets the platform's available balance in a currency; transfers in it are then checked against it. */
  setBalance(currency: string, amount: number): void;
  balance(currency: string): number | undefined;
  /** Every transfer created, oldest first. */
  transfers(): Stripe.Transfer[];
  /** Every reversal created, oldest first. */
  reversals(): Stripe.TransferReversal[];
  /** Every request received, including faulted ones, oldest first. */
  requests(): TFakeRequest[];
  failNext(match: TFakeFaultMatch, fault: TFakeFault, times?: number): void;
};

type TJson = Record<string, unknown>;
type TResult = { status: number; body: TJson; headers?: Record<string, string>; store: boolean };
type TAccount = Required<Omit<TFakeAccountInput, "id">> & { id: string; created: number };
type TStoredResponse = { endpoint: string; fingerprint: string; status: number; body: TJson; requestId: string };
type TQueuedFault = { match: TFakeFaultMatch; fault: TFakeFault; remaining: number };

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function randomId(prefix: string, length = 24): string {
  const bytes = randomBytes(length);
  let id = prefix;
  for (const byte of bytes) id += ALPHABET[byte % ALPHABET.length];
  return id;
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function stripeError(
  status: number,
  error: { type: string; message: string; code?: string; param?: string },
  store: boolean,
): TResult {
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

function matches(match: TFakeFaultMatch, method: string, path: string): boolean {
  if (match.method !== undefined && match.method.toUpperCase() !== method) return false;
  return typeof match.path === "string" ? match.path === path : match.path.test(path);
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

export async function startFakeStripe(options: TFakeStripeOptions = {}): Promise<TFakeStripe> {
  const host = options.host ?? "127.0.0.1";

  let accounts = new Map<string, TAccount>();
  let balances = new Map<string, number>();
  let transfers: Stripe.Transfer[] = [];
  let reversals: Stripe.TransferReversal[] = [];
  let stored = new Map<string, TStoredResponse>();
  let inFlight = new Set<string>();
  let log: TFakeRequest[] = [];
  let faults: TQueuedFault[] = [];
  const held = new Set<http.ServerResponse>();
  const sleeping = new Set<NodeJS.Timeout>();

  function takeFault(method: string, path: string): TFakeFault | null {
    const index = faults.findIndex((queued) => matches(queued.match, method, path));
    const queued = faults[index];
    if (queued === undefined) return null;
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

  // ---- resources ----------------------------------------------------------------------

  function findTransfer(id: string): Stripe.Transfer | undefined {
    return transfers.find((transfer) => transfer.id === id);
  }

  function noSuchTransfer(id: string): TResult {
    return invalid(`No such transfer: '${id}'`, { status: 404, code: "resource_missing", param: "id", store: true });
  }

  function createTransfer(params: Record<string, string>): TResult {
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
    const available = balances.get(lower);
    if (available !== undefined && available < amount) {
      return invalid(
        "You have insufficient available funds in your Stripe account. Try adding funds directly to your available balance by creating Charges using the 4000000000000077 test card. See: https://stripe.com/docs/testing#available-balance",
        { code: "balance_insufficient", store: true },
      );
    }
    if (available !== undefined) balances.set(lower, available - amount);

    const id = randomId("tr_");
    const transfer: Stripe.Transfer = {
      id,
      object: "transfer",
      amount,
      amount_reversed: 0,
      balance_transaction: randomId("txn_"),
      created: now(),
      currency: lower,
      description: params.description ?? null,
      destination,
      destination_payment: randomId("py_"),
      livemode: false,
      metadata: metadataOf(params),
      reversals: { object: "list", data: [], has_more: false, url: `/v1/transfers/${id}/reversals` },
      reversed: false,
      source_transaction: params.source_transaction ?? null,
      source_type: params.source_type ?? "card",
      transfer_group: params.transfer_group ?? null,
    };
    transfers.push(transfer);
    return { status: 200, body: transferJson(transfer), store: true };
  }

  function transferJson(transfer: Stripe.Transfer): TJson {
    return { ...clone(transfer), reversals: { ...clone(transfer.reversals), total_count: transfer.reversals.data.length } };
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

  function listTransfers(query: Record<string, string>): TResult {
    const newestFirst = [...transfers]
      .reverse()
      .filter((transfer) => query.transfer_group === undefined || transfer.transfer_group === query.transfer_group)
      .filter((transfer) => query.destination === undefined || transfer.destination === query.destination);
    return page(newestFirst, query, "/v1/transfers", noSuchTransfer, transferJson);
  }

  function createReversal(transferId: string, params: Record<string, string>): TResult {
    const unknown = unknownParams(params, /^(amount|description|refund_application_fee|metadata\[.+\]|expand\[\d*\])$/);
    if (unknown) return unknown;
    const transfer = findTransfer(transferId);
    if (transfer === undefined) return noSuchTransfer(transferId);
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
    const metadata = metadataOf(params);
    const reversal: Stripe.TransferReversal = {
      id: randomId("trr_"),
      object: "transfer_reversal",
      amount,
      balance_transaction: randomId("txn_"),
      created: now(),
      currency: transfer.currency,
      destination_payment_refund: randomId("pyr_"),
      metadata,
      source_refund: null,
      transfer: transfer.id,
    };
    transfer.amount_reversed += amount;
    transfer.reversed = transfer.amount_reversed === transfer.amount;
    transfer.reversals.data.unshift(reversal);
    reversals.push(reversal);
    const available = balances.get(transfer.currency);
    if (available !== undefined) balances.set(transfer.currency, available + amount);
    return { status: 200, body: clone(reversal) as unknown as TJson, store: true };
  }

  function accountJson(account: TAccount): TJson {
    const restricted = account.transfersCapability !== "active" || !account.payoutsEnabled;
    return {
      id: account.id,
      object: "account",
      business_type: "individual",
      capabilities: { transfers: account.transfersCapability },
      charges_enabled: false,
      controller: { type: "application", is_controller: true },
      country: account.country,
      created: account.created,
      default_currency: account.defaultCurrency,
      details_submitted: true,
      email: null,
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
    };
  }

  function route(method: string, path: string, params: Record<string, string>, query: Record<string, string>): TResult {
    const segments = path.split("/").filter(Boolean);
    const [version, resource, id, sub] = segments;
    if (version === "v1" && resource === "transfers" && segments.length <= 4) {
      if (id === undefined) {
        if (method === "POST") return createTransfer(params);
        if (method === "GET") return listTransfers(query);
      } else if (sub === undefined && method === "GET") {
        const transfer = findTransfer(id);
        return transfer ? { status: 200, body: transferJson(transfer), store: false } : noSuchTransfer(id);
      } else if (sub === "reversals") {
        if (method === "POST") return createReversal(id, params);
        if (method === "GET") {
          const transfer = findTransfer(id);
          if (transfer === undefined) return noSuchTransfer(id);
          return page(transfer.reversals.data, query, `/v1/transfers/${id}/reversals`, (missing) =>
            invalid(`No such transfer_reversal: '${missing}'`, { status: 404, code: "resource_missing", param: "id" }),
            clone,
          );
        }
      }
    }
    if (version === "v1" && resource === "accounts" && id !== undefined && segments.length === 3 && method === "GET") {
      const account = accounts.get(id);
      if (account === undefined) {
        return invalid(
          `The provided key 'sk_test_********fake' does not have access to account '${id}' (or that account does not exist). Application access may have been revoked.`,
          { status: 403, code: "account_invalid" },
        );
      }
      return { status: 200, body: accountJson(account), store: false };
    }
    return invalid(
      `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
      { status: 404 },
    );
  }

  // ---- idempotency --------------------------------------------------------------------

  function fingerprint(params: Record<string, string>): string {
    return JSON.stringify(Object.entries(params).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  type TAnswer = TResult & { replayed: boolean; requestId: string; originalRequestId?: string };

  function execute(
    method: string,
    path: string,
    params: Record<string, string>,
    query: Record<string, string>,
    key: string | null,
  ): TAnswer {
    const requestId = randomId("req_", 14);
    if (method !== "POST" || key === null) return { ...route(method, path, params, query), replayed: false, requestId };

    const endpoint = `${method} ${path}`;
    const previous = stored.get(key);
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

    const result = route(method, path, params, query);
    if (result.store) {
      stored.set(key, { endpoint, fingerprint: fingerprint(params), status: result.status, body: clone(result.body), requestId });
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
      requestId: randomId("req_", 14),
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
      ...answer.headers,
    };
    entry.status = answer.status;
    entry.replayed = answer.replayed;
    res.writeHead(answer.status, headers);
    res.end(JSON.stringify(answer.body));
  }

  function faultAnswer(fault: TFakeFault): TAnswer | null {
    const requestId = randomId("req_", 14);
    const retryHeader = (shouldRetry: boolean | undefined): Record<string, string> =>
      shouldRetry === undefined ? {} : { "Stripe-Should-Retry": String(shouldRetry) };
    switch (fault.kind) {
      case "status":
        return {
          ...stripeError(
            fault.status,
            { type: "api_error", message: "An unknown error occurred while processing your request." },
            false,
          ),
          headers: retryHeader(fault.shouldRetry),
          replayed: false,
          requestId,
        };
      case "rate_limit":
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
          headers: retryHeader(fault.shouldRetry),
          replayed: false,
          requestId,
        };
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

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req);
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", "http://fake-stripe.local");
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams);
    const params = method === "POST" ? Object.fromEntries(new URLSearchParams(body)) : {};
    const rawKey = req.headers["idempotency-key"];
    const key = typeof rawKey === "string" && rawKey !== "" ? rawKey : null;
    const stripeVersion = typeof req.headers["stripe-version"] === "string" ? req.headers["stripe-version"] : undefined;

    const entry: TFakeRequest = { method, path, query, params, idempotencyKey: key, status: null, replayed: false, fault: null };
    log.push(entry);
    // Before we answer, "close" means the client hung up (it gave up waiting).
    let clientGone = false;
    res.once("close", () => {
      clientGone = true;
    });

    const auth = req.headers.authorization;
    if (typeof auth !== "string" || !/^Bearer (sk|rk)_\w+/.test(auth)) {
      const answer = invalid("Invalid API Key provided.", { status: 401 });
      send(res, entry, { ...answer, replayed: false, requestId: randomId("req_", 14) }, stripeVersion);
      return;
    }

    const fault = takeFault(method, path);
    entry.fault = fault?.kind ?? null;
    const ready = fault ? faultAnswer(fault) : null;
    if (ready) {
      send(res, entry, ready, stripeVersion);
      return;
    }

    if (key !== null && method === "POST" && inFlight.has(key)) {
      send(res, entry, conflict(key), stripeVersion);
      return;
    }

    if (fault?.kind === "timeout") {
      if (fault.process) execute(method, path, params, query, key);
      held.add(res);
      res.on("close", () => held.delete(res));
      return;
    }

    if (fault?.kind === "delay") {
      if (key !== null && method === "POST") inFlight.add(key);
      try {
        await sleep(fault.ms);
      } finally {
        if (key !== null) inFlight.delete(key);
      }
      if (clientGone) {
        // The client gave up while we waited; Stripe would still have done the work.
        execute(method, path, params, query, key);
        return;
      }
    }

    const answer = execute(method, path, params, query, key);
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
      balances = new Map();
      transfers = [];
      reversals = [];
      stored = new Map();
      inFlight = new Set();
      log = [];
      faults = [];
    },
    addAccount(input = {}) {
      const id = input.id ?? randomId("acct_", 16);
      accounts.set(id, {
        id,
        payoutsEnabled: input.payoutsEnabled ?? true,
        transfersCapability: input.transfersCapability ?? "active",
        country: input.country ?? "US",
        defaultCurrency: input.defaultCurrency ?? "usd",
        created: now(),
      });
      return id;
    },
    setBalance(currency, amount) {
      if (!Number.isSafeInteger(amount) || amount < 0) throw new RangeError("A balance is a non-negative integer in minor units.");
      balances.set(currency.toLowerCase(), amount);
    },
    balance(currency) {
      return balances.get(currency.toLowerCase());
    },
    transfers() {
      return transfers.map((transfer) => clone(transfer));
    },
    reversals() {
      return reversals.map((reversal) => clone(reversal));
    },
    requests() {
      return log.map((entry) => clone(entry));
    },
    failNext(match, fault, times = 1) {
      if (!Number.isInteger(times) || times < 1) throw new RangeError("times must be a positive integer.");
      faults.push({ match, fault, remaining: times });
    },
  };
}
