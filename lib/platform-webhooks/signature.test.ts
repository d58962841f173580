import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { describe, expect, it } from "vitest";

import { generateWebhookSecret, isWebhookSecret, webhookHeaders } from "./signature";

// Our signatures, checked by the Standard Webhooks reference library, as a platform would.
describe("Standard Webhooks signatures", () => {
  const body = JSON.stringify({ type: "payout.transferred", timestamp: "2026-12-03T10:00:00.000Z", data: { amount: 9_500 } });

  it("verifies with the standardwebhooks package", () => {
    const secret = generateWebhookSecret();
    const headers = webhookHeaders({ msgId: "msg_1", at: new Date(), body, secrets: [secret] });
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it("refuses a tampered body, a wrong secret, an old timestamp", () => {
    const secret = generateWebhookSecret();
    const headers = webhookHeaders({ msgId: "msg_1", at: new Date(), body, secrets: [secret] });
    expect(() => new Webhook(secret).verify(body.replace("9500", "9501"), headers)).toThrow(WebhookVerificationError);
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow(WebhookVerificationError);
    const old = webhookHeaders({ msgId: "msg_1", at: new Date(Date.now() - 10 * 60_000), body, secrets: [secret] });
    expect(() => new Webhook(secret).verify(body, old)).toThrow(/too old/);
  });

  it("signs with every secret during a rotation: the old and the new both verify", () => {
    const [oldSecret, newSecret] = [generateWebhookSecret(), generateWebhookSecret()];
    const headers = webhookHeaders({ msgId: "msg_2", at: new Date(), body, secrets: [newSecret, oldSecret] });
    expect(headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(new Webhook(oldSecret).verify(body, headers)).toBeTruthy();
    expect(new Webhook(newSecret).verify(body, headers)).toBeTruthy();
  });

  it("generates secrets of the specification's form", () => {
    const secret = generateWebhookSecret();
    expect(isWebhookSecret(secret)).toBe(true);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    expect(isWebhookSecret("whsec_not base64!")).toBe(false);
    expect(isWebhookSecret("sk_test_1")).toBe(false);
  });
});
