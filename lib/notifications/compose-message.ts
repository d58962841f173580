// What a notification says, for email (subject + plain text) and chat (text, and Slack blocks
// or a plain JSON description). Pure: no I/O.
import { formatMoney } from "@/lib/money/format-money";

export type TMessageAlert = {
  id: string;
  kind: string;
  severity: string;
  title: string;
  message: string;
  createdAt: Date;
  payout: { id: string; amount: number; currency: string } | null;
  provider: { name: string } | null;
};

export type TMessageInput = {
  kind: "critical" | "digest" | "test";
  alerts: TMessageAlert[];
  /** The dashboard's public origin (links). */
  origin: string;
  /** Critical: whether an earlier message of this kind went in the window before (a roll-up). */
  rollUp?: boolean;
  /** Test messages: who asked. */
  requestedBy?: string;
};

export type TComposedMessage = {
  subject: string;
  text: string;
  /** For the chat's JSON format: one entry per alert. */
  alerts: {
    id: string;
    kind: string;
    severity: string;
    title: string;
    message: string;
    amount: string | null;
    payoutUrl: string | null;
    raisedAt: string;
  }[];
};

/** At most this many alerts are written out in one message; the rest are counted. */
export const MAX_ALERTS_WRITTEN = 20;

export function payoutUrl(origin: string, payoutId: string): string {
  return `${origin}/payouts/${encodeURIComponent(payoutId)}`;
}

function amountOf(alert: TMessageAlert): string | null {
  return alert.payout ? formatMoney(alert.payout.amount, alert.payout.currency) : null;
}

function alertLines(alert: TMessageAlert, origin: string): string[] {
  const lines = [`${alert.title} (${alert.severity}, ${alert.createdAt.toISOString().replace("T", " ").slice(0, 16)} UTC)`, alert.message];
  const amount = amountOf(alert);
  if (amount) lines.push(`Amount: ${amount}`);
  if (alert.provider) lines.push(`Provider: ${alert.provider.name}`);
  if (alert.payout) lines.push(`Payout: ${payoutUrl(origin, alert.payout.id)}`);
  return lines;
}

export function composeMessage(input: TMessageInput): TComposedMessage {
  const { alerts, origin } = input;
  const count = alerts.length;
  const first = alerts[0];
  let subject: string;
  let intro: string;
  if (input.kind === "test") {
    subject = "[Payouts] Test message";
    intro = `This is a test of the alert notifications${input.requestedBy ? `, sent by ${input.requestedBy}` : ""}. Nothing needs doing.`;
  } else if (input.kind === "digest") {
    subject = `[Payouts] ${count} warning${count === 1 ? "" : "s"}`;
    intro = `${count} warning${count === 1 ? "" : "s"} raised since the last digest:`;
  } else {
    const title = first?.title ?? "Alert";
    const amount = count === 1 && first ? amountOf(first) : null;
    subject =
      count === 1 && !input.rollUp
        ? `[Payouts] CRITICAL: ${title}${amount ? ` (${amount})` : ""}`
        : `[Payouts] CRITICAL: ${title}: ${count}${input.rollUp ? " more" : ""} alert${count === 1 ? "" : "s"}`;
    intro = input.rollUp
      ? `${count} more critical alert${count === 1 ? "" : "s"} of this kind were raised since the last message (one message per kind per window):`
      : count === 1
        ? "A critical alert was raised:"
        : `${count} critical alerts of this kind were raised:`;
  }
  const written = alerts.slice(0, MAX_ALERTS_WRITTEN);
  const blocks = written.map((a) => alertLines(a, origin).join("\n"));
  if (count > written.length) blocks.push(`…and ${count - written.length} more.`);
  const text = [intro, ...blocks, `All alerts: ${origin}/alerts`].join("\n\n");
  return {
    subject,
    text,
    alerts: written.map((a) => ({
      id: a.id,
      kind: a.kind,
      severity: a.severity,
      title: a.title,
      message: a.message,
      amount: amountOf(a),
      payoutUrl: a.payout ? payoutUrl(origin, a.payout.id) : null,
      raisedAt: a.createdAt.toISOString(),
    })),
  };
}

/** The chat webhook's JSON body: Slack's incoming-webhook shape, or a plain description. */
export function chatBody(message: TComposedMessage, format: "slack" | "json", meta: { kind: string; count: number }): unknown {
  if (format === "json")
    return { subject: message.subject, text: message.text, kind: meta.kind, count: meta.count, alerts: message.alerts };
  return { text: `*${message.subject}*\n\n${message.text}` };
}
