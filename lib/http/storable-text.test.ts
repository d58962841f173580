import { describe, expect, it } from "vitest";
import { z } from "zod";

import { contentSecurityPolicy, createNonce } from "./content-security-policy";
import { storableText, unstorableTextProblem } from "./storable-text";

describe("storableText", () => {
  it("refuses NUL and unpaired surrogates, accepts any other Unicode", () => {
    expect(unstorableTextProblem("a\u0000b")).toMatch(/NUL/);
    expect(unstorableTextProblem("a\ud800b")).toMatch(/surrogate/);
    expect(unstorableTextProblem("a\udc00")).toMatch(/surrogate/);
    expect(unstorableTextProblem("\udc00\ud800")).toMatch(/surrogate/);
    for (const ok of ["", "plain", "Zoë's café", "😀 paired surrogates", "tab\tand\nnewline", "\u007f\ufffd"]) {
      expect(unstorableTextProblem(ok), ok).toBeNull();
    }
  });

  it("puts the issue at the field's path and keeps the checks chained after it", () => {
    const schema = z.object({ q: storableText().trim().min(1).max(10).optional() }).strict();
    const refused = schema.safeParse({ q: "ab\u0000" });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues.map((i) => i.path)).toEqual([["q"]]);
    expect(schema.parse({ q: "  ab  " })).toEqual({ q: "ab" });
    expect(schema.safeParse({ q: "x".repeat(11) }).success).toBe(false);
  });
});

describe("contentSecurityPolicy", () => {
  it("allows scripts only with the nonce (and what they load), eval only in development", () => {
    const nonce = createNonce();
    const production = contentSecurityPolicy(nonce);
    expect(production).toContain(`script-src 'self' 'nonce-${nonce}' 'strict-dynamic';`);
    expect(production).not.toContain("unsafe-eval");
    expect(production).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(production).toContain("frame-ancestors 'none'");
    expect(contentSecurityPolicy(nonce, { development: true })).toContain("'strict-dynamic' 'unsafe-eval';");
  });

  it("makes a new base64 nonce of 16 random bytes each time", () => {
    const nonces = Array.from({ length: 50 }, createNonce);
    expect(new Set(nonces).size).toBe(50);
    for (const n of nonces) expect(atob(n)).toHaveLength(16);
  });
});
