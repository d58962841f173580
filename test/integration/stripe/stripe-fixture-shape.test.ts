// Every object the fake Stripe returns, fetched through the real SDK, has the shape of Stripe's
// published fixture of its type (no invented keys) and the fields our code reads; every Stripe
// object literal the tests build (event bodies and their data.object) uses only the fixture's keys.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

import type Stripe from "stripe";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startFakeStripe, type TFakeStripe } from "../../support/fake-stripe";
import {
  DOCUMENTED_EXTRA_KEYS,
  FIELDS_OUR_CODE_READS,
  fixture,
  isFixtureType,
  PINNED_STRIPE_API_VERSION,
  shapeProblems,
  stripeEvent,
  stripeObject,
} from "../../support/stripe-fixtures";

type TJson = Record<string, unknown>;
type TReadType = keyof typeof FIELDS_OUR_CODE_READS;

const ACCOUNT = "acct_shape";
const asAccount = { stripeAccount: ACCOUNT };

let fake: TFakeStripe;
let stripe: Stripe;

/** What each kind of object looks like when the SDK fetches it from the fake. */
const fetched: Partial<Record<string, TJson>> = {};
const lists: Partial<Record<string, TJson>> = {};
const LIST_NAMES = [
  "transfers",
  "reversals",
  "platform balance transactions",
  "payout balance transactions",
  "payouts",
  "events",
  "account events",
] as const;

beforeAll(async () => {
  let current = Date.UTC(2026, 10, 2, 12);
  fake = await startFakeStripe({ now: () => new Date(current), exchangeRates: { eur: 1.08 } });
  stripe = fake.stripe();
  fake.addAccount({ id: ACCOUNT });
  fake.addAccount({ id: "acct_restricted", payoutsEnabled: false, transfersCapability: "inactive" });
  fake.setBalance("usd", 1_000_000);

  const charge = fake.createCharge({
    amount: 10_000,
    currency: "eur",
    transferGroup: "booking_1",
    metadata: { bookingId: "bk_1" },
    fee: 320,
  });
  const transfer = await stripe.transfers.create({
    amount: 5_000,
    currency: "usd",
    destination: ACCOUNT,
    source_transaction: charge.id,
    transfer_group: "booking_1",
    metadata: { payoutId: "pay_1" },
  });
  const reversal = await stripe.transfers.createReversal(transfer.id, { amount: 1_000, metadata: { reversalId: "rev_1" } });
  await stripe.transfers.create({ amount: 700, currency: "usd", destination: ACCOUNT });
  const failedRefund = fake.refundCharge(charge.id, { amount: 2_000, status: "pending" });
  fake.setRefundStatus(failedRefund.id, "failed", "declined");
  const refund = fake.refundCharge(charge.id, { amount: 1_000 });
  const dispute = fake.disputeCharge(charge.id, { amount: 3_000 });
  fake.setDisputeStatus(dispute.id, "won");
  const payout = fake.payoutAccount(ACCOUNT, { status: "paid" });
  current += 60_000;
  await stripe.transfers.create({ amount: 300, currency: "usd", destination: ACCOUNT });
  const failedPayout = fake.payoutAccount(ACCOUNT, { status: "failed", failureCode: "account_closed" });
  const platformEvent = fake.addEvent(stripeEvent({ type: "charge.refunded", object: fake.charge(charge.id) }));
  const connectedEvent = fake.addEvent(stripeEvent({ type: "payout.paid", object: payout, account: ACCOUNT }));

  fetched.transfer = (await stripe.transfers.retrieve(transfer.id)) as unknown as TJson;
  fetched.transfer_reversal = reversal as unknown as TJson;
  fetched.account = (await stripe.accounts.retrieve(ACCOUNT)) as unknown as TJson;
  fetched.restricted_account = (await stripe.accounts.retrieve("acct_restricted")) as unknown as TJson;
  fetched.charge = (await stripe.charges.retrieve(charge.id)) as unknown as TJson;
  fetched.expanded_charge = (await stripe.charges.retrieve(charge.id, {
    expand: ["balance_transaction", "payment_intent"],
  })) as unknown as TJson;
  fetched.payment_intent = (await stripe.paymentIntents.retrieve(String(charge.payment_intent))) as unknown as TJson;
  fetched.expanded_payment_intent = (await stripe.paymentIntents.retrieve(String(charge.payment_intent), {
    expand: ["latest_charge.balance_transaction"],
  })) as unknown as TJson;
  fetched.balance = (await stripe.balance.retrieve()) as unknown as TJson;
  fetched.account_balance = (await stripe.balance.retrieve({}, asAccount)) as unknown as TJson;
  fetched.balance_transaction = (await stripe.balanceTransactions.retrieve(String(charge.balance_transaction))) as unknown as TJson;
  fetched.refund = (await stripe.refunds.retrieve(failedRefund.id)) as unknown as TJson;
  fetched.succeeded_refund = (await stripe.refunds.retrieve(refund.id)) as unknown as TJson;
  fetched.dispute = (await stripe.disputes.retrieve(dispute.id)) as unknown as TJson;
  fetched.payout = (await stripe.payouts.retrieve(payout.id, {}, asAccount)) as unknown as TJson;
  fetched.failed_payout = (await stripe.payouts.retrieve(failedPayout.id, {}, asAccount)) as unknown as TJson;
  fetched.event = (await stripe.events.retrieve(connectedEvent.id, {}, asAccount)) as unknown as TJson;
  fetched.platform_event = (await stripe.events.retrieve(platformEvent.id)) as unknown as TJson;

  lists.transfers = (await stripe.transfers.list({ expand: ["data.balance_transaction"] })) as unknown as TJson;
  lists.reversals = (await stripe.transfers.listReversals(transfer.id)) as unknown as TJson;
  lists["platform balance transactions"] = (await stripe.balanceTransactions.list({ limit: 100 })) as unknown as TJson;
  lists["payout balance transactions"] = (await stripe.balanceTransactions.list({ payout: payout.id }, asAccount)) as unknown as TJson;
  lists.payouts = (await stripe.payouts.list({}, asAccount)) as unknown as TJson;
  lists.events = (await stripe.events.list()) as unknown as TJson;
  lists["account events"] = (await stripe.events.list({}, asAccount)) as unknown as TJson;
});

afterAll(async () => {
  await fake.stop();
});

/** The type each fetched object is checked as, and the fields our code reads that it must carry. */
const CASES: [name: string, type: TReadType, mustHave: readonly string[]][] = [
  ["transfer", "transfer", FIELDS_OUR_CODE_READS.transfer],
  ["transfer_reversal", "transfer_reversal", FIELDS_OUR_CODE_READS.transfer_reversal],
  ["account", "account", FIELDS_OUR_CODE_READS.account],
  ["restricted_account", "account", FIELDS_OUR_CODE_READS.account],
  ["charge", "charge", FIELDS_OUR_CODE_READS.charge],
  ["expanded_charge", "charge", FIELDS_OUR_CODE_READS.charge],
  ["payment_intent", "payment_intent", FIELDS_OUR_CODE_READS.payment_intent],
  ["expanded_payment_intent", "payment_intent", FIELDS_OUR_CODE_READS.payment_intent],
  ["balance", "balance", FIELDS_OUR_CODE_READS.balance],
  ["account_balance", "balance", FIELDS_OUR_CODE_READS.balance],
  ["balance_transaction", "balance_transaction", FIELDS_OUR_CODE_READS.balance_transaction],
  // failure_reason is present only on failed or canceled refunds (this one failed).
  ["refund", "refund", FIELDS_OUR_CODE_READS.refund],
  ["succeeded_refund", "refund", FIELDS_OUR_CODE_READS.refund.filter((field) => field !== "failure_reason")],
  ["dispute", "dispute", FIELDS_OUR_CODE_READS.dispute],
  ["payout", "payout", FIELDS_OUR_CODE_READS.payout],
  ["failed_payout", "payout", FIELDS_OUR_CODE_READS.payout],
  // account is present only on a connected account's events (this one is).
  ["event", "event", FIELDS_OUR_CODE_READS.event],
  ["platform_event", "event", FIELDS_OUR_CODE_READS.event.filter((field) => field !== "account")],
];

describe("objects the fake Stripe returns, fetched through the SDK", () => {
  it.each(CASES)("%s has the %s fixture's shape and the fields our code reads", (name, type, mustHave) => {
    const object = fetched[name];
    expect(object, name).toBeDefined();
    expect(shapeProblems(object, type, { mustHave })).toEqual([]);
    // Built from the fixture: exactly its keys (plus a documented key where Stripe adds one).
    const expected = [...Object.keys(fixture<TJson>(type)), ...(DOCUMENTED_EXTRA_KEYS[type] ?? []).filter((key) => key in object!)];
    expect(Object.keys(object!).sort()).toEqual(expected.sort());
  });

  it("expanded fields and nested objects are checked against their own fixtures", () => {
    const charge = fetched.expanded_charge!;
    expect(charge.balance_transaction).toMatchObject({ object: "balance_transaction", currency: "usd", exchange_rate: 1.08 });
    expect(charge.payment_intent).toMatchObject({ object: "payment_intent" });
    const intent = fetched.expanded_payment_intent!;
    expect(intent.latest_charge).toMatchObject({ object: "charge", balance_transaction: { object: "balance_transaction" } });
    expect((fetched.dispute!.balance_transactions as unknown[]).length).toBe(2);
    expect((fetched.transfer!.reversals as { data: unknown[] }).data).toHaveLength(1);
  });

  it.each(LIST_NAMES)("list of %s: a list envelope whose items have their fixture's shape", (name) => {
    const list = lists[name];
    expect(shapeProblems(list, "list", { mustHave: ["object", "data", "has_more", "url"] })).toEqual([]);
    expect((list!.data as unknown[]).length, name).toBeGreaterThan(0);
  });
});

describe("the checker cannot pass vacuously", () => {
  it("reports an invented key, at the top, nested, in an expanded object, in list items and in an event's data.object", () => {
    const transfer = fixture<TJson>("transfer");
    expect(shapeProblems(transfer, "transfer", { mustHave: FIELDS_OUR_CODE_READS.transfer })).toEqual([]);
    expect(shapeProblems({ ...transfer, payout_id: "x" }, "transfer")).toEqual(["payout_id: not a key of Stripe's transfer fixture"]);

    const charge = fixture<TJson>("charge");
    expect(shapeProblems({ ...charge, outcome: { ...(charge.outcome as TJson), score: 1 } }, "charge")).toEqual([
      "outcome.score: not a key of Stripe's charge fixture",
    ]);
    expect(
      shapeProblems({ ...charge, balance_transaction: { ...fixture<TJson>("balance_transaction"), settled: true } }, "charge"),
    ).toEqual(["balance_transaction.settled: not a key of Stripe's balance_transaction fixture"]);
    // metadata is free-form.
    expect(shapeProblems({ ...charge, metadata: { anything: "goes" } }, "charge")).toEqual([]);

    const list = {
      object: "list",
      data: [fixture("refund"), { ...fixture<TJson>("refund"), reversed: true }],
      has_more: false,
      url: "/v1/refunds",
    };
    expect(shapeProblems(list, "list")).toEqual(["data[1].reversed: not a key of Stripe's refund fixture"]);
    expect(shapeProblems({ ...list, data: [], total_count: 2 }, "list")).toEqual(["total_count: not a key of Stripe's list fixture"]);

    const event = { ...fixture<TJson>("event"), data: { object: { ...fixture<TJson>("dispute"), booking: "bk_1" } } };
    expect(shapeProblems(event, "event")).toEqual(["data.object.booking: not a key of Stripe's dispute fixture"]);
    expect(shapeProblems(fixture("balance"), "balance_transaction")).toContain('object: "balance", expected "balance_transaction"');
    expect(shapeProblems({}, "no_such_type")).toEqual(['Stripe has no fixture of type "no_such_type"']);
  });

  it("reports a field our code reads that is missing", () => {
    const { failure_code: _failureCode, ...payout } = fixture<TJson>("payout");
    expect(shapeProblems(payout, "payout", { mustHave: FIELDS_OUR_CODE_READS.payout })).toEqual([
      "failure_code: missing (our code reads it)",
    ]);
    const account = fixture<TJson>("account");
    expect(shapeProblems({ ...account, capabilities: {} }, "account", { mustHave: FIELDS_OUR_CODE_READS.account })).toEqual([
      "capabilities.transfers: missing (our code reads it)",
    ]);
    // A platform event has no account; a connected account's has.
    expect(shapeProblems(fixture("event"), "event", { mustHave: FIELDS_OUR_CODE_READS.event })).toEqual([
      "account: missing (our code reads it)",
    ]);
  });

  it("fixture, stripeObject and stripeEvent refuse what Stripe does not have", () => {
    expect(() => fixture("no_such_type")).toThrow(/no fixture/);
    expect(fixture<TJson>("charge")).not.toBe(fixture<TJson>("charge"));
    expect(() => stripeObject("charge", { booking_id: "bk_1" })).toThrow(/"booking_id" is not a key of Stripe's charge fixture/);
    expect(() => stripeObject("charge", { outcome: { score: 1 } })).toThrow(/"outcome.score"/);
    expect(stripeObject("charge", { metadata: { bookingId: "bk_1" } }).metadata).toEqual({ bookingId: "bk_1" });
    expect(stripeObject("refund", { failure_reason: "declined" })).toMatchObject({ failure_reason: "declined" });
    expect(() => stripeEvent({ type: "charge.refunded", object: { ...fixture<TJson>("charge"), booking: "bk_1" } })).toThrow(
      /booking: not a key/,
    );
    expect(() => stripeEvent({ type: "x", object: { id: "x" } })).toThrow(/known "object"/);
  });

  it("stripeEvent builds Stripe's event body with the SDK's pinned API version", () => {
    expect(PINNED_STRIPE_API_VERSION).toBe("2026-10-28.endive");
    const object = fixture<TJson>("transfer");
    const platform = stripeEvent({ type: "transfer.reversed", object, previousAttributes: { amount_reversed: 0 } });
    expect(platform).toMatchObject({
      object: "event",
      api_version: "2026-10-28.endive",
      type: "transfer.reversed",
      data: { object, previous_attributes: { amount_reversed: 0 } },
    });
    expect(platform.id).toMatch(/^evt_/);
    expect("account" in platform).toBe(false);
    expect(Object.keys(platform).sort()).toEqual(Object.keys(fixture<TJson>("event")).sort());
    expect(shapeProblems(platform, "event", { mustHave: FIELDS_OUR_CODE_READS.event.filter((field) => field !== "account") })).toEqual([]);
    const connected = stripeEvent({
      type: "account.updated",
      object: fixture("account"),
      account: "acct_1",
      created: 1_800_000_000,
      id: "evt_1",
    });
    expect(connected).toMatchObject({ id: "evt_1", account: "acct_1", created: 1_800_000_000 });
    expect(shapeProblems(connected, "event", { mustHave: FIELDS_OUR_CODE_READS.event })).toEqual([]);
  });
});

// ---- Stripe object literals in the tests -------------------------------------------------

/** expectation: an argument of toMatchObject / toEqual / …: a partial object, so it need not have every field. */
type TLiteral = { where: string; type: string; skeleton: TJson; expectation: boolean };

const MATCHERS = new Set(["toMatchObject", "toEqual", "toStrictEqual", "objectContaining", "toContainEqual", "toHaveBeenCalledWith"]);

function isExpectation(literal: ts.Node): boolean {
  let node = literal;
  while (
    ts.isObjectLiteralExpression(node.parent) ||
    ts.isPropertyAssignment(node.parent) ||
    ts.isArrayLiteralExpression(node.parent) ||
    ts.isSpreadAssignment(node.parent) ||
    ts.isSpreadElement(node.parent) ||
    ts.isParenthesizedExpression(node.parent)
  ) {
    node = node.parent;
  }
  const call = node.parent;
  if (!ts.isCallExpression(call)) return false;
  const callee = call.expression;
  const name = ts.isPropertyAccessExpression(callee) ? callee.name.text : ts.isIdentifier(callee) ? callee.text : "";
  return MATCHERS.has(name);
}

function propertyName(name: ts.PropertyName): string | null {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text;
  return null; // computed: a free-form key such as metadata's
}

function unwrap(expression: ts.Expression): ts.Expression {
  let current = expression;
  while (ts.isParenthesizedExpression(current) || ts.isAsExpression(current) || ts.isSatisfiesExpression(current))
    current = current.expression;
  return current;
}

/**
 * The keys an object literal certainly has, as a skeleton for shapeProblems: nested literals
 * become nested skeletons (`object: "…"` is kept so they are checked as their type), other values
 * null. A conditional or literal spread contributes its literal keys.
 */
function skeletonOf(literal: ts.ObjectLiteralExpression): TJson {
  const skeleton: TJson = {};
  for (const property of literal.properties) {
    if (ts.isSpreadAssignment(property)) {
      const spread = unwrap(property.expression);
      const branches = ts.isConditionalExpression(spread) ? [unwrap(spread.whenTrue), unwrap(spread.whenFalse)] : [spread];
      for (const branch of branches) if (ts.isObjectLiteralExpression(branch)) Object.assign(skeleton, skeletonOf(branch));
      continue;
    }
    if (ts.isShorthandPropertyAssignment(property)) {
      skeleton[property.name.text] = null;
      continue;
    }
    if (!ts.isPropertyAssignment(property) && !ts.isMethodDeclaration(property)) continue;
    const name = propertyName(property.name);
    if (name === null) continue;
    const value = ts.isPropertyAssignment(property) ? unwrap(property.initializer) : null;
    if (value && ts.isObjectLiteralExpression(value)) skeleton[name] = skeletonOf(value);
    else if (value && name === "object" && ts.isStringLiteral(value)) skeleton[name] = value.text;
    else skeleton[name] = null;
  }
  return skeleton;
}

/** Every object literal in `source` that declares a Stripe fixture type (`object: "charge"`, …). */
function stripeLiteralsIn(fileName: string, source: string): TLiteral[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true);
  const found: TLiteral[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isObjectLiteralExpression(node)) {
      const skeleton = skeletonOf(node);
      if (typeof skeleton.object === "string" && isFixtureType(skeleton.object)) {
        const { line } = file.getLineAndCharacterOfPosition(node.getStart());
        found.push({ where: `${fileName}:${line + 1}`, type: skeleton.object, skeleton, expectation: isExpectation(node) });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

describe("Stripe object literals the tests build", () => {
  const root = path.resolve(import.meta.dirname, "..", "..", "..");
  const literals = ["test", "e2e"]
    .flatMap((dir) => testFiles(path.join(root, dir)))
    .flatMap((file) => stripeLiteralsIn(path.relative(root, file), readFileSync(file, "utf8")));

  it("finds the event builders of the Stripe webhook tests", () => {
    const builders = literals.filter((literal) => literal.type === "event" && !literal.expectation);
    const withEvents = new Set(builders.map((literal) => literal.where.split(":")[0]));
    for (const file of [
      "test/integration/webhooks/stripe-webhook.test.ts",
      "test/integration/webhooks/stripe-webhook-attribution.test.ts",
      "test/integration/engine/order-independence.test.ts",
      "test/integration/webhooks/deliveries-sweep.test.ts",
      "test/integration/engine/refund-during-processing.test.ts",
      "test/integration/data/migration-dispute-charge.test.ts",
      "test/integration/webhooks/webhook-text.test.ts",
    ]) {
      expect(withEvents, file).toContain(file);
    }
  });

  it("every one uses only its fixture's keys, and an event body has what our webhook reads", () => {
    const problems = literals.flatMap(({ where, type, skeleton, expectation }) => {
      const mustHave = type === "event" && !expectation ? FIELDS_OUR_CODE_READS.event.filter((field) => field !== "account") : [];
      return shapeProblems(skeleton, type, { mustHave }).map((problem) => `${where} (${type}): ${problem}`);
    });
    expect(problems).toEqual([]);
  });

  it("the scan sees an invented key in a builder", () => {
    const source = `
      function stripeEvent(type: string, object: unknown, extra: { account?: string } = {}) {
        return { id: "evt_1", object: "event", api_version: "x", created: 1, data: { object, previous: 1 }, type,
          livemode: false, ...(extra.account ? { account: extra.account, accountName: "x" } : {}) };
      }
      const charge = { id: "ch_1", object: "charge", amount: 1, booking: "bk_1", metadata: { ["a"]: "b" } };
      expect(x).toMatchObject({ object: "refund", amount: 1 });`;
    const found = stripeLiteralsIn("example.ts", source);
    expect(found.map((literal) => [literal.type, literal.expectation])).toEqual([
      ["event", false],
      ["charge", false],
      ["refund", true],
    ]);
    expect(found.flatMap((literal) => shapeProblems(literal.skeleton, literal.type))).toEqual([
      "data.previous: not a key of Stripe's event fixture",
      "accountName: not a key of Stripe's event fixture",
      "booking: not a key of Stripe's charge fixture",
    ]);
  });
});
