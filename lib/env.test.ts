import { describe, expect, it } from "vitest";

import { isBuildPhase, parseEnv, PRODUCTION_SECRETS } from "./env";

const PRODUCTION = {
  NODE_ENV: "production",
  DATABASE_URL: "postgresql://app@db.example.com:5432/payouts",
  NEXTAUTH_SECRET: "a-long-enough-production-secret",
  BOOKING_WEBHOOK_SECRETS: "whsec_one_1234, whsec_two_5678",
  STRIPE_SECRET_KEY: "sk_live_abc",
  STRIPE_WEBHOOK_SECRET: "whsec_live",
  INNGEST_SIGNING_KEY: "signkey-prod-abc",
  INNGEST_EVENT_KEY: "event-key",
  AUDIT_CHAIN_KEY: "an-audit-chain-key-of-at-least-32-characters",
  INNGEST_SERVE_ORIGIN: "https://payouts.example.com",
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
    expect(env.DATABASE_PREPARED_STATEMENTS).toBe(true);
    expect(env.DATABASE_GENERIC_PLAN_CONNECTIONS).toBe(4);
  });

  it("takes the connections for lookups by key, 0 for none, and says what is wrong with a bad count", () => {
    expect(parseEnv({ DATABASE_GENERIC_PLAN_CONNECTIONS: "0" }).DATABASE_GENERIC_PLAN_CONNECTIONS).toBe(0);
    expect(parseEnv({ DATABASE_GENERIC_PLAN_CONNECTIONS: "8" }).DATABASE_GENERIC_PLAN_CONNECTIONS).toBe(8);
    for (const bad of ["-1", "2.5", "many", "21"])
      expect(() => parseEnv({ DATABASE_GENERIC_PLAN_CONNECTIONS: bad })).toThrow(/DATABASE_GENERIC_PLAN_CONNECTIONS/);
  });

  it("turns prepared statements off when told to", () => {
    expect(parseEnv({ DATABASE_PREPARED_STATEMENTS: "false" }).DATABASE_PREPARED_STATEMENTS).toBe(false);
    expect(() => parseEnv({ DATABASE_PREPARED_STATEMENTS: "sometimes" })).toThrow(/DATABASE_PREPARED_STATEMENTS/);
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

describe("the booking platform's default webhook endpoint", () => {
  const secret = "whsec_" + Buffer.alloc(32, 7).toString("base64");
  const other = "whsec_" + Buffer.alloc(32, 9).toString("base64");

  it("is optional, and takes one secret or several (a rotation) separated by spaces or commas", () => {
    expect(parseEnv({}).PLATFORM_WEBHOOK_URL).toBeUndefined();
    const env = parseEnv({ PLATFORM_WEBHOOK_URL: "https://platform.example.com/hooks", PLATFORM_WEBHOOK_SECRET: `${secret} ${other}` });
    expect(env.PLATFORM_WEBHOOK_SECRET).toEqual([secret, other]);
    expect(
      parseEnv({ PLATFORM_WEBHOOK_URL: "http://localhost:4000/h", PLATFORM_WEBHOOK_SECRET: `${secret},${other}` }).PLATFORM_WEBHOOK_SECRET,
    ).toHaveLength(2);
  });

  it("refuses a URL without a secret, a URL that is not http(s), and a secret that is not whsec_ base64", () => {
    expect(() => parseEnv({ PLATFORM_WEBHOOK_URL: "https://platform.example.com/hooks" })).toThrow(/PLATFORM_WEBHOOK_SECRET/);
    expect(() => parseEnv({ PLATFORM_WEBHOOK_URL: "ftp://platform.example.com/", PLATFORM_WEBHOOK_SECRET: secret })).toThrow(
      /PLATFORM_WEBHOOK_URL/,
    );
    expect(() => parseEnv({ PLATFORM_WEBHOOK_URL: "https://p.example.com/", PLATFORM_WEBHOOK_SECRET: "not-a-secret" })).toThrow(
      /PLATFORM_WEBHOOK_SECRET/,
    );
  });
});

describe("the origin Inngest calls (INNGEST_SERVE_ORIGIN)", () => {
  const { INNGEST_SERVE_ORIGIN: _unset, ...withoutOrigin } = PRODUCTION;

  it("is the configured origin, without a trailing slash", () => {
    expect(parseEnv({ ...PRODUCTION, INNGEST_SERVE_ORIGIN: "https://payouts.example.com/" }).inngestServeOrigin).toBe(
      "https://payouts.example.com",
    );
    expect(parseEnv({ ...PRODUCTION, INNGEST_SERVE_ORIGIN: "http://10.0.0.5:3000" }).inngestServeOrigin).toBe("http://10.0.0.5:3000");
  });

  it("falls back to NEXTAUTH_URL's origin, then to Vercel's own deployment URL", () => {
    expect(parseEnv({ ...withoutOrigin, NEXTAUTH_URL: "https://dash.example.com/base" }).inngestServeOrigin).toBe(
      "https://dash.example.com",
    );
    expect(parseEnv({ ...withoutOrigin, VERCEL_URL: "payouts-abc123.vercel.app" }).inngestServeOrigin).toBe(
      "https://payouts-abc123.vercel.app",
    );
    expect(
      parseEnv({ ...PRODUCTION, NEXTAUTH_URL: "https://dash.example.com", VERCEL_URL: "payouts-abc123.vercel.app" }).inngestServeOrigin,
    ).toBe("https://payouts.example.com");
  });

  it("is required in production, naming the variable and what to set", () => {
    expect(() => parseEnv(withoutOrigin)).toThrow(/INNGEST_SERVE_ORIGIN is not set: production needs the public origin/);
  });

  it("may stay unset in development (the local dev server syncs over plain http)", () => {
    expect(parseEnv({}).inngestServeOrigin).toBeUndefined();
  });

  it.each([
    ["https://payouts.example.com/api/inngest", /INNGEST_SERVE_ORIGIN: must be an origin only/],
    ["https://payouts.example.com?x=1", /INNGEST_SERVE_ORIGIN: must be an origin only/],
    ["https://user:pw@payouts.example.com", /INNGEST_SERVE_ORIGIN: must be an origin only/],
    ["ftp://payouts.example.com", /INNGEST_SERVE_ORIGIN: must be an http\(s\) URL/],
    ["payouts.example.com", /INNGEST_SERVE_ORIGIN: must be an http\(s\) URL/],
  ])("refuses %s, naming the variable", (value, message) => {
    expect(() => parseEnv({ ...PRODUCTION, INNGEST_SERVE_ORIGIN: value })).toThrow(message);
  });

  it("refuses a VERCEL_URL that is not a host name", () => {
    expect(() => parseEnv({ ...withoutOrigin, VERCEL_URL: "https://x.vercel.app/path" })).toThrow(/VERCEL_URL: must be a host name/);
  });
});

describe("while `next build` runs", () => {
  it("knows the build by Next's NEXT_PHASE", () => {
    expect(isBuildPhase({ NEXT_PHASE: "phase-production-build" })).toBe(true);
    expect(isBuildPhase({ NEXT_PHASE: "phase-production-server" })).toBe(false);
    expect(isBuildPhase({})).toBe(false);
  });

  it("needs no secrets at all in production mode, and no serve origin", () => {
    const env = parseEnv({ NODE_ENV: "production" }, { phase: "build" });
    expect(env.NODE_ENV).toBe("production");
    expect(env.INNGEST_DEV).toBeUndefined();
    expect(env.STRIPE_SECRET_KEY).toMatch(/^sk_test_/);
  });

  it("keeps the secrets that are set", () => {
    expect(parseEnv(PRODUCTION, { phase: "build" }).STRIPE_SECRET_KEY).toBe("sk_live_abc");
  });

  it("still names a malformed value", () => {
    expect(() => parseEnv({ NODE_ENV: "production", STRIPE_SECRET_KEY: "pk_live_123" }, { phase: "build" })).toThrow(
      /STRIPE_SECRET_KEY: must be a Stripe secret key/,
    );
  });

  it("does not relax the running server: the same configuration stops it, naming every missing secret", () => {
    expect(() => parseEnv({ NODE_ENV: "production" }, { phase: "run" })).toThrow(
      /Missing required environment variables for production: DATABASE_URL, NEXTAUTH_SECRET, BOOKING_WEBHOOK_SECRETS, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, INNGEST_SIGNING_KEY, INNGEST_EVENT_KEY, AUDIT_CHAIN_KEY\./,
    );
  });
});

describe("alert notifications (SMTP_URL, ALERT_EMAIL_*, ALERT_CHAT_WEBHOOK_URL)", () => {
  it("are optional: nothing configured sends nothing", () => {
    const env = parseEnv({});
    expect([env.SMTP_URL, env.ALERT_EMAIL_FROM, env.ALERT_EMAIL_TO, env.ALERT_CHAT_WEBHOOK_URL]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(env.ALERT_CHAT_FORMAT).toBe("slack");
    expect(env.ALERT_NOTIFY_WINDOW_MINUTES).toBe(15);
    expect(env.ALERT_DIGEST_MINUTES).toBe(60);
    expect(env.publicOrigin).toBe("http://localhost:3000");
  });

  it("reads the email settings and the recipients, and links to NEXTAUTH_URL's origin", () => {
    const env = parseEnv({
      ...PRODUCTION,
      NEXTAUTH_URL: "https://dash.example.com/",
      SMTP_URL: "smtps://user:pass@smtp.example.com:465",
      ALERT_EMAIL_FROM: "alerts@example.com",
      ALERT_EMAIL_TO: "ops@example.com, finance@example.com",
      ALERT_CHAT_WEBHOOK_URL: "https://hooks.slack.com/services/T0/B0/x",
    });
    expect(env.ALERT_EMAIL_TO).toEqual(["ops@example.com", "finance@example.com"]);
    expect(env.publicOrigin).toBe("https://dash.example.com");
  });

  it("stops the server with a clear error for a bad URL or address, naming the variable", () => {
    expect(() =>
      parseEnv({ SMTP_URL: "http://smtp.example.com", ALERT_EMAIL_FROM: "a@example.com", ALERT_EMAIL_TO: "b@example.com" }),
    ).toThrow(/SMTP_URL: must be an smtp:\/\/ or smtps:\/\/ URL/);
    expect(() => parseEnv({ ALERT_CHAT_WEBHOOK_URL: "not a url" })).toThrow(/ALERT_CHAT_WEBHOOK_URL: must be an http\(s\) URL/);
    expect(() => parseEnv({ ALERT_CHAT_WEBHOOK_URL: "ftp://hooks.example.com/x" })).toThrow(/ALERT_CHAT_WEBHOOK_URL/);
    expect(() =>
      parseEnv({ SMTP_URL: "smtp://smtp.example.com", ALERT_EMAIL_FROM: "a@example.com", ALERT_EMAIL_TO: "ops, b@example.com" }),
    ).toThrow(/ALERT_EMAIL_TO\.0: each must be an email address/);
  });

  it("needs all three email settings or none", () => {
    expect(() => parseEnv({ SMTP_URL: "smtp://smtp.example.com" })).toThrow(
      /need all of SMTP_URL, ALERT_EMAIL_FROM and ALERT_EMAIL_TO.*missing: ALERT_EMAIL_FROM, ALERT_EMAIL_TO/,
    );
    expect(() => parseEnv({ ALERT_EMAIL_TO: "ops@example.com" })).toThrow(/missing: SMTP_URL, ALERT_EMAIL_FROM/);
  });
});
