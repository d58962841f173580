import "server-only";

import { getEnv, type TEnv } from "@/lib/env";

export type TEmailConfig = { smtpUrl: string; from: string; to: string[] };
export type TChatConfig = { url: string; format: "slack" | "json" };

/** Where and how alert notifications go; read from the environment (lib/env.ts) or given by tests. */
export type TNotificationConfig = {
  email: TEmailConfig | null;
  chat: TChatConfig | null;
  /** Flood control: one message per alert kind and channel per window. */
  windowMs: number;
  /** Warnings: one digest per channel per this long. */
  digestMs: number;
  /** The dashboard's public origin, for links to payouts. */
  publicOrigin: string;
};

export type TChannel = "email" | "chat";

export function notificationConfigFrom(env: TEnv): TNotificationConfig {
  return {
    email:
      env.SMTP_URL && env.ALERT_EMAIL_FROM && env.ALERT_EMAIL_TO
        ? { smtpUrl: env.SMTP_URL, from: env.ALERT_EMAIL_FROM, to: env.ALERT_EMAIL_TO }
        : null,
    chat: env.ALERT_CHAT_WEBHOOK_URL ? { url: env.ALERT_CHAT_WEBHOOK_URL, format: env.ALERT_CHAT_FORMAT } : null,
    windowMs: env.ALERT_NOTIFY_WINDOW_MINUTES * 60_000,
    digestMs: env.ALERT_DIGEST_MINUTES * 60_000,
    publicOrigin: env.publicOrigin,
  };
}

export function notificationConfig(): TNotificationConfig {
  return notificationConfigFrom(getEnv());
}

/** The channels messages go to (none: nothing is sent and nothing is recorded). */
export function configuredChannels(config: TNotificationConfig): TChannel[] {
  const channels: TChannel[] = [];
  if (config.email) channels.push("email");
  if (config.chat) channels.push("chat");
  return channels;
}

/** What the Alerts page says about the configuration (no secrets: the SMTP URL's credentials are left out). */
export type TNotificationSetup = { configured: boolean; email: { to: string[] } | null; chat: { host: string } | null };

export function notificationSetup(config: TNotificationConfig = notificationConfig()): TNotificationSetup {
  return {
    configured: configuredChannels(config).length > 0,
    email: config.email ? { to: config.email.to } : null,
    chat: config.chat ? { host: new URL(config.chat.url).host } : null,
  };
}
