// The booking platform's webhook signature:
//   Payouts-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">[,v1=…]
// Several v1 values may be present (the sender signs with old and new secret while
// rotating); several secrets may be configured (BOOKING_WEBHOOK_SECRETS). A delivery is
// authentic when any v1 matches any secret, compared in constant time, over the raw bytes.
import { createHmac, timingSafeEqual } from "node:crypto";

import { WebhookSignatureError } from "./errors";

export const BOOKING_SIGNATURE_HEADER = "payouts-signature";
/** How far the signature's timestamp may be from our clock, either way. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** Hex HMAC-SHA256 of `<timestamp>.<raw body>`. */
export function computeBookingSignature(secret: string, timestamp: number, rawBody: Uint8Array | string): string {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(rawBody).digest("hex");
}

/** The header value for `rawBody`, signed with each secret given (as a sender rotating secrets does). */
export function signBookingWebhook(
  rawBody: Uint8Array | string,
  secrets: string | string[],
  timestamp: number = Math.floor(Date.now() / 1000),
): string {
  const list = Array.isArray(secrets) ? secrets : [secrets];
  return [`t=${timestamp}`, ...list.map((secret) => `v1=${computeBookingSignature(secret, timestamp, rawBody)}`)].join(",");
}

export type TParsedSignature = { timestamp: number; signatures: Buffer[] };

/** Parses `t=…,v1=…[,v1=…]`; unknown schemes (v0, …) are skipped. Null when malformed. */
export function parseSignatureHeader(header: string): TParsedSignature | null {
  let timestamp: number | null = null;
  const signatures: Buffer[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) return null;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t") {
      if (timestamp !== null || !/^\d{1,12}$/.test(value)) return null;
      timestamp = Number(value);
    } else if (key === "v1") {
      if (!/^[0-9a-fA-F]{64}$/.test(value)) return null;
      signatures.push(Buffer.from(value, "hex"));
    }
  }
  if (timestamp === null || signatures.length === 0) return null;
  return { timestamp, signatures };
}

export type TVerifyInput = {
  rawBody: Uint8Array;
  header: string | null;
  secrets: readonly string[];
  now: Date;
  toleranceSeconds?: number;
};

/**
 * Throws WebhookSignatureError (401) unless the header is well formed, its timestamp is
 * within the tolerance of `now` (either way), and one of its v1 signatures is the HMAC of
 * the raw body with one of the secrets. Returns the signed timestamp.
 */
export function verifyBookingSignature(input: TVerifyInput): number {
  if (!input.header) throw new WebhookSignatureError("The Payouts-Signature header is missing.");
  const parsed = parseSignatureHeader(input.header);
  if (!parsed)
    throw new WebhookSignatureError("The Payouts-Signature header is malformed; expected t=<unix seconds>,v1=<hex HMAC-SHA256>.");

  const tolerance = input.toleranceSeconds ?? SIGNATURE_TOLERANCE_SECONDS;
  const nowSeconds = Math.floor(input.now.getTime() / 1000);
  if (Math.abs(nowSeconds - parsed.timestamp) > tolerance) {
    throw new WebhookSignatureError(`The signature's timestamp is more than ${tolerance} seconds from our clock.`);
  }

  let matched = false;
  for (const secret of input.secrets) {
    const expected = createHmac("sha256", secret).update(`${parsed.timestamp}.`).update(input.rawBody).digest();
    for (const candidate of parsed.signatures) {
      // Both are 32 bytes (checked when parsing); no early exit on a match.
      matched = timingSafeEqual(expected, candidate) || matched;
    }
  }
  if (!matched) throw new WebhookSignatureError("No signature matches the body.");
  return parsed.timestamp;
}
