// Alert notifications: email through a real SMTP server and a chat webhook to a local HTTP
// receiver, both in this process. Critical alerts go right after the commit that raised them
// (here through the real transfer engine), warnings in a digest, one message per kind per
// window with a count, failures recorded and retried by the engine with backoff, never sent
// twice when the attempt after commit and the engine race; the admin's test message.
import { randomUUID } from "node:crypto";

import { InngestTestEngine, mockCtx } from "@inngest/test";
import type { Context } from "inngest";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import { createNotifyAlertsFunction } from "@/inngest/functions/notify-alerts";
import { raiseAlert, type TAlertInput } from "@/lib/alerts/raise-alert";
import { db } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { sendAlertNotificationsAfterCommit } from "@/lib/notifications/after-commit";
import { notificationConfig, notificationSetup } from "@/lib/notifications/config";
import { deliverAlertNotifications } from "@/lib/notifications/deliver-notifications";
import { routeAlerts } from "@/lib/notifications/route-alerts";
import { resetStripeForTests } from "@/lib/stripe/client";

import { HOUR, payoutOf, startEngineHarness, testClock, transferEvent, type TEngineHarness, type TTestClock } from "../../support/engine";
import { startChatReceiver, startSmtpReceiver, type TChatReceiver, type TSmtpReceiver } from "../../support/notification-receivers";
import { dashboardUsers, signInAs } from "../../support/sessions";
import { stripeEvent } from "../../support/stripe-fixtures";
import { sendStripeEvent } from "../../support/stripe-webhook";

vi.mock("next-auth", async (importOriginal) => ({ ...(await importOriginal<typeof import("next-auth")>()), getServerSession: vi.fn() }));

const { listAlerts } = await import("@/lib/alerts/list-alerts");
const testMessageRoute = await import("@/app/api/admin/alerts/test-message/route");

const ORIGIN = "https://payouts.test";
const MINUTE = 60_000;

let smtp: TSmtpReceiver;
let chat: TChatReceiver;
let h: TEngineHarness;
const users = dashboardUsers("notify");

const NOTIFY_ENV = [
  "SMTP_URL",
  "ALERT_EMAIL_FROM",
  "ALERT_EMAIL_TO",
  "ALERT_CHAT_WEBHOOK_URL",
  "ALERT_CHAT_FORMAT",
  "NEXTAUTH_URL",
] as const;
/** The Stripe webhook route uses the app's own Stripe client: pointed at the fake Stripe. */
const STRIPE_ENV = [
  "STRIPE_API_HOST",
  "STRIPE_API_PORT",
  "STRIPE_API_PROTOCOL",
  "STRIPE_MAX_NETWORK_RETRIES",
  "STRIPE_TIMEOUT_MS",
] as const;

function configure(on: boolean) {
  const values: Record<(typeof NOTIFY_ENV)[number], string> = {
    SMTP_URL: smtp.url,
    ALERT_EMAIL_FROM: "alerts@payouts.test",
    ALERT_EMAIL_TO: "ops@payouts.test, finance@payouts.test",
    ALERT_CHAT_WEBHOOK_URL: chat.url,
    ALERT_CHAT_FORMAT: "json",
    NEXTAUTH_URL: ORIGIN,
  };
  for (const key of NOTIFY_ENV) {
    if (on || key === "NEXTAUTH_URL") process.env[key] = values[key];
    else delete process.env[key];
  }
  resetEnvForTests();
}

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  chat = await startChatReceiver();
  h = await startEngineHarness();
  Object.assign(process.env, h.fake.env(), { STRIPE_MAX_NETWORK_RETRIES: "0", STRIPE_TIMEOUT_MS: "2000" });
  resetStripeForTests();
  configure(true);
});

afterAll(async () => {
  for (const key of [...NOTIFY_ENV, ...STRIPE_ENV]) delete process.env[key];
  resetEnvForTests();
  resetStripeForTests();
  await Promise.all([smtp.stop(), chat.stop(), h.fake.stop()]);
});

beforeEach(() => {
  smtp.clear();
  chat.clear();
  smtp.setDelay(0);
  smtp.failNext(0);
  chat.failNext(0);
  h.clock.set(new Date());
});

type TChatPost = {
  subject: string;
  text: string;
  kind: string;
  count: number;
  alerts: { payoutUrl: string | null; amount: string | null }[];
};
const chatPosts = () => chat.posts() as TChatPost[];

/** Raises alerts in one transaction, as a service does, then makes the attempt after its commit. */
async function raise(...alerts: Omit<TAlertInput, "dedupeKey">[]) {
  await db.$transaction(async (tx) => {
    for (const alert of alerts) await raiseAlert(tx, { ...alert, dedupeKey: `${alert.kind}:${randomUUID()}` });
  });
  await sendAlertNotificationsAfterCommit(db);
}

const critical = (kind: string, title = "Something critical") => ({
  kind,
  severity: "critical" as const,
  title,
  message: `${title}: details.`,
});
const warning = (kind: string, title = "Something to look at") => ({
  kind,
  severity: "warning" as const,
  title,
  message: `${title}: details.`,
});

async function messagesOfKind(kind: string) {
  return db.alertNotification.findMany({
    where: { items: { some: { alert: { kind } } } },
    orderBy: [{ windowStartAt: "asc" }, { channel: "asc" }],
    include: { _count: { select: { items: true } } },
  });
}

/** Runs the engine's notify-alerts function once for a message; sleeps are mocked and move `clock` to their end. */
async function runEngine(notificationId: string, clock: TTestClock = testClock()) {
  const sleeps: string[] = [];
  const engine = new InngestTestEngine({
    function: createNotifyAlertsFunction({ db, stripe: () => h.stripe, clock }),
    transformCtx: (raw: Context.Any) => {
      const ctx = mockCtx(raw);
      const sleepUntil = ctx.step.sleepUntil;
      return {
        ...ctx,
        step: {
          ...ctx.step,
          sleepUntil: ((id: string, until: string | Date) => {
            const at = new Date(until);
            sleeps.push(at.toISOString());
            if (at.getTime() > clock.now().getTime()) clock.set(at);
            return sleepUntil(id, until);
          }) as typeof sleepUntil,
        },
      } as Context.Any;
    },
  });
  const run = await engine.execute({
    events: [{ name: "alert/notification.due", data: { notificationId }, id: randomUUID() }] as [never],
    steps: [1, 2, 3].map((i) => ({ id: `wait-${i}`, handler() {} })),
  });
  return { ...run, sleeps };
}

describe("alert notifications", () => {
  it("a failed transfer is sent at once after its commit, by email and chat, with the amount and a link to the payout", async () => {
    // A destination Stripe does not know: a permanent refusal, so the first attempt fails the payout.
    const account = `acct_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
    const { bookingId } = await h.completeBooking({ providerReady: true, stripeAccountId: account, providerShare: 12_345 });
    h.clock.advance(48 * HOUR + 1000);
    const payout = await payoutOf(bookingId);
    const run = await h.run("transfer", transferEvent(payout.id));
    expect(run.result).toMatchObject({ kind: "failed" });

    // Nothing else was called: the transfer run's attempt after its commit sent them.
    const emails = smtp.emails();
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ from: "alerts@payouts.test", to: ["ops@payouts.test", "finance@payouts.test"] });
    expect(emails[0]!.subject).toBe("[Payouts] CRITICAL: Payout transfer failed ($123.45)");
    expect(emails[0]!.text).toContain("Amount: $123.45");
    expect(emails[0]!.text).toContain(`Payout: ${ORIGIN}/payouts/${payout.id}`);
    expect(emails[0]!.text).toContain(`All alerts: ${ORIGIN}/alerts`);
    expect(chatPosts()).toHaveLength(1);
    expect(chatPosts()[0]).toMatchObject({
      subject: "[Payouts] CRITICAL: Payout transfer failed ($123.45)",
      kind: "critical",
      count: 1,
      alerts: [{ amount: "$123.45", payoutUrl: `${ORIGIN}/payouts/${payout.id}` }],
    });

    // Recorded on the alert, as the Alerts page shows it.
    const list = await listAlerts(db, { state: "all", page: 1 });
    const alert = list.items.find((a) => a.payoutId === payout.id && a.kind === "payout_failed");
    expect(alert?.deliveries.map((d) => [d.channel, d.kind, d.status, d.attempts, d.lastError])).toEqual([
      ["email", "critical", "sent", 1, null],
      ["chat", "critical", "sent", 1, null],
    ]);
  });

  it("a provider's failed bank payout (a Stripe webhook) is sent at once after the delivery is applied", async () => {
    const DAY = 24 * HOUR;
    const availableOn = new Date(Math.floor((h.clock.now().getTime() + 3 * DAY) / 1000) * 1000);
    const charge = h.fake.createCharge({ amount: 9_000, currency: "usd", availableOn });
    const account = h.account();
    const { bookingId } = await h.completeBooking({
      providerReady: true,
      stripeAccountId: account,
      stripeChargeId: charge.id,
      providerShare: 7_250,
    });
    h.clock.advance(48 * HOUR + 1000);
    const payout = await payoutOf(bookingId);
    expect((await h.run("transfer", transferEvent(payout.id))).result).toMatchObject({ kind: "transferred" });
    h.clock.set(new Date(availableOn.getTime() + HOUR));
    const bankPayout = h.fake.payoutAccount(account, { status: "failed", failureCode: "account_closed" });
    const event = stripeEvent({ type: "payout.failed", object: bankPayout, account, created: Math.floor(h.clock.now().getTime() / 1000) });
    smtp.clear();
    chat.clear();

    expect(await sendStripeEvent(event)).toEqual({ status: 200, body: { received: true } });
    expect(smtp.emails().map((e) => e.subject)).toEqual(["[Payouts] CRITICAL: A provider's bank payout failed ($72.50)"]);
    expect(smtp.emails()[0]!.text).toContain("Amount: $72.50");
    expect(smtp.emails()[0]!.text).toContain(`Payout: ${ORIGIN}/payouts/${payout.id}`);
    expect(chatPosts().map((p) => p.subject)).toEqual(["[Payouts] CRITICAL: A provider's bank payout failed ($72.50)"]);
  });

  it("warnings wait for one digest per channel, sent when its interval ends (the sweep's pass)", async () => {
    const start = new Date();
    await raise(warning("digest_a", "First warning"), warning("digest_b", "Second warning"));
    await raise(warning("digest_c", "Third warning"));
    expect(smtp.emails()).toEqual([]);
    expect(chatPosts()).toEqual([]);
    const digests = await messagesOfKind("digest_a");
    expect(digests.map((d) => [d.channel, d.kind, d.status, d._count.items])).toEqual([
      ["email", "digest", "pending", 3],
      ["chat", "digest", "pending", 3],
    ]);
    expect(digests[0]!.dueAt.getTime()).toBeGreaterThanOrEqual(start.getTime() + 60 * MINUTE);

    // Not before the interval ends.
    await deliverAlertNotifications(db, { now: new Date(start.getTime() + 30 * MINUTE) });
    expect(smtp.emails()).toEqual([]);

    // The reconciliation sweep (every 15 minutes) sends it once the hour is over.
    h.clock.set(new Date(Date.now() + 61 * MINUTE));
    const sweep = await h.run("reconcile", null);
    expect(sweep.result).toMatchObject({ notified: { sent: 2 } });
    expect(smtp.emails()).toHaveLength(1);
    expect(smtp.emails()[0]!.subject).toBe("[Payouts] 3 warnings");
    expect(smtp.emails()[0]!.text).toMatch(/First warning[\s\S]*Second warning[\s\S]*Third warning/);
    expect(chatPosts()).toHaveLength(1);
    expect(chatPosts()[0]).toMatchObject({ kind: "digest", count: 3 });
  });

  it("flood control: one message per alert kind per window, the rest rolled up with a count", async () => {
    const kind = `flood_${randomUUID().slice(0, 8)}`;
    // Five raised in one commit: one message with a count.
    await raise(...Array.from({ length: 5 }, (_, i) => critical(kind, `Flood ${i + 1}`)));
    expect(smtp.emails().map((e) => e.subject)).toEqual([`[Payouts] CRITICAL: Flood 1: 5 alerts`]);
    expect(smtp.emails()[0]!.text).toContain("5 critical alerts of this kind were raised");
    expect(chatPosts().map((p) => p.count)).toEqual([5]);

    // Seven more, each in its own commit, within the window: nothing more at once...
    for (let i = 0; i < 7; i++) await raise(critical(kind, `Later ${i + 1}`));
    expect(smtp.emails()).toHaveLength(1);
    expect(chatPosts()).toHaveLength(1);
    const messages = await messagesOfKind(kind);
    expect(messages.map((m) => [m.channel, m.status, m._count.items])).toEqual([
      ["email", "sent", 5],
      ["chat", "sent", 5],
      ["email", "pending", 7],
      ["chat", "pending", 7],
    ]);
    expect(messages[2]!.dueAt.getTime() - messages[0]!.windowStartAt.getTime()).toBe(15 * MINUTE);

    // ...and one roll-up when the window ends.
    await deliverAlertNotifications(db, { now: new Date(Date.now() + 16 * MINUTE) });
    expect(smtp.emails().map((e) => e.subject)).toEqual([
      `[Payouts] CRITICAL: Flood 1: 5 alerts`,
      `[Payouts] CRITICAL: Later 1: 7 more alerts`,
    ]);
    expect(chatPosts().map((p) => p.count)).toEqual([5, 7]);
  });

  it("a failing SMTP server and a 500 from the chat webhook are recorded as failed, then retried by the engine with backoff and sent", async () => {
    const kind = `failing_${randomUUID().slice(0, 8)}`;
    smtp.failNext(2);
    chat.failNext(2);
    await raise(critical(kind, "Bank payout failed"));
    expect(smtp.emails()).toEqual([]);
    const [email, chatMessage] = await messagesOfKind(kind);
    for (const m of [email!, chatMessage!]) {
      expect(m).toMatchObject({ status: "pending", attempts: 1 });
      expect(m.dueAt.getTime() - m.lastAttemptAt!.getTime()).toBe(MINUTE);
    }
    expect(email!.lastError).toMatch(/451/);
    expect(chatMessage!.lastError).toMatch(/500/);
    // The engine was handed each retry (the outbox, published after the commit).
    const retryEvents = globalThis.inngestReceiver.events().filter((e) => e.name === "alert/notification.due" && e.id?.endsWith(":1"));
    expect(retryEvents.map((e) => e.data.notificationId).sort()).toEqual([email!.id, chatMessage!.id].sort());
    let alert = (await listAlerts(db, { state: "all", page: 1 })).items.find((a) => a.kind === kind);
    expect(alert?.deliveries.map((d) => [d.channel, d.status, d.attempts])).toEqual([
      ["email", "pending", 1],
      ["chat", "pending", 1],
    ]);

    // The engine sleeps until the backoff ends, tries again, fails again: a longer backoff.
    const clock = testClock(email!.lastAttemptAt!);
    const second = await runEngine(email!.id, clock);
    expect(second.sleeps).toEqual([email!.dueAt.toISOString()]);
    expect(second.result).toMatchObject({ status: "retry" });
    const afterSecond = await db.alertNotification.findUniqueOrThrow({ where: { id: email!.id } });
    expect(afterSecond).toMatchObject({ status: "pending", attempts: 2 });
    expect(afterSecond.dueAt.getTime() - afterSecond.lastAttemptAt!.getTime()).toBe(5 * MINUTE);

    // The next run sends it; the chat message too.
    const third = await runEngine(email!.id, clock);
    expect(third.sleeps).toEqual([afterSecond.dueAt.toISOString()]);
    expect(third.result).toMatchObject({ status: "sent" });
    await runEngine(chatMessage!.id, testClock(chatMessage!.lastAttemptAt!));
    await runEngine(chatMessage!.id, testClock(new Date(Date.now() + HOUR)));
    expect(smtp.emails().map((e) => e.subject)).toEqual(["[Payouts] CRITICAL: Bank payout failed"]);
    expect(chatPosts()).toHaveLength(1);
    alert = (await listAlerts(db, { state: "all", page: 1 })).items.find((a) => a.kind === kind);
    expect(alert?.deliveries.map((d) => [d.channel, d.status, d.attempts, d.lastError])).toEqual([
      ["email", "sent", 3, null],
      ["chat", "sent", 3, null],
    ]);
  });

  it("the attempt after commit, the engine and the sweep racing send each message once", async () => {
    const kind = `race_${randomUUID().slice(0, 8)}`;
    await db.$transaction((tx) => raiseAlert(tx, { ...critical(kind, "Raced"), dedupeKey: `race:${randomUUID()}` }));
    const { created } = await routeAlerts(db, notificationConfig());
    expect(created).toHaveLength(2);
    smtp.setDelay(150);
    const results = await Promise.all([
      sendAlertNotificationsAfterCommit(db),
      ...created.map((id) => runEngine(id, testClock(new Date(Date.now() + 1000)))),
      deliverAlertNotifications(db),
      deliverAlertNotifications(db),
    ]);
    expect(results.flatMap((r) => (r && "error" in r && r.error ? [r.error] : []))).toEqual([]);
    expect(smtp.emails().map((e) => e.subject)).toEqual(["[Payouts] CRITICAL: Raced"]);
    expect(chatPosts()).toHaveLength(1);
    const messages = await messagesOfKind(kind);
    expect(messages.map((m) => [m.status, m.attempts])).toEqual([
      ["sent", 1],
      ["sent", 1],
    ]);
  });

  it("the test message: admins only, audited, sent on every channel; 409 when nothing is configured", async () => {
    const post = (headers: Record<string, string> = { origin: "http://localhost" }) =>
      testMessageRoute.POST(
        new Request("http://localhost/api/admin/alerts/test-message", {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: "{}",
        }),
        undefined,
      );
    signInAs(null);
    expect((await post()).status).toBe(401);
    signInAs(users.operator);
    expect((await post()).status).toBe(403);
    signInAs(users.admin);
    expect((await post({})).status).toBe(403); // no Origin
    expect(smtp.emails()).toEqual([]);
    expect(await db.alertNotification.count({ where: { kind: "test" } })).toBe(0);

    const response = await post();
    expect(response.status).toBe(200);
    const body = (await response.json()) as { results: { notificationId: string; channel: string; status: string }[] };
    expect(body.results.map((r) => [r.channel, r.status])).toEqual([
      ["email", "sent"],
      ["chat", "sent"],
    ]);
    expect(smtp.emails().map((e) => e.subject)).toEqual(["[Payouts] Test message"]);
    expect(smtp.emails()[0]!.text).toContain(`sent by ${users.admin.name} (${users.admin.email})`);
    expect(chatPosts()[0]).toMatchObject({ kind: "test", subject: "[Payouts] Test message" });
    const audit = await db.auditLog.findMany({ where: { action: "alert_notification.test_requested" }, orderBy: { createdAt: "asc" } });
    expect(audit.map((a) => [a.actorType, a.actorId, a.entityType, a.entityId])).toEqual(
      body.results.map((r) => ["admin", users.admin.id, "alert_notification", r.notificationId]),
    );

    configure(false);
    try {
      expect(notificationSetup()).toEqual({ configured: false, email: null, chat: null });
      const off = await post();
      expect(off.status).toBe(409);
      expect(await off.json()).toMatchObject({ error: { code: "conflict", message: expect.stringMatching(/not configured/) } });
      // With nothing configured alerts are only shown: the attempt after commit sends and records nothing.
      const before = await db.alertNotification.count();
      await raise(critical(`off_${randomUUID().slice(0, 8)}`));
      expect(await db.alertNotification.count()).toBe(before);
    } finally {
      configure(true);
    }
  });
});
