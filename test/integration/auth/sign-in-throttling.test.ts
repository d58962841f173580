// Sign-in throttling against the real database. Failures slow an attacker down without handing
// them a switch to lock anyone out: progressive waits per account and address, a short bounded
// wait per account from any address, a lock per address only; exact under parallel guesses (the
// per-email advisory lock); one alert per burst; the message next-auth shows on the login page;
// and the client address taken only from headers a configured proxy (or Vercel) wrote.
import type { CredentialsConfig } from "next-auth/providers/credentials";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { DIRECT_ADDRESS } from "@/lib/auth/client-address";
import { authOptions } from "@/lib/auth/options";
import { hashPassword } from "@/lib/auth/password";
import { delayAfter, SIGN_IN_LIMITS, signInWithPassword, throttledMessage, type TSignInResult } from "@/lib/auth/sign-in";
import { db } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";

const PASSWORD = "correct horse battery staple";
const T0 = new Date("2026-11-24T09:00:00.000Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const ATTACKER = "203.0.113.66";
const OWNER = "198.51.100.20";

let sequence = 0;
async function newUser(options: { disabled?: boolean } = {}) {
  sequence += 1;
  return db.adminUser.create({
    data: {
      email: `user-${sequence}@sign-in.test`,
      name: `User ${sequence}`,
      role: "operator",
      passwordHash: await hashPassword(PASSWORD, 4),
      disabledAt: options.disabled ? T0 : null,
    },
  });
}

function attempt(email: string, password: string, now: Date, address = "203.0.113.7") {
  return signInWithPassword(db, { email, password, address }, now);
}

async function outcomes(email: string, ip?: string) {
  const rows = await db.signInAttempt.groupBy({ by: ["outcome"], where: { email, ...(ip ? { ip } : {}) }, _count: true });
  return Object.fromEntries(rows.map((row) => [row.outcome, row._count]));
}

/**
 * Guesses wrong `count` times from `address` as fast as the throttle lets it (each refusal's
 * retryAfterSeconds waited out). Returns the clock after the last failure.
 */
async function guessAsFastAsAllowed(email: string, address: string, count: number, start: Date): Promise<Date> {
  let now = start;
  for (let failures = 0; failures < count;) {
    const result = await attempt(email, `guess ${failures}`, now, address);
    if (result.ok === false && result.reason === "throttled") {
      now = new Date(now.getTime() + result.retryAfterSeconds * 1000);
      continue;
    }
    expect(result).toEqual({ ok: false, reason: "invalid" });
    failures += 1;
    now = new Date(now.getTime() + 1000);
  }
  return now;
}

const throttledFor = (result: TSignInResult) => (result.ok === false && result.reason === "throttled" ? result.retryAfterSeconds : 0);

beforeEach(async () => {
  await db.signInAttempt.deleteMany();
  await db.alert.deleteMany({ where: { kind: "sign_in_throttled" } });
});

describe("signInWithPassword", () => {
  it("signs in with the right password, records the success, the login time and a server-side session", async () => {
    const user = await newUser();
    const result = await signInWithPassword(
      db,
      { email: ` ${user.email.toUpperCase()} `, password: PASSWORD, address: OWNER, userAgent: "Firefox" },
      T0,
    );
    expect(result).toEqual({
      ok: true,
      user: { id: user.id, email: user.email, name: user.name, role: "operator", sessionVersion: 1, sessionId: expect.any(String) },
    });
    expect(await outcomes(user.email)).toEqual({ success: 1 });
    expect((await db.adminUser.findUniqueOrThrow({ where: { id: user.id } })).lastLoginAt).toEqual(T0);
    const session = await db.adminSession.findUniqueOrThrow({ where: { id: (result as { user: { sessionId: string } }).user.sessionId } });
    expect(session).toMatchObject({ userId: user.id, userAgent: "Firefox", address: OWNER, revokedAt: null, createdAt: T0 });
  });

  it("refuses a wrong password, an unknown email and a disabled account, recording each as a failure", async () => {
    const user = await newUser();
    const disabled = await newUser({ disabled: true });
    expect(await attempt(user.email, "wrong password", T0)).toEqual({ ok: false, reason: "invalid" });
    expect(await attempt("nobody@sign-in.test", PASSWORD, T0)).toEqual({ ok: false, reason: "invalid" });
    expect(await attempt(disabled.email, PASSWORD, T0)).toEqual({ ok: false, reason: "disabled" });
    // The disabled account's wrong password says "invalid", not "disabled": no hint either way.
    expect(await attempt(disabled.email, "wrong password", T0)).toEqual({ ok: false, reason: "invalid" });
    expect(await outcomes(user.email)).toEqual({ failure: 1 });
    expect(await outcomes("nobody@sign-in.test")).toEqual({ failure: 1 });
    expect(await outcomes(disabled.email)).toEqual({ failure: 2 });
    expect(await db.adminSession.count({ where: { userId: { in: [user.id, disabled.id] } } })).toBe(0);
  });

  it("refuses malformed input without recording anything", async () => {
    expect(await attempt("not-an-email", PASSWORD, T0)).toEqual({ ok: false, reason: "invalid" });
    expect(await signInWithPassword(db, { email: undefined, password: undefined, address: "x" }, T0)).toEqual({
      ok: false,
      reason: "invalid",
    });
    expect(await attempt("a@sign-in.test", "x".repeat(201), T0)).toEqual({ ok: false, reason: "invalid" });
    expect(await db.signInAttempt.count()).toBe(0);
  });

  it("makes each further failure from one address on one account wait twice as long, up to 15 minutes", async () => {
    const user = await newUser();
    // The free failures, a second apart.
    for (let i = 0; i < SIGN_IN_LIMITS.pair.free; i++)
      expect(await attempt(user.email, "wrong", at(i), ATTACKER)).toEqual({ ok: false, reason: "invalid" });
    // The 3rd failure was at T0+2s: the next try waits 15 s from it, even with the right password.
    expect(await attempt(user.email, PASSWORD, at(3), ATTACKER)).toEqual({ ok: false, reason: "throttled", retryAfterSeconds: 14 });
    // Waited out: checked (wrong again), and the wait doubles: 30 s, then 60 s, 120 s, …
    expect(await attempt(user.email, "wrong", at(17), ATTACKER)).toEqual({ ok: false, reason: "invalid" });
    expect(throttledFor(await attempt(user.email, "wrong", at(18), ATTACKER))).toBe(29);
    expect(await attempt(user.email, "wrong", at(47), ATTACKER)).toEqual({ ok: false, reason: "invalid" });
    expect(throttledFor(await attempt(user.email, "wrong", at(48), ATTACKER))).toBe(59);
    // Refused tries do not count: the wait did not grow while the attacker kept knocking.
    expect(throttledFor(await attempt(user.email, "wrong", at(50), ATTACKER))).toBe(57);
    expect(await outcomes(user.email)).toEqual({ failure: 5, throttled: 4 });

    expect([3, 4, 5, 6, 7, 8, 9, 10, 20].map((f) => delayAfter(SIGN_IN_LIMITS.pair, f) / 1000)).toEqual([
      15, 30, 60, 120, 240, 480, 900, 900, 900,
    ]);
    // The owner's own success from that address clears its count there.
    expect(await attempt(user.email, PASSWORD, at(107), ATTACKER)).toMatchObject({ ok: true });
    expect(await attempt(user.email, "typo", at(108), ATTACKER)).toEqual({ ok: false, reason: "invalid" });
    expect(await attempt(user.email, PASSWORD, at(109), ATTACKER)).toMatchObject({ ok: true });
  });

  it("an attacker's failures from one address do not keep the owner out from another: at most a short wait", async () => {
    const user = await newUser();
    // The attacker guesses as fast as the throttle allows for a while: 10 failures.
    const afterAttack = await guessAsFastAsAllowed(user.email, ATTACKER, 10, T0);
    // The attacker's address is throttled for minutes now…
    expect(throttledFor(await attempt(user.email, PASSWORD, afterAttack, ATTACKER))).toBeGreaterThan(5 * 60);
    // …while the owner, from another address, right after the attacker's last failure, waits
    // at most the per-account cap (or not at all).
    const wait = throttledFor(await attempt(user.email, PASSWORD, afterAttack, OWNER));
    expect(wait).toBeLessThanOrEqual(SIGN_IN_LIMITS.account.maxDelayMs / 1000);
    expect(await attempt(user.email, PASSWORD, new Date(afterAttack.getTime() + wait * 1000), OWNER)).toMatchObject({ ok: true });
    // The owner's success does not clear the attacker's address.
    expect(throttledFor(await attempt(user.email, PASSWORD, new Date(afterAttack.getTime() + 31_000), ATTACKER))).toBeGreaterThan(60);
  });

  it("guesses spread over many addresses make every try on the account wait, but never longer than 30 seconds", async () => {
    const user = await newUser();
    let now = T0;
    for (let i = 0; i < 15; i++) {
      const result = await attempt(user.email, "wrong", now, `192.0.2.${i + 1}`);
      const wait = throttledFor(result);
      expect(wait).toBeLessThanOrEqual(30);
      now = new Date(now.getTime() + Math.max(wait, 1) * 1000);
      if (wait > 0) expect(await attempt(user.email, "wrong", now, `192.0.2.${i + 1}`)).toEqual({ ok: false, reason: "invalid" });
    }
    expect([5, 6, 7, 8, 9, 10, 30].map((f) => delayAfter(SIGN_IN_LIMITS.account, f) / 1000)).toEqual([2, 4, 8, 16, 30, 30, 30]);
    const ownerWait = throttledFor(await attempt(user.email, PASSWORD, now, OWNER));
    expect(ownerWait).toBeGreaterThan(0);
    expect(ownerWait).toBeLessThanOrEqual(30);
    expect(await attempt(user.email, PASSWORD, new Date(now.getTime() + ownerWait * 1000), OWNER)).toMatchObject({ ok: true });
  });

  it("gives 20 parallel guesses from 20 addresses exactly 5 password checks, and raises exactly one alert", async () => {
    const user = await newUser();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt(user.email, `guess ${i}`, T0, `198.51.100.${i}`)));
    expect(results.filter((r) => r.ok === false && r.reason === "invalid")).toHaveLength(SIGN_IN_LIMITS.account.free);
    expect(results.filter((r) => r.ok === false && r.reason === "throttled")).toHaveLength(15);
    expect(await outcomes(user.email)).toEqual({ failure: 5, throttled: 15 });
    // Each refusal says to wait seconds, not minutes.
    for (const r of results) expect(throttledFor(r)).toBeLessThanOrEqual(2);

    const alerts = await db.alert.findMany({ where: { kind: "sign_in_throttled" } });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: "warning", title: `Repeated failed sign-ins for ${user.email}` });
    expect(alerts[0]!.message).toMatch(
      /^5 failed sign-in attempts within 15 minutes from 198\.51\.100\.\d+(, 198\.51\.100\.\d+){4}\. The account is not locked/,
    );
  });

  it("gives 20 parallel guesses from one address exactly 3 password checks", async () => {
    const user = await newUser();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt(user.email, `guess ${i}`, T0, ATTACKER)));
    expect(results.filter((r) => r.ok === false && r.reason === "invalid")).toHaveLength(SIGN_IN_LIMITS.pair.free);
    expect(await outcomes(user.email)).toEqual({ failure: 3, throttled: 17 });
  });

  it("locks one address guessing many accounts, without blocking other addresses", async () => {
    const user = await newUser();
    // Existing accounts (cheap test hashes) keep this fast; unknown emails count the same.
    const sprayed = await Promise.all(Array.from({ length: SIGN_IN_LIMITS.address.failures }, () => newUser()));
    for (const target of sprayed) {
      expect(await attempt(target.email, "Password1", T0, "192.0.2.9")).toEqual({ ok: false, reason: "invalid" });
    }
    expect(await attempt(user.email, PASSWORD, at(60), "192.0.2.9")).toEqual({
      ok: false,
      reason: "throttled",
      retryAfterSeconds: 14 * 60,
    });
    expect(await attempt(user.email, PASSWORD, at(60), "192.0.2.10")).toMatchObject({ ok: true });
  });

  it("without a known address (no trusted proxy) applies only the bounded per-account wait: no lock for everyone", async () => {
    const user = await newUser();
    // More failures on other accounts from the one direct bucket than an address may make lock nothing.
    const sprayed = await Promise.all(Array.from({ length: SIGN_IN_LIMITS.address.failures + 5 }, () => newUser()));
    for (const target of sprayed) await attempt(target.email, "guess", T0, DIRECT_ADDRESS);
    expect(await attempt(user.email, PASSWORD, at(1), DIRECT_ADDRESS)).toMatchObject({ ok: true });
    // Guessing one account from it as fast as allowed: every wait is at most 30 s.
    const after = await guessAsFastAsAllowed(user.email, DIRECT_ADDRESS, 12, at(2));
    const wait = throttledFor(await attempt(user.email, PASSWORD, after, DIRECT_ADDRESS));
    expect(wait).toBeLessThanOrEqual(30);
    expect(await attempt(user.email, PASSWORD, new Date(after.getTime() + wait * 1000), DIRECT_ADDRESS)).toMatchObject({ ok: true });
  });

  it("deletes attempts older than a day", async () => {
    await attempt("old@sign-in.test", "guess", T0);
    await attempt("new@sign-in.test", "guess", new Date(T0.getTime() + SIGN_IN_LIMITS.keepMs + 1));
    expect((await db.signInAttempt.findMany({ select: { email: true } })).map((r) => r.email)).toEqual(["new@sign-in.test"]);
  });

  it("tells the user how long to wait, in seconds or minutes", () => {
    expect(throttledMessage(1)).toBe("Too many failed sign-in attempts. Try again in 1 second.");
    expect(throttledMessage(14)).toBe("Too many failed sign-in attempts. Try again in 14 seconds.");
    expect(throttledMessage(60)).toBe("Too many failed sign-in attempts. Try again in 1 minute.");
    expect(throttledMessage(14 * 60 + 1)).toBe("Too many failed sign-in attempts. Try again in 15 minutes.");
  });
});

describe("the next-auth credentials provider", () => {
  const provider = authOptions.providers[0] as CredentialsConfig;
  const authorize = (email: string, password: string, headers: Record<string, string>) =>
    provider.options.authorize!({ email, password }, { headers, method: "POST" } as never);
  const saved = { TRUST_PROXY: process.env.TRUST_PROXY, VERCEL: process.env.VERCEL };
  const configure = (env: { TRUST_PROXY?: string; VERCEL?: string }) => {
    const vars = process.env as Record<string, string | undefined>;
    for (const key of ["TRUST_PROXY", "VERCEL"] as const) {
      if (env[key] === undefined) delete vars[key];
      else vars[key] = env[key];
    }
    resetEnvForTests();
  };
  afterEach(() => configure(saved));

  it("returns the user with a session id, or throws the sentence the login page shows", async () => {
    configure({});
    const user = await newUser();
    await expect(authorize(user.email, PASSWORD, {})).resolves.toMatchObject({
      id: user.id,
      role: "operator",
      sessionId: expect.any(String),
    });
    for (let i = 0; i < 5; i++) await expect(authorize(user.email, `wrong ${i}`, {})).rejects.toThrow("Email or password is incorrect.");
    await expect(authorize(user.email, PASSWORD, {})).rejects.toThrow(/^Too many failed sign-in attempts\. Try again in [12] seconds?\.$/);
  });

  it("without TRUST_PROXY ignores forged forwarding headers: the address is the direct bucket", async () => {
    configure({});
    const user = await newUser();
    await authorize(user.email, "wrong", { "x-forwarded-for": "203.0.113.50", "x-real-ip": "203.0.113.51" }).catch(() => undefined);
    expect(await db.signInAttempt.findFirst({ where: { email: user.email } })).toMatchObject({ ip: DIRECT_ADDRESS });
  });

  it("a forged header cannot dodge the per-account wait by claiming a fresh address each time", async () => {
    configure({});
    const user = await newUser();
    const results: string[] = [];
    for (let i = 0; i < 8; i++) {
      await authorize(user.email, `wrong ${i}`, { "x-forwarded-for": `203.0.113.${i}` }).catch((error: Error) =>
        results.push(error.message),
      );
    }
    expect(results.filter((m) => m.startsWith("Too many"))).not.toHaveLength(0);
  });

  it("with TRUST_PROXY=1 takes the hop the proxy appended, validated and normalised", async () => {
    configure({ TRUST_PROXY: "1" });
    const user = await newUser();
    await authorize(user.email, "wrong", { "x-forwarded-for": "6.6.6.6, 2001:DB8:0:0::7" }).catch(() => undefined);
    await authorize(user.email, "wrong", { "x-forwarded-for": "6.6.6.6, <b>not an address</b>" }).catch(() => undefined);
    const rows = await db.signInAttempt.findMany({ where: { email: user.email }, orderBy: { id: "asc" } });
    expect(rows.map((r) => r.ip)).toEqual(["2001:db8::7", DIRECT_ADDRESS]);
  });

  it("with TRUST_PROXY=2 takes the second hop from the right", async () => {
    configure({ TRUST_PROXY: "2" });
    const user = await newUser();
    await authorize(user.email, "wrong", { "x-forwarded-for": "6.6.6.6, 203.0.113.8, 10.0.0.1" }).catch(() => undefined);
    expect(await db.signInAttempt.findFirst({ where: { email: user.email } })).toMatchObject({ ip: "203.0.113.8" });
  });

  it("on Vercel takes x-vercel-forwarded-for, not X-Forwarded-For", async () => {
    configure({ VERCEL: "1" });
    const user = await newUser();
    await authorize(user.email, "wrong", { "x-vercel-forwarded-for": "203.0.113.9", "x-forwarded-for": "6.6.6.6" }).catch(() => undefined);
    expect(await db.signInAttempt.findFirst({ where: { email: user.email } })).toMatchObject({ ip: "203.0.113.9" });
  });

  it("the alert names only validated addresses", async () => {
    configure({ TRUST_PROXY: "1" });
    const user = await newUser();
    for (let i = 0; i < 5; i++) {
      await authorize(user.email, `wrong ${i}`, { "x-forwarded-for": i % 2 ? "<script>x</script>" : "::ffff:203.0.113.77" }).catch(
        () => undefined,
      );
    }
    const alert = await db.alert.findFirstOrThrow({ where: { kind: "sign_in_throttled" } });
    expect(alert.message).toContain("from 203.0.113.77, an unknown address (no trusted proxy).");
    expect(alert.message).not.toContain("<");
  });
});
