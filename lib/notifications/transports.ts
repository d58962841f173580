import "server-only";

import nodemailer from "nodemailer";

import type { TChatConfig, TEmailConfig } from "./config";

/** Every send gives up well within a sender's lease (send-notifications.ts NOTIFICATION_LEASE_MS). */
export const SEND_TIMEOUT_MS = 20_000;

const transporters = new Map<string, nodemailer.Transporter>();

function transporterFor(smtpUrl: string): nodemailer.Transporter {
  let transporter = transporters.get(smtpUrl);
  if (!transporter) {
    transporter = nodemailer.createTransport(smtpUrl, {
      connectionTimeout: SEND_TIMEOUT_MS,
      greetingTimeout: SEND_TIMEOUT_MS,
      socketTimeout: SEND_TIMEOUT_MS,
    });
    transporters.set(smtpUrl, transporter);
  }
  return transporter;
}

export async function sendEmail(config: TEmailConfig, message: { subject: string; text: string; messageId: string }): Promise<void> {
  await transporterFor(config.smtpUrl).sendMail({
    from: config.from,
    to: config.to,
    subject: message.subject,
    text: message.text,
    // One Message-ID per notification: a retry after an unclear failure is recognisable as the same message.
    messageId: message.messageId,
  });
}

export async function postChat(config: TChatConfig, body: unknown): Promise<void> {
  const response = await fetch(config.url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    redirect: "error",
  });
  if (!response.ok) {
    const detail = (await response.text().catch(() => "")).slice(0, 200);
    throw new Error(`The chat webhook answered ${response.status}${detail ? `: ${detail}` : ""}`);
  }
}
