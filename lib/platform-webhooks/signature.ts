// Standard Webhooks signatures (https://www.standardwebhooks.com), made with node:crypto: the
// content signed is `${webhook-id}.${webhook-timestamp}.${body}`, HMAC-SHA256 with the secret's
// bytes (base64 after `whsec_`), sent as `v1,<base64>`; several secrets (a rotation's grace period)
// give several signatures, space-separated, and a receiver accepts any one that matches.
import { createHmac, randomBytes } from "node:crypto";

const PREFIX = "whsec_";
/** Bytes of a secret we generate (the specification asks for 24 to 64). */
const SECRET_BYTES = 32;

/** A new random `whsec_…` secret, shown to the admin once. */
export function generateWebhookSecret(): string {
  return PREFIX + randomBytes(SECRET_BYTES).toString("base64");
}

/** The key bytes of a `whsec_…` secret (base64 after the prefix); an error for anything else. */
export function secretKey(secret: string): Buffer {
  if (!isWebhookSecret(secret)) throw new Error("A Standard Webhooks secret is whsec_ followed by base64.");
  return Buffer.from(secret.slice(PREFIX.length), "base64");
}

export function isWebhookSecret(value: string): boolean {
  if (!value.startsWith(PREFIX)) return false;
  const body = value.slice(PREFIX.length);
  return body.length >= 4 && /^[A-Za-z0-9+/]+={0,2}$/.test(body) && body.length % 4 === 0;
}

/** One `v1,<base64>` signature of a message. */
export function signMessage(secret: string, msgId: string, timestampSeconds: number, body: string): string {
  const mac = createHmac("sha256", secretKey(secret)).update(`${msgId}.${timestampSeconds}.${body}`).digest("base64");
  return `v1,${mac}`;
}

/** The three Standard Webhooks headers of one attempt, signed with every secret given (at least one). */
export function webhookHeaders(input: { msgId: string; at: Date; body: string; secrets: readonly string[] }): Record<string, string> {
  if (input.secrets.length === 0) throw new Error("No secret to sign the webhook with.");
  if (input.msgId.includes(".")) throw new Error("A webhook id must not contain a full stop.");
  const timestamp = Math.floor(input.at.getTime() / 1000);
  return {
    "webhook-id": input.msgId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": input.secrets.map((s) => signMessage(s, input.msgId, timestamp, input.body)).join(" "),
  };
}
