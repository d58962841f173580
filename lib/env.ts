// The one place that reads and validates configuration. The server validates it when it starts
// (instrumentation.ts; next.config.mjs for `next dev` / `next start`) and on first use, so a bad
// value stops it naming the variable. `next build` needs no secrets: while it runs (NEXT_PHASE is
// phase-production-build) missing secrets get inert placeholders that no server ever uses.
// Plain TypeScript (no path aliases, no enums) so Node can load it directly.
import { z } from "zod";

import { DEFAULT_TIMING } from "./payouts/timing.ts";
import { isWebhookSecret } from "./platform-webhooks/signature.ts";

const LOCAL_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/payouts";

// Development-only defaults. Never used when NODE_ENV=production.
const DEV_DEFAULTS = {
  NEXTAUTH_SECRET: "payouts-development-secret-do-not-use-in-production",
  BOOKING_WEBHOOK_SECRETS: "whsec_booking_development",
  STRIPE_SECRET_KEY: "sk_test_development",
  STRIPE_WEBHOOK_SECRET: "whsec_stripe_development",
  AUDIT_CHAIN_KEY: "payouts-development-audit-chain-key-do-not-use-in-production",
} as const;

/** Secrets every production deployment must set explicitly. */
export const PRODUCTION_SECRETS = [
  "DATABASE_URL",
  "NEXTAUTH_SECRET",
  "BOOKING_WEBHOOK_SECRETS",
  "STRIPE_SECRET_KEY",
  "STRIPE_WEBHOOK_SECRET",
  "INNGEST_SIGNING_KEY",
  "INNGEST_EVENT_KEY",
  "AUDIT_CHAIN_KEY",
] as const;

/** Next.js sets NEXT_PHASE to this while `next build` runs (next/constants PHASE_PRODUCTION_BUILD). */
const BUILD_PHASE = "phase-production-build";

/** Stand-ins for absent secrets while `next build` runs: the build imports route modules, never serves them. */
const BUILD_PLACEHOLDERS = {
  ...DEV_DEFAULTS,
  DATABASE_URL: "postgresql://build-placeholder@127.0.0.1:5432/not-used-by-the-build",
  INNGEST_SIGNING_KEY: "signkey-build-placeholder",
  INNGEST_EVENT_KEY: "build-placeholder",
} as const;

/** An http(s) origin (scheme, host, optional port), without path, query or credentials. */
const ZOrigin = z
  .url({ protocol: /^https?$/, error: "must be an http(s) URL such as https://payouts.example.com" })
  .refine((value) => {
    if (!URL.canParse(value)) return true; // reported by the check above
    const url = new URL(value);
    return url.pathname === "/" && !url.search && !url.hash && !url.username && !url.password;
  }, "must be an origin only (scheme, host and port; no path, query or credentials), such as https://payouts.example.com")
  .transform((value) => new URL(value).origin);

/** An smtp:// or smtps:// URL with a host (credentials and port optional). */
const ZSmtpUrl = z
  .string()
  .trim()
  .refine((value) => {
    if (!URL.canParse(value)) return false;
    const url = new URL(value);
    return (url.protocol === "smtp:" || url.protocol === "smtps:") && url.hostname !== "";
  }, "must be an smtp:// or smtps:// URL such as smtps://user:password@smtp.example.com:465");

const ZEmailAddress = z.email({ error: "must be an email address such as payouts@example.com" });

const boolish = z.enum(["0", "1", "true", "false"]).transform((v) => v === "1" || v === "true");

const hours = (fallback: number) =>
  z.coerce
    .number()
    .positive()
    .max(24 * 365)
    .default(fallback);

/** A comma-separated list of one or more values, each trimmed and checked by `item`; empty entries dropped. */
function commaSeparated(item: z.ZodType<string, string>) {
  return z
    .string()
    .min(1)
    .transform((v) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item).min(1));
}

const ZEnv = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL"),
  /**
   * Prepare repeated statements once per connection (lib/statement-names.ts). "false" behind a
   * transaction-mode pooler that cannot keep them (PgBouncer before 1.21); `pgbouncer=true` in
   * DATABASE_URL turns it off too.
   */
  DATABASE_PREPARED_STATEMENTS: boolish.default(true),
  /**
   * Connections per server, beside Prisma's 10, on which the engine's lookups by key outside a
   * transaction are planned once (lib/direct-sql.ts: a session setting, plan_cache_mode). 0 behind
   * a transaction-mode pooler (PgBouncer, Neon's and Supabase's pooled strings): it would pass a
   * connection's session setting on to other clients' sessions. Unused when statements are not prepared.
   */
  DATABASE_GENERIC_PLAN_CONNECTIONS: z.coerce.number().int().min(0).max(20).default(4),
  NEXTAUTH_SECRET: z.string().min(16, "must be at least 16 characters"),
  NEXTAUTH_URL: z.url().optional(),
  /** Comma-separated; several values allow rotating the booking platform's signing secret. */
  BOOKING_WEBHOOK_SECRETS: commaSeparated(z.string().min(8, "each secret must be at least 8 characters")),
  STRIPE_SECRET_KEY: z.string().regex(/^(sk|rk)_(test|live)_/, "must be a Stripe secret key (sk_… or rk_…)"),
  /**
   * Comma-separated: the account endpoint's signing secret and, when Connect events
   * (account.updated) come through a Connect endpoint, that endpoint's; or two during rotation.
   */
  STRIPE_WEBHOOK_SECRET: commaSeparated(z.string().startsWith("whsec_", "each secret must start with whsec_")),
  /** Overrides for pointing the Stripe SDK at a local fake (tests only). */
  STRIPE_API_HOST: z.string().optional(),
  STRIPE_API_PORT: z.coerce.number().int().positive().optional(),
  STRIPE_API_PROTOCOL: z.enum(["http", "https"]).optional(),
  /** Retries the Stripe SDK makes itself (same idempotency key) before a job-level retry. */
  STRIPE_MAX_NETWORK_RETRIES: z.coerce.number().int().min(0).max(5).default(2),
  STRIPE_TIMEOUT_MS: z.coerce.number().int().positive().default(20_000),
  /** All Stripe writes (transfers, reversals, repayments) together stay under this many per second. */
  STRIPE_WRITES_PER_SECOND: z.coerce.number().positive().max(100).default(20),
  /**
   * The currencies the platform's Stripe balance holds (comma-separated, e.g. "usd"). Unset: read
   * from Stripe's balance (GET /v1/balance, cached for an hour).
   */
  STRIPE_SETTLEMENT_CURRENCIES: z
    .string()
    .optional()
    .transform((v) =>
      v === undefined
        ? undefined
        : v
            .split(",")
            .map((s) => s.trim().toUpperCase())
            .filter(Boolean),
    )
    .pipe(
      z
        .array(z.string().regex(/^[A-Z]{3}$/, "each must be a three-letter currency code"))
        .min(1)
        .optional(),
    ),
  /**
   * The booking platform's default webhook endpoint (deployments set up as code); endpoints can
   * also be added in the dashboard. http(s) only.
   */
  PLATFORM_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  /**
   * Its Standard Webhooks signing secret (whsec_ followed by base64). Several, separated by spaces
   * or commas, during a rotation: each delivery is signed with all of them.
   */
  PLATFORM_WEBHOOK_SECRET: z
    .string()
    .optional()
    .transform((v) => (v === undefined ? undefined : v.split(/[\s,]+/).filter(Boolean)))
    .pipe(z.array(z.string().refine(isWebhookSecret, "each secret must be whsec_ followed by base64")).min(1).optional()),
  /** A payout still waiting for funds this many days after Stripe first refused the transfer raises an alert. */
  FUNDS_WAIT_ALERT_DAYS: z.coerce.number().positive().max(365).default(7),
  /** A Stripe dispute or refund that matches no booking after this many minutes raises a critical alert. */
  STRIPE_UNMATCHED_GRACE_MINUTES: z.coerce
    .number()
    .positive()
    .max(7 * 24 * 60)
    .default(15),
  /**
   * Whether to believe X-Forwarded-For for the client's address (sign-in throttling): unset or
   * "false" trusts no header; "true" (one proxy) or a hop count takes the address that many hops
   * from the right. On Vercel (VERCEL=1, set by the platform) its own headers are used instead.
   */
  TRUST_PROXY: z
    .string()
    .trim()
    .regex(/^(true|false|[0-9])$/, 'must be "true", "false" or a hop count from 0 to 9')
    .optional()
    .transform((v) => (v === undefined || v === "false" ? 0 : v === "true" ? 1 : Number(v))),
  VERCEL: z.string().optional(),
  /**
   * The key the audit log's seals are HMAC'd with (lib/audit-chain/audit-chain-hash.ts). Only the app
   * knows it, never the database, so the database's owner cannot forge a seal. Changing it makes
   * every seal made before fail verification.
   */
  AUDIT_CHAIN_KEY: z.string().min(32, "must be at least 32 characters (e.g. openssl rand -hex 32)"),
  INNGEST_EVENT_KEY: z.string().optional(),
  INNGEST_SIGNING_KEY: z.string().optional(),
  /** "1" to talk to a local Inngest dev server instead of Inngest Cloud. */
  INNGEST_DEV: boolish.optional(),
  INNGEST_BASE_URL: z.url().optional(),
  /**
   * The public origin Inngest calls the functions on (https://payouts.example.com). Syncs register
   * `<origin>/api/inngest`, never the request's Host header. Unset: NEXTAUTH_URL's origin, else
   * https://$VERCEL_URL on Vercel; production needs one of them.
   */
  INNGEST_SERVE_ORIGIN: ZOrigin.optional(),
  /** Set by Vercel: the deployment's own host name (no scheme). */
  VERCEL_URL: z
    .string()
    .regex(/^[a-z0-9.-]+(:\d+)?$/i, "must be a host name such as my-app.vercel.app")
    .optional(),
  PAYOUT_DELAY_HOURS: hours(DEFAULT_TIMING.payoutDelayHours),
  TIP_WINDOW_HOURS: hours(DEFAULT_TIMING.tipWindowHours),
  /**
   * Force releases at or above this amount, in the payout's own currency, need a second admin's
   * approval. Written in main units ("1000", "1000.00"); parsed into hundredths of a main unit.
   */
  /** Alert emails: the SMTP server (smtp:// or smtps://, credentials in the URL). Unset: no email. */
  SMTP_URL: ZSmtpUrl.optional(),
  /** The sender of alert emails (required with SMTP_URL). */
  ALERT_EMAIL_FROM: ZEmailAddress.optional(),
  /** Who gets alert emails, comma-separated (required with SMTP_URL). */
  ALERT_EMAIL_TO: commaSeparated(z.email({ error: "each must be an email address such as ops@example.com" })).optional(),
  /** A Slack-compatible incoming webhook (or any JSON receiver) for alerts. Unset: no chat. */
  ALERT_CHAT_WEBHOOK_URL: z
    .url({ protocol: /^https?$/, error: "must be an http(s) URL such as https://hooks.slack.com/services/…" })
    .optional(),
  /** "slack" (default): Slack's { text, blocks }; "json": a plain JSON description of the message. */
  ALERT_CHAT_FORMAT: z.enum(["slack", "json"]).default("slack"),
  /** Flood control: at most one message per alert kind (and channel) in this many minutes. */
  ALERT_NOTIFY_WINDOW_MINUTES: z.coerce
    .number()
    .positive()
    .max(24 * 60)
    .default(15),
  /** Warnings go out together, at most one digest per this many minutes. */
  ALERT_DIGEST_MINUTES: z.coerce
    .number()
    .positive()
    .max(7 * 24 * 60)
    .default(60),
  FOUR_EYES_THRESHOLD: z
    .string()
    .trim()
    .regex(/^\d{1,12}(\.\d{1,2})?$/, "must be an amount in main currency units, such as 1000 or 1000.00")
    .default("1000.00")
    .transform((amount) => {
      const [units = "0", fraction = ""] = amount.split(".");
      return Number(units) * 100 + Number(fraction.padEnd(2, "0"));
    }),
});

export type TEnv = z.infer<typeof ZEnv> & {
  /** Where Inngest reaches this app: INNGEST_SERVE_ORIGIN, else NEXTAUTH_URL's origin, else https://$VERCEL_URL. */
  inngestServeOrigin: string | undefined;
  /** The dashboard's public origin for links in messages: NEXTAUTH_URL's origin, else the serve origin, else http://localhost:3000. */
  publicOrigin: string;
};

export type TParseEnvOptions = {
  /** "build": `next build` is running; absent secrets get placeholders instead of stopping it. */
  phase?: "build" | "run";
};

export class EnvError extends Error {
  override name = "EnvError";
}

export function parseEnv(source: Record<string, string | undefined>, options: TParseEnvOptions = {}): TEnv {
  const isProduction = source.NODE_ENV === "production";
  const isBuild = options.phase === "build";
  const input: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(source)) {
    // Treat empty strings as unset, as most hosting dashboards write them.
    input[key] = value === "" ? undefined : value;
  }

  if (isBuild) {
    for (const [key, value] of Object.entries(BUILD_PLACEHOLDERS)) input[key] ??= value;
  } else if (isProduction) {
    const missing = PRODUCTION_SECRETS.filter((key) => input[key] === undefined);
    if (missing.length > 0) {
      throw new EnvError(
        `Missing required environment variable${missing.length > 1 ? "s" : ""} for production: ${missing.join(", ")}. ` +
          "See .env.example.",
      );
    }
  } else {
    input.DATABASE_URL ??= LOCAL_DATABASE_URL;
    for (const [key, value] of Object.entries(DEV_DEFAULTS)) input[key] ??= value;
    // Without keys, talk to a local Inngest dev server (or fail soft when none runs).
    if (input.INNGEST_SIGNING_KEY === undefined) input.INNGEST_DEV ??= "1";
  }

  const parsed = ZEnv.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new EnvError(`Invalid environment configuration:\n${problems.join("\n")}\nSee .env.example.`);
  }
  if (isProduction && parsed.data.INNGEST_DEV) {
    // The Inngest SDK skips request signature checks in dev mode: /api/inngest would run
    // transfers for anyone who posts to it.
    throw new EnvError("INNGEST_DEV must not be set in production: it turns off request signing on /api/inngest.");
  }
  if (parsed.data.PLATFORM_WEBHOOK_URL !== undefined && parsed.data.PLATFORM_WEBHOOK_SECRET === undefined) {
    throw new EnvError(
      "PLATFORM_WEBHOOK_URL is set without PLATFORM_WEBHOOK_SECRET (a whsec_… secret to sign its deliveries). See .env.example.",
    );
  }
  const inngestServeOrigin =
    parsed.data.INNGEST_SERVE_ORIGIN ??
    (parsed.data.NEXTAUTH_URL ? new URL(parsed.data.NEXTAUTH_URL).origin : undefined) ??
    (parsed.data.VERCEL_URL ? `https://${parsed.data.VERCEL_URL}` : undefined);
  if (isProduction && !isBuild && inngestServeOrigin === undefined) {
    // Without it the Inngest SDK takes the origin from the request's Host header.
    throw new EnvError(
      "INNGEST_SERVE_ORIGIN is not set: production needs the public origin Inngest calls the functions on, such as " +
        "https://payouts.example.com (NEXTAUTH_URL or, on Vercel, VERCEL_URL are used when it is unset). See .env.example.",
    );
  }
  const email = [parsed.data.SMTP_URL, parsed.data.ALERT_EMAIL_FROM, parsed.data.ALERT_EMAIL_TO];
  if (email.some((v) => v !== undefined) && email.some((v) => v === undefined)) {
    throw new EnvError(
      "Alert emails need all of SMTP_URL, ALERT_EMAIL_FROM and ALERT_EMAIL_TO (or none of them); missing: " +
        ["SMTP_URL", "ALERT_EMAIL_FROM", "ALERT_EMAIL_TO"].filter((_, i) => email[i] === undefined).join(", ") +
        ". See .env.example.",
    );
  }
  const publicOrigin =
    (parsed.data.NEXTAUTH_URL ? new URL(parsed.data.NEXTAUTH_URL).origin : undefined) ?? inngestServeOrigin ?? "http://localhost:3000";
  return { ...parsed.data, inngestServeOrigin, publicOrigin };
}

/** Whether `next build` is running (it sets NEXT_PHASE for its own process and its workers). */
export function isBuildPhase(source: Record<string, string | undefined> = process.env): boolean {
  return source.NEXT_PHASE === BUILD_PHASE;
}

let cached: TEnv | undefined;

/**
 * The validated configuration, parsed on first use (and when the server starts:
 * instrumentation.ts). While `next build` runs, absent secrets are placeholders.
 */
export function getEnv(): TEnv {
  cached ??= parseEnv(process.env, { phase: isBuildPhase() ? "build" : "run" });
  return cached;
}

/**
 * Called by instrumentation.ts when a server starts: validates the configuration (Node.js
 * runtime; the edge runtime reads none of it) and throws an EnvError naming what is wrong.
 */
export function validateEnvOnStart(): void {
  if (process.env.NEXT_RUNTIME === "edge") return;
  getEnv();
}

/** For tests that change process.env between cases. */
export function resetEnvForTests(): void {
  cached = undefined;
}
