import { describe, expect, it } from "vitest";

import { chatBody, composeMessage, type TMessageAlert } from "./compose-message";
import { retryDelayMs, routeOf, windowStartFor } from "./routing";

const MINUTE = 60_000;
const config = { windowMs: 15 * MINUTE, digestMs: 60 * MINUTE };
const now = new Date("2026-12-03T03:00:00.000Z");

describe("routeOf", () => {
  it("sends critical alerts at once, one group per kind; warnings and info to the digest", () => {
    expect(routeOf({ kind: "reversal_failed", severity: "critical" })).toEqual({ kind: "critical", groupKey: "alert:reversal_failed" });
    expect(routeOf({ kind: "sign_in_throttled", severity: "warning" })).toEqual({ kind: "digest", groupKey: "digest" });
    expect(routeOf({ kind: "anything", severity: "info" })).toEqual({ kind: "digest", groupKey: "digest" });
  });

  it("treats a failed transfer and a provider's failed bank payout as critical whatever their severity", () => {
    expect(routeOf({ kind: "payout_failed", severity: "warning" }).kind).toBe("critical");
    expect(routeOf({ kind: "bank_payout_failed", severity: "info" }).kind).toBe("critical");
  });
});

describe("windowStartFor", () => {
  it("a kind's first message goes now; the next not before the window the previous one opened ends", () => {
    const critical = routeOf({ kind: "payout_failed", severity: "critical" });
    expect(windowStartFor(critical, null, now, config)).toEqual(now);
    const previous = new Date(now.getTime() - 5 * MINUTE);
    expect(windowStartFor(critical, previous, now, config)).toEqual(new Date(previous.getTime() + 15 * MINUTE));
    expect(windowStartFor(critical, new Date(now.getTime() - 20 * MINUTE), now, config)).toEqual(now);
  });

  it("a digest goes when its interval ends, never within the previous digest's", () => {
    const digest = routeOf({ kind: "x", severity: "warning" });
    expect(windowStartFor(digest, null, now, config)).toEqual(new Date(now.getTime() + 60 * MINUTE));
    const previous = new Date(now.getTime() + 30 * MINUTE);
    expect(windowStartFor(digest, previous, now, config)).toEqual(new Date(previous.getTime() + 60 * MINUTE));
  });
});

describe("retryDelayMs", () => {
  it("backs off: 1 min, 5 min, 15 min, 1 h, then 3 h", () => {
    expect([1, 2, 3, 4, 5, 6].map(retryDelayMs)).toEqual([MINUTE, 5 * MINUTE, 15 * MINUTE, 60 * MINUTE, 180 * MINUTE, 180 * MINUTE]);
  });
});

describe("composeMessage", () => {
  const alert = (over: Partial<TMessageAlert> = {}): TMessageAlert => ({
    id: "a1",
    kind: "payout_failed",
    severity: "critical",
    title: "Payout transfer failed",
    message: "Stripe refused it.",
    createdAt: now,
    payout: { id: "p-1", amount: 500_000, currency: "JPY" },
    provider: { name: "Kyoto Tours" },
    ...over,
  });

  it("says what happened, the amount for people and the payout's link", () => {
    const m = composeMessage({ kind: "critical", alerts: [alert()], origin: "https://payouts.example.com" });
    expect(m.subject).toBe("[Payouts] CRITICAL: Payout transfer failed (¥500,000)");
    expect(m.text).toContain("Stripe refused it.");
    expect(m.text).toContain("Amount: ¥500,000");
    expect(m.text).toContain("Provider: Kyoto Tours");
    expect(m.text).toContain("Payout: https://payouts.example.com/payouts/p-1");
  });

  it("counts a roll-up, and Slack's format is one text", () => {
    const m = composeMessage({
      kind: "critical",
      alerts: [alert(), alert({ id: "a2", payout: null })],
      origin: "https://x.test",
      rollUp: true,
    });
    expect(m.subject).toBe("[Payouts] CRITICAL: Payout transfer failed: 2 more alerts");
    expect(chatBody(m, "slack", { kind: "critical", count: 2 })).toEqual({ text: `*${m.subject}*\n\n${m.text}` });
    expect(chatBody(m, "json", { kind: "critical", count: 2 })).toMatchObject({
      kind: "critical",
      count: 2,
      alerts: [{ amount: "¥500,000" }, { amount: null }],
    });
  });
});
