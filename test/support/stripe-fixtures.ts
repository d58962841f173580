// Stripe objects and event bodies built from Stripe's own published fixtures, and a checker that
// tells whether an object has Stripe's shape.
//
// `stripe-fixtures3.json` is `openapi/fixtures3.json` of Stripe's public stripe/openapi repository
// (MIT licence), copied unchanged: one example of every API object under `resources.<type>`.
// Every object the fake Stripe returns, and every event body a test builds, starts as a clone of the
// fixture of its type with fields overridden, so it has Stripe's keys and no invented ones.
//
// No app imports on purpose (the fake Stripe uses this, and Playwright can start the fake).
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";

import Stripe from "stripe";

type TJson = Record<string, unknown>;

/** The Stripe API version the installed SDK pins (stripe-node 23.1.0: "2026-10-28.endive"). */
export const PINNED_STRIPE_API_VERSION: string = Stripe.API_VERSION;

const RESOURCES: Record<string, TJson> = (
  JSON.parse(readFileSync(new URL("./stripe-fixtures3.json", import.meta.url), "utf8")) as { resources: Record<string, TJson> }
).resources;

/**
 * Keys Stripe documents on an object but leaves out of the fixture because they are present only
 * in some states. Keyed by type, or by `type.dotted.path` for a nested object. Nothing else may be
 * added to a fixture's keys.
 */
export const DOCUMENTED_EXTRA_KEYS: Readonly<Record<string, readonly string[]>> = {
  // "each event for a connected account also contains a top-level `account` property"
  event: ["account"],
  // Sent on `*.updated` events: the changed fields' earlier values.
  "event.data": ["previous_attributes"],
  // "Only present when the refund status is failed or canceled" (Refund.failure_reason /
  // failure_balance_transaction in the SDK's types are optional for that reason).
  refund: ["failure_reason", "failure_balance_transaction"],
};

/** A Stripe list envelope, as it appears in the transfer fixture (`reversals`). */
const LIST_ENVELOPE: TJson = { object: "list", data: [], has_more: false, url: "/v1/…" };

/** What the payout engine (and its tests) read from each object; `shapeProblems(…, { mustHave })`. */
export const FIELDS_OUR_CODE_READS = {
  transfer: [
    "id",
    "amount",
    "currency",
    "destination",
    "destination_payment",
    "metadata",
    "transfer_group",
    "source_transaction",
    "reversals.data",
    "reversals.has_more",
    "balance_transaction",
  ],
  charge: [
    "id",
    "amount",
    "amount_captured",
    "amount_refunded",
    "currency",
    "payment_intent",
    "metadata",
    "transfer_group",
    "balance_transaction",
    "status",
  ],
  balance_transaction: ["id", "amount", "currency", "exchange_rate", "available_on", "status", "source"],
  payment_intent: ["id", "latest_charge", "metadata", "transfer_group"],
  dispute: ["id", "amount", "currency", "charge", "payment_intent", "status", "reason", "created"],
  /** failure_reason is present only on failed or canceled refunds. */
  refund: ["id", "amount", "currency", "charge", "payment_intent", "status", "failure_reason"],
  payout: ["id", "amount", "currency", "status", "failure_code", "failure_message", "arrival_date", "automatic"],
  account: ["id", "payouts_enabled", "capabilities.transfers", "requirements.disabled_reason"],
  /** account is present only on a connected account's events. */
  event: ["id", "type", "created", "api_version", "account", "data.object"],
  transfer_reversal: ["id", "amount", "currency", "transfer", "metadata", "created"],
  balance: ["available", "pending"],
} as const satisfies Record<string, readonly string[]>;

/** The SDK type of each fixture type the fake Stripe returns. */
export type TStripeObjectTypes = {
  account: Stripe.Account;
  balance: Stripe.Balance;
  balance_transaction: Stripe.BalanceTransaction;
  charge: Stripe.Charge;
  dispute: Stripe.Dispute;
  event: Stripe.Event;
  payment_intent: Stripe.PaymentIntent;
  payout: Stripe.Payout;
  refund: Stripe.Refund;
  transfer: Stripe.Transfer;
  transfer_reversal: Stripe.TransferReversal;
};

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A Stripe-looking id: `stripeId("ch_")` → `ch_` and 24 letters or digits. */
export function stripeId(prefix: string, length = 24): string {
  let id = prefix;
  for (const byte of randomBytes(length)) id += ALPHABET[byte % ALPHABET.length];
  return id;
}

function isPlainObject(value: unknown): value is TJson {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The fixture types (`charge`, `transfer`, …). */
export function isFixtureType(type: string): boolean {
  return Object.hasOwn(RESOURCES, type);
}

/** A deep clone of Stripe's fixture of `type`; throws for a type Stripe has no fixture of. */
export function fixture<T = TJson>(type: string): T {
  const resource = RESOURCES[type];
  if (resource === undefined) throw new Error(`Stripe has no fixture of type "${type}".`);
  return structuredClone(resource) as T;
}

function extraKeys(path: string): readonly string[] {
  return DOCUMENTED_EXTRA_KEYS[path] ?? [];
}

/** The fixture an expanded or embedded object (one with a known `object`) is checked against. */
function embeddedType(value: TJson): string | null {
  return typeof value.object === "string" && isFixtureType(value.object) ? value.object : null;
}

/**
 * `fixture(type)` with `overrides` applied (each replaces the fixture's value). Throws when an
 * override names a key the fixture does not have (or a documented extra key), and, for a plain
 * object that replaces a non-empty plain object of the fixture, when one of its keys is unknown.
 * An empty object in the fixture (metadata) is free-form; an expanded object (one whose `object`
 * is a known type) is not checked here.
 */
export function stripeObject<K extends keyof TStripeObjectTypes>(type: K, overrides: TJson): TStripeObjectTypes[K];
export function stripeObject<T = TJson>(type: string, overrides: TJson): T;
export function stripeObject(type: string, overrides: TJson): unknown {
  const base = fixture<TJson>(type);
  for (const [key, value] of Object.entries(overrides)) {
    if (!Object.hasOwn(base, key) && !extraKeys(type).includes(key)) {
      throw new Error(`stripeObject("${type}"): "${key}" is not a key of Stripe's ${type} fixture.`);
    }
    const current = base[key];
    if (isPlainObject(value) && isPlainObject(current) && Object.keys(current).length > 0 && embeddedType(value) === null) {
      for (const inner of Object.keys(value)) {
        if (!Object.hasOwn(current, inner) && !extraKeys(`${type}.${key}`).includes(inner)) {
          throw new Error(`stripeObject("${type}"): "${key}.${inner}" is not a key of Stripe's ${type} fixture.`);
        }
      }
    }
    base[key] = value;
  }
  return base;
}

export type TStripeEventInput = {
  type: string;
  /** The event's data.object: a Stripe object whose own `object` names its fixture type. */
  object: object;
  id?: string;
  /** Unix seconds; now by default. */
  created?: number;
  /** The connected account the event comes from (Connect events only). */
  account?: string;
  apiVersion?: string;
  previousAttributes?: Record<string, unknown>;
  /** Deliveries still outstanding; 1 by default (an event being delivered). */
  pendingWebhooks?: number;
  request?: { id: string | null; idempotency_key: string | null };
  livemode?: boolean;
};

/**
 * An event body as Stripe sends it, from the `event` fixture: `data.object` is `object` (checked
 * against the fixture of its `object` type: throws on an invented key), `account` only when given.
 */
export function stripeEvent(input: TStripeEventInput): Stripe.Event {
  const object = input.object as TJson;
  const objectType = typeof object.object === "string" ? object.object : null;
  if (objectType === null || !isFixtureType(objectType)) {
    throw new Error(`stripeEvent: data.object must be a Stripe object with a known "object" (got ${String(objectType)}).`);
  }
  const problems = shapeProblems(object, objectType);
  if (problems.length > 0) throw new Error(`stripeEvent: data.object is not shaped like Stripe's ${objectType}:\n${problems.join("\n")}`);
  return stripeObject("event", {
    id: input.id ?? stripeId("evt_"),
    api_version: input.apiVersion ?? PINNED_STRIPE_API_VERSION,
    created: input.created ?? Math.floor(Date.now() / 1000),
    data: { object, ...(input.previousAttributes ? { previous_attributes: input.previousAttributes } : {}) },
    livemode: input.livemode ?? false,
    pending_webhooks: input.pendingWebhooks ?? 1,
    request: input.request ?? { id: null, idempotency_key: null },
    type: input.type,
    ...(input.account === undefined ? {} : { account: input.account }),
  });
}

function templateOf(type: string): TJson | null {
  if (type === "list") return LIST_ENVELOPE;
  return RESOURCES[type] ?? null;
}

function collectProblems(actual: unknown, template: unknown, path: string, extrasPath: string, problems: string[]): void {
  if (Array.isArray(actual)) {
    const itemTemplate = Array.isArray(template) ? template[0] : undefined;
    actual.forEach((item, index) => {
      if (!isPlainObject(item)) return;
      const itemType = embeddedType(item);
      if (itemType !== null) collectProblems(item, RESOURCES[itemType], `${path}[${index}]`, itemType, problems);
      else if (item.object === "list") collectProblems(item, LIST_ENVELOPE, `${path}[${index}]`, "list", problems);
      else if (isPlainObject(itemTemplate)) collectProblems(item, itemTemplate, `${path}[${index}]`, extrasPath, problems);
    });
    return;
  }
  if (!isPlainObject(actual)) return;
  // An expanded or embedded object (event data.object, expanded balance_transaction) has the shape of its own type.
  const ownType = embeddedType(actual);
  let reference: unknown = template;
  let extras = extrasPath;
  if (ownType !== null && path !== "" && (!isPlainObject(template) || template.object !== ownType)) {
    reference = RESOURCES[ownType];
    extras = ownType;
  } else if (actual.object === "list") {
    reference = { ...LIST_ENVELOPE, ...(isPlainObject(template) ? template : {}) };
  }
  if (!isPlainObject(reference) || Object.keys(reference).length === 0) return; // free-form (metadata) or unknown
  for (const [key, value] of Object.entries(actual)) {
    const where = path === "" ? key : `${path}.${key}`;
    if (!Object.hasOwn(reference, key)) {
      if (!extraKeys(extras).includes(key)) problems.push(`${where}: not a key of Stripe's ${extras.split(".")[0]} fixture`);
      continue;
    }
    collectProblems(value, reference[key], where, `${extras}.${key}`, problems);
  }
}

function hasPath(actual: unknown, dotted: string): boolean {
  let current: unknown = actual;
  for (const part of dotted.split(".")) {
    if (!isPlainObject(current) || !Object.hasOwn(current, part)) return false;
    current = current[part];
  }
  return true;
}

/**
 * What is wrong with `actual` as a Stripe object of `type` (or "list" for a list envelope), as
 * human-readable lines; empty when nothing is. Reports every key the fixture does not have
 * (recursively into plain objects the fixture also has; an empty fixture object such as metadata
 * is free-form; an object with a known `object` is checked against that type, so expanded fields
 * and event data.object are too; items of arrays against their `object` type or the fixture's
 * first item), a mismatched `object`, and every `mustHave` dotted path that is missing.
 */
export function shapeProblems(actual: unknown, type: string, options: { mustHave?: readonly string[] } = {}): string[] {
  const template = templateOf(type);
  if (template === null) return [`Stripe has no fixture of type "${type}"`];
  if (!isPlainObject(actual)) return [`not an object: ${JSON.stringify(actual)}`];
  const problems: string[] = [];
  if (actual.object !== template.object)
    problems.push(`object: ${JSON.stringify(actual.object)}, expected ${JSON.stringify(template.object)}`);
  collectProblems(actual, template, "", type, problems);
  for (const dotted of options.mustHave ?? []) {
    if (!hasPath(actual, dotted)) problems.push(`${dotted}: missing (our code reads it)`);
  }
  return problems;
}
