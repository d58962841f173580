import { describe, expect, it } from "vitest";

import { parseEnv, PRODUCTION_SECRETS } from "./env";

const PRODUCTION = {
  NODE_ENV: "production",
  DATABASE_URL: "postgresql://app@db.example.com:5432/payouts",
  NEXTAUTH_SECRET: "a-long-enough-production-secret",
  BOOKING_WEBHOOK_SECRETS: "whsec_one_1234, whsec_two_5678",
  STRIPE_SECRET_KEY: "sk_live_abc",
  STRIPE_WEBHOOK_SECRET: "whsec_live",
  INNGEST_SIGNING_KEY: "signkey-prod-abc",
  INNGEST_EVENT_KEY: "event-key",
};

describe("parseEnv", () => {
  it("runs with no configuration at all in development, on the local database", () => {
    const env = parseEnv({});
    expect(env.NODE_ENV).toBe("development");
    expect(env.DATABASE_URL).toBe("postgresql://postgres@127.0.0.1:5432/payouts");
    expect(env.NEXTAUTH_SECRET.length).toBeGreaterThanOrEqual(16);
    expect(env.BOOKING_WEBHOOK_SECRETS.length).toBe(1);
    expect(env.INNGEST_DEV).toBe(true);
    expect(env.PAYOUT_DELAY_HOURS).toBe(48);
    expect(env.TIP_WINDOW_HOURS).toBe(24);
    expect(env.FOUR_EYES_THRESHOLD).toBe(100_000);
  });

  it("accepts a complete production configuration and splits rotated secrets", () => {
    const env = parseEnv(PRODUCTION);
    expect(env.BOOKING_WEBHOOK_SECRETS).toEqual(["whsec_one_1234", "whsec_two_5678"]);
    expect(parseEnv({ ...PRODUCTION, STRIPE_WEBHOOK_SECRET: "whsec_a, whsec_b" }).STRIPE_WEBHOOK_SECRET).toEqual(["whsec_a", "whsec_b"]);
    expect(env.INNGEST_DEV).toBeUndefined();
  });

  it.each(PRODUCTION_SECRETS)("stops in production without %s, naming it", (key) => {
    const source: Record<string, string | undefined> = { ...PRODUCTION, [key]: undefined };
    expect(() => parseEnv(source)).toThrow(new RegExp(`Missing required environment variable.*\\b${key}\\b`));
  });

  it("names every missing secret at once and treats empty strings as missing", () => {
    expect(() => parseEnv({ ...PRODUCTION, NEXTAUTH_SECRET: "", STRIPE_SECRET_KEY: undefined })).toThrow(
      /variables for production: NEXTAUTH_SECRET, STRIPE_SECRET_KEY\./,
    );
  });

  it("rejects malformed values with the variable's name", () => {
    expect(() => parseEnv({ STRIPE_SECRET_KEY: "pk_test_123" })).toThrow(/STRIPE_SECRET_KEY: must be a Stripe secret key/);
    expect(() => parseEnv({ DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL: must be a postgresql:\/\/ URL/);
    expect(() => parseEnv({ PAYOUT_DELAY_HOURS: "-1" })).toThrow(/PAYOUT_DELAY_HOURS/);
  });

  it("reads the four-eyes threshold in main currency units", () => {
    expect(parseEnv({ FOUR_EYES_THRESHOLD: "250" }).FOUR_EYES_THRESHOLD).toBe(25_000);
    expect(parseEnv({ FOUR_EYES_THRESHOLD: " 1000.5 " }).FOUR_EYES_THRESHOLD).toBe(100_050);
    expect(parseEnv({ FOUR_EYES_THRESHOLD: "0" }).FOUR_EYES_THRESHOLD).toBe(0);
    for (const bad of ["12.345", "-1", "1,000", "ten", "1e5"]) {
      expect(() => parseEnv({ FOUR_EYES_THRESHOLD: bad })).toThrow(/FOUR_EYES_THRESHOLD: must be an amount in main currency units/);
    }
  });

  it.each(["1", "true"])("refuses INNGEST_DEV=%s in production (it turns off request signing)", (value) => {
    expect(() => parseEnv({ ...PRODUCTION, INNGEST_DEV: value })).toThrow(/INNGEST_DEV must not be set in production/);
    expect(parseEnv({ ...PRODUCTION, INNGEST_DEV: "" }).INNGEST_DEV).toBeUndefined();
  });

  it("never applies development defaults in production", () => {
    expect(() => parseEnv({ NODE_ENV: "production" })).toThrow(/DATABASE_URL, NEXTAUTH_SECRET/);
  });
});
