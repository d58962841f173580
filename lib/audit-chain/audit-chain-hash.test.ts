import { createHash } from "node:crypto";

import { describe, expect, it } from "vitest";

import { canonicalAuditEntry, canonicalJson, canonicalSeal, linkHash, sealHash, type TChainEntry } from "./audit-chain-hash";

const KEY = "a-test-audit-chain-key-of-32-characters";

const ENTRY: TChainEntry = {
  id: "0B6F1A52-6C1D-4F55-9C55-0D9A1B1E2F30",
  createdAt: "2026-12-23T09:15:02.120Z",
  actorType: "admin",
  actorId: "5d1c6f0e-0000-4000-8000-000000000001",
  actorLabel: "Olga Ops (ops@example.com)",
  action: "payout.held",
  entityType: "payout",
  entityId: "3f2a",
  reason: "Provider asked to wait",
  before: '{"status": "scheduled", "amount": 1200}',
  after: '{"status": "on_hold", "nested": {"z": 1, "a": [2, {"y": null, "b": "é"}]}}',
  requestId: null,
  runId: "run_1",
};

describe("canonicalJson", () => {
  it("sorts keys at every depth, keeps array order, writes no whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: true, e: null }], c: "x" } })).toBe('{"a":{"c":"x","d":[3,{"e":null,"f":true}]},"b":1}');
  });

  it("is the same for the same value whatever the key order it was built in", () => {
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
  });

  it("refuses what JSON cannot carry", () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(/Not a JSON number/);
    expect(() => canonicalJson(new Date(0))).toThrow(/Not a JSON value/);
    expect(() => canonicalJson(1n)).toThrow(/Not a JSON value/);
  });
});

describe("canonicalAuditEntry", () => {
  it("is every column, keys sorted, the uuid lowercase and the JSON columns' keys sorted", () => {
    expect(canonicalAuditEntry(ENTRY)).toBe(
      '{"action":"payout.held","actorId":"5d1c6f0e-0000-4000-8000-000000000001","actorLabel":"Olga Ops (ops@example.com)",' +
        '"actorType":"admin","after":{"nested":{"a":[2,{"b":"é","y":null}],"z":1},"status":"on_hold"},' +
        '"before":{"amount":1200,"status":"scheduled"},"createdAt":"2026-12-23T09:15:02.120Z","entityId":"3f2a",' +
        '"entityType":"payout","id":"0b6f1a52-6c1d-4f55-9c55-0d9a1b1e2f30","reason":"Provider asked to wait",' +
        '"requestId":null,"runId":"run_1"}',
    );
  });

  it("does not depend on how PostgreSQL spaced or ordered the JSON", () => {
    const respaced = { ...ENTRY, before: '{"amount":1200,"status":"scheduled"}' };
    expect(canonicalAuditEntry(respaced)).toBe(canonicalAuditEntry(ENTRY));
  });

  it.each([
    ["id", { id: "0b6f1a52-6c1d-4f55-9c55-0d9a1b1e2f31" }],
    ["createdAt (one millisecond)", { createdAt: "2026-12-23T09:15:02.121Z" }],
    ["actorType", { actorType: "system" }],
    ["actorId", { actorId: null }],
    ["actorLabel", { actorLabel: "Olga Ops" }],
    ["action", { action: "payout.released" }],
    ["entityType", { entityType: "booking" }],
    ["entityId", { entityId: "3f2b" }],
    ["reason", { reason: "Provider asked to wait." }],
    ["reason to NULL", { reason: null }],
    ["before (one value)", { before: '{"status": "scheduled", "amount": 1201}' }],
    ["before to SQL NULL", { before: null }],
    ["after to JSON null", { after: "null" }],
    ["requestId", { requestId: "req_1" }],
    ["runId", { runId: null }],
  ] satisfies [string, Partial<TChainEntry>][])("changes when %s changes", (_column, change) => {
    expect(canonicalAuditEntry({ ...ENTRY, ...change })).not.toBe(canonicalAuditEntry(ENTRY));
  });

  it("tells a JSON null from an SQL NULL", () => {
    expect(canonicalAuditEntry({ ...ENTRY, before: null })).not.toContain('"before"');
    expect(canonicalAuditEntry({ ...ENTRY, before: "null" })).toContain('"before":null');
  });
});

describe("linkHash and sealHash", () => {
  it("are HMACs: a plain SHA-256 of the same text, or another key, gives another hash", () => {
    const hash = linkHash(KEY, 1n, null, ENTRY);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(linkHash(KEY, 1n, null, ENTRY));
    const plain = createHash("sha256")
      .update(`audit-link/v1\n1\n\n${canonicalAuditEntry(ENTRY)}`)
      .digest("hex");
    expect(hash).not.toBe(plain);
    expect(hash).not.toBe(linkHash(`${KEY}!`, 1n, null, ENTRY));
  });

  it("a link's hash depends on its position and the previous link's hash", () => {
    const first = linkHash(KEY, 1n, null, ENTRY);
    expect(linkHash(KEY, 2n, first, ENTRY)).not.toBe(linkHash(KEY, 2n, null, ENTRY));
    expect(linkHash(KEY, 2n, first, ENTRY)).not.toBe(linkHash(KEY, 3n, first, ENTRY));
  });

  it("a seal's hash covers every field, the previous seal's hash included", () => {
    const seal = {
      sequence: 3,
      firstPosition: 11n,
      lastPosition: 20n,
      entryCount: 10,
      lastLinkHash: "a".repeat(64),
      previousHash: "b".repeat(64),
      sealedAt: new Date("2026-12-23T09:20:00.000Z"),
    };
    expect(canonicalSeal(seal)).toBe(
      `{"entryCount":10,"firstPosition":"11","lastLinkHash":"${"a".repeat(64)}","lastPosition":"20",` +
        `"previousHash":"${"b".repeat(64)}","sealedAt":"2026-12-23T09:20:00.000Z","sequence":3}`,
    );
    const hash = sealHash(KEY, seal);
    for (const change of [
      { sequence: 4 },
      { firstPosition: 12n },
      { lastPosition: 21n },
      { entryCount: 9 },
      { lastLinkHash: "c".repeat(64) },
      { previousHash: null },
      { sealedAt: new Date("2026-12-23T09:20:00.001Z") },
    ]) {
      expect(sealHash(KEY, { ...seal, ...change })).not.toBe(hash);
    }
  });
});
