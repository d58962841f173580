// Sign-in with brute-force throttling, against the real database: per-account and per-address
// limits over a rolling window, exact under parallel guesses, one alert per locked account, and
// the message next-auth shows on the login page.
import type { CredentialsConfig } from "next-auth/providers/credentials";
import { beforeEach, describe, expect, it } from "vitest";

import { authOptions } from "@/lib/auth/options";
import { hashPassword } from "@/lib/auth/password";
import { clientAddress, SIGN_IN_LIMITS, signInWithPassword } from "@/lib/auth/sign-in";
import { db } from "@/lib/db";

const PASSWORD = "correct horse battery staple";
const T0 = new Date("2026-11-24T09:00:00.000Z");
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

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

async function outcomes(email: string) {
  const rows = await db.signInAttempt.groupBy({ by: ["outcome"], where: { email }, _count: true });
  return Object.fromEntries(rows.map((row) => [row.outcome, row._count]));
}

beforeEach(async () => {
  await db.signInAttempt.deleteMany();
  await db.alert.deleteMany({ where: { kind: "sign_in_throttled" } });
});

describe("signInWithPassword", () => {
  it("signs in with the right password, records the success and the login time", async () => {
    const user = await newUser();
    const result = await attempt(` ${user.email.toUpperCase()} `, PASSWORD, T0);
    expect(result).toEqual({ ok: true, user: { id: user.id, email: user.email, name: user.name, role: "operator", sessionVersion: 1 } });
    expect(await outcomes(user.email)).toEqual({ success: 1 });
    expect((await db.adminUser.findUniqueOrThrow({ where: { id: user.id } })).lastLoginAt).toEqual(T0);
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

  it("locks an account after 5 failures in 15 minutes, even for the right password, until the window passes", async () => {
    const user = await newUser();
    for (let i = 0; i < SIGN_IN_LIMITS.failuresPerAccount; i++) {
      expect(await attempt(user.email, `guess ${i}`, minutes(i))).toEqual({ ok: false, reason: "invalid" });
    }
    // The 5th failure was at T0+4; the oldest of the five (T0) leaves the window at T0+15.
    expect(await attempt(user.email, PASSWORD, minutes(5))).toEqual({ ok: false, reason: "throttled", retryAfterSeconds: 10 * 60 });
    expect(await attempt(user.email, PASSWORD, minutes(14))).toEqual({ ok: false, reason: "throttled", retryAfterSeconds: 60 });
    expect(await outcomes(user.email)).toEqual({ failure: 5, throttled: 2 });

    // At T0+15:00.001 only four failures remain in the window.
    const later = new Date(minutes(15).getTime() + 1);
    expect(await attempt(user.email, PASSWORD, later)).toMatchObject({ ok: true });
  });

  it("forgives earlier failures after a success", async () => {
    const user = await newUser();
    for (let i = 0; i < 4; i++) await attempt(user.email, "wrong", minutes(i));
    expect(await attempt(user.email, PASSWORD, minutes(4))).toMatchObject({ ok: true });
    for (let i = 0; i < 4; i++) await attempt(user.email, "wrong", minutes(5 + i));
    expect(await attempt(user.email, PASSWORD, minutes(9))).toMatchObject({ ok: true });
  });

  it("locks an unknown email the same way (an attacker cannot tell accounts apart)", async () => {
    for (let i = 0; i < 5; i++) await attempt("ghost@sign-in.test", "guess", minutes(0));
    expect(await attempt("ghost@sign-in.test", "guess", minutes(1))).toMatchObject({ ok: false, reason: "throttled" });
    // No alert: nobody's account is at risk.
    expect(await db.alert.count({ where: { kind: "sign_in_throttled" } })).toBe(0);
  });

  it("gives 20 parallel guesses exactly 5 password checks and raises exactly one alert", async () => {
    const user = await newUser();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt(user.email, `guess ${i}`, T0, `198.51.100.${i}`)));
    expect(results.filter((r) => r.ok === false && r.reason === "invalid")).toHaveLength(5);
    expect(results.filter((r) => r.ok === false && r.reason === "throttled")).toHaveLength(15);
    expect(await outcomes(user.email)).toEqual({ failure: 5, throttled: 15 });

    const alerts = await db.alert.findMany({ where: { kind: "sign_in_throttled" } });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: "warning", title: `Sign-in locked for ${user.email}` });
    expect(alerts[0]!.message).toMatch(/^5 failed sign-in attempts within 15 minutes from 198\.51\.100\.\d+(, 198\.51\.100\.\d+){4}\./);
  });

  it("limits one address guessing many accounts, without blocking other addresses", async () => {
    const user = await newUser();
    // Existing accounts (cheap test hashes) keep this fast; unknown emails count the same.
    const sprayed = await Promise.all(Array.from({ length: SIGN_IN_LIMITS.failuresPerAddress }, () => newUser()));
    for (const target of sprayed) {
      expect(await attempt(target.email, "Password1", T0, "192.0.2.9")).toEqual({ ok: false, reason: "invalid" });
    }
    expect(await attempt(user.email, PASSWORD, minutes(1), "192.0.2.9")).toEqual({
      ok: false,
      reason: "throttled",
      retryAfterSeconds: 14 * 60,
    });
    expect(await attempt(user.email, PASSWORD, minutes(1), "192.0.2.10")).toMatchObject({ ok: true });
  });

  it("deletes attempts older than a day", async () => {
    await attempt("old@sign-in.test", "guess", T0);
    await attempt("new@sign-in.test", "guess", new Date(T0.getTime() + SIGN_IN_LIMITS.keepMs + 1));
    expect((await db.signInAttempt.findMany({ select: { email: true } })).map((r) => r.email)).toEqual(["new@sign-in.test"]);
  });
});

describe("the next-auth credentials provider", () => {
  const provider = authOptions.providers[0] as CredentialsConfig;
  const authorize = (email: string, password: string) =>
    provider.options.authorize!({ email, password }, { headers: { "x-forwarded-for": "203.0.113.50, 10.0.0.1" }, method: "POST" } as never);

  it("returns the user, or throws the sentence the login page shows", async () => {
    const user = await newUser();
    await expect(authorize(user.email, PASSWORD)).resolves.toMatchObject({ id: user.id, role: "operator" });
    for (let i = 0; i < 5; i++) await expect(authorize(user.email, "wrong")).rejects.toThrow("Email or password is incorrect.");
    await expect(authorize(user.email, PASSWORD)).rejects.toThrow("Too many failed sign-in attempts. Try again in 15 minutes.");
    // The address is the last forwarded hop.
    expect(await db.signInAttempt.findFirst({ where: { email: user.email } })).toMatchObject({ ip: "10.0.0.1" });
  });
});

describe("clientAddress", () => {
  it("prefers x-real-ip, then the last x-forwarded-for hop", () => {
    expect(clientAddress({ "x-real-ip": " 203.0.113.1 ", "x-forwarded-for": "1.1.1.1" })).toBe("203.0.113.1");
    expect(clientAddress({ "x-forwarded-for": "1.1.1.1, 2.2.2.2 ,3.3.3.3" })).toBe("3.3.3.3");
    expect(clientAddress({ "x-forwarded-for": " , " })).toBe("unknown");
    expect(clientAddress({})).toBe("unknown");
    expect(clientAddress(undefined)).toBe("unknown");
    expect(clientAddress({ "x-real-ip": "a".repeat(100) })).toHaveLength(64);
  });
});
