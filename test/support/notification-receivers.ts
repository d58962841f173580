// Where alert notifications arrive in tests: a real SMTP server (smtp-server) and a local HTTP
// receiver standing in for a chat webhook, both in the test process on ephemeral ports. Each
// keeps what arrived; each can be told to refuse (an SMTP 451, an HTTP 500) or to answer slowly.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { SMTPServer } from "smtp-server";

export type TReceivedEmail = { from: string; to: string[]; subject: string; text: string; messageId: string };

export type TSmtpReceiver = {
  url: string;
  emails(): TReceivedEmail[];
  clear(): void;
  /** Refuse the next `times` messages with a temporary error (451). */
  failNext(times?: number): void;
  /** Hold every message this long before accepting it. */
  setDelay(ms: number): void;
  stop(): Promise<void>;
};

/** RFC 2047 encoded words (=?UTF-8?Q?…?= / ?B?), as nodemailer writes non-ASCII or long headers. */
function decodeHeader(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, _charset: string, encoding: string, text: string) =>
      encoding.toUpperCase() === "B"
        ? Buffer.from(text, "base64").toString("utf8")
        : Buffer.from(
            text.replace(/_/g, " ").replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
            "latin1",
          ).toString("utf8"),
    );
}

function decodeQuotedPrintable(body: string): string {
  const bytes = body.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, "latin1").toString("utf8");
}

export function parseEmail(raw: string, envelope: { from: string; to: string[] }): TReceivedEmail {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split).replace(/\r\n[ \t]/g, " ");
  let body = raw.slice(split + 4);
  const headers = new Map<string, string>();
  for (const line of head.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  const encoding = headers.get("content-transfer-encoding")?.toLowerCase();
  if (encoding === "quoted-printable") body = decodeQuotedPrintable(body);
  else if (encoding === "base64") body = Buffer.from(body, "base64").toString("utf8");
  return {
    ...envelope,
    subject: decodeHeader(headers.get("subject") ?? ""),
    text: body.replace(/\r\n/g, "\n").trimEnd(),
    messageId: headers.get("message-id") ?? "",
  };
}

export async function startSmtpReceiver(): Promise<TSmtpReceiver> {
  const received: TReceivedEmail[] = [];
  let failures = 0;
  let delayMs = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const finish = () => {
          if (failures > 0) {
            failures -= 1;
            const error = Object.assign(new Error("Mailbox busy, try again later"), { responseCode: 451 });
            callback(error);
            return;
          }
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
          received.push(parseEmail(Buffer.concat(chunks).toString("utf8"), { from, to: session.envelope.rcptTo.map((r) => r.address) }));
          callback();
        };
        if (delayMs > 0) setTimeout(finish, delayMs);
        else finish();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    emails: () => [...received],
    clear: () => {
      received.length = 0;
    },
    failNext: (times = 1) => {
      failures = times;
    },
    setDelay: (ms) => {
      delayMs = ms;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type TChatReceiver = {
  url: string;
  posts(): unknown[];
  clear(): void;
  /** Answer the next `times` posts with a 500. */
  failNext(times?: number): void;
  stop(): Promise<void>;
};

export async function startChatReceiver(): Promise<TChatReceiver> {
  const received: unknown[] = [];
  let failures = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (failures > 0) {
        failures -= 1;
        res.writeHead(500, { "content-type": "text/plain" }).end("receiver broke");
        return;
      }
      received.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/alerts`,
    posts: () => [...received],
    clear: () => {
      received.length = 0;
    },
    failNext: (times = 1) => {
      failures = times;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
